using System.Text.RegularExpressions;
using FleetTwin.Api.V1;
using FleetTwin.Cli.Commands;
using FleetTwin.Cli.Output;
using FleetTwin.Cli.Tests.Support;
using FleetTwin.Tests.Shared;
using Google.Protobuf;
using Spectre.Console.Testing;

namespace FleetTwin.Cli.Tests;

/// <summary>
/// What the CLI's human output looks like where it goes: on a terminal, tables with borders and each risk level in its
/// colour, and live progress bars; on a pipe or with NO_COLOR, plain aligned text without a single escape sequence;
/// <c>--json</c> the API's JSON byte for byte wherever it goes. The binary runs as its own process, on pipes and on a
/// pseudo-terminal (util-linux <c>script</c>), against the in-process KB silo.
/// </summary>
[Collection(KbSilo.Collection)]
public partial class TerminalOutputTests(KbSiloFixture kb)
{
    private static readonly Dictionary<string, string?> Xterm = new() { ["TERM"] = "xterm-256color" };

    /// <summary>
    /// A terminal's bytes as lines: CR LF as the tty made them become LF, and the keypad-mode switch the .NET runtime
    /// itself writes to a terminal at start (terminfo smkx/rmkx: ESC[?1h ESC=) is not the CLI's output.
    /// </summary>
    private static string Lines(string terminal) => KeypadMode().Replace(terminal, "").Replace("\r\n", "\n", StringComparison.Ordinal);

    [GeneratedRegex(@"\x1b\[\?1[hl]\x1b[=>]")]
    private static partial Regex KeypadMode();

    /// <summary>SGR (colour and bold) escape sequences, ECMA-48 8.3.117.</summary>
    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex Sgr();

    /// <summary>critical in bold red: 256-colour red (9), or the 16-colour bright or plain red when TERM says fewer colours.</summary>
    [GeneratedRegex(@"\x1b\[1;(38;5;9|91|31)mcritical\x1b\[0m")]
    private static partial Regex BoldRedCritical();

    private static HostSummary Summary(string name, string pool, RiskLevel risk, long exhaustions) =>
        new() { Name = name, Pool = pool, Risk = risk, XenserverRelease = "6.2", ExhaustionEvents = exhaustions, Drivers = { "bnx2x" }, Mtus = { 9000 }, GroOff = true };

    [Fact]
    public void A_plain_hosts_table_is_columns_of_text_one_host_a_line_whatever_its_width()
    {
        var longPool = new string('p', 300);
        var table = HostsCommand.Table([Summary("host-a", longPool, RiskLevel.Critical, 18), Summary("host-b", "pool-b", RiskLevel.Ok, 0)]);

        var text = table.Render(Terminal.Plain(TextWriter.Null));

        Assert.DoesNotContain('\x1b', text);
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length); // no row wrapped at 80 columns
        Assert.StartsWith("HOST    POOL", lines[0], StringComparison.Ordinal);
        Assert.StartsWith($"host-a  {longPool}  critical  6.2", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("host-b  pool-b", lines[2], StringComparison.Ordinal);
        Assert.All(lines, l => Assert.False(l.EndsWith(' '), $"trailing blanks: '{l}'"));
        // Counts right-aligned under their header.
        Assert.Equal(lines[0].IndexOf("EXHAUSTIONS", StringComparison.Ordinal) + "EXHAUSTIONS".Length, lines[1].IndexOf("18", StringComparison.Ordinal) + 2);
    }

    [Fact]
    public void Plain_columns_are_what_Spectre_draws_without_a_border_indented_or_not()
    {
        var table = HostsCommand.Table([Summary("host-a", "a-long-pool-name", RiskLevel.Critical, 18), Summary("h", "p", RiskLevel.Unspecified, 123456)]);
        var plain = Terminal.Plain(TextWriter.Null);

        Assert.Equal(plain.Render(table.For(plain)), table.Render(plain));
        Assert.Equal(plain.Render(new Spectre.Console.Padder(table.For(plain), new Spectre.Console.Padding(2, 0, 0, 0))), table.Render(plain, indent: 2));
    }

    [Fact]
    public void On_a_colour_console_each_risk_level_has_its_colour()
    {
        var console = new TestConsole().EmitAnsiSequences().Colors(Spectre.Console.ColorSystem.EightBit);
        console.Profile.Width = 160;

        console.Write(HostsCommand.Table([Summary("host-a", "p", RiskLevel.Critical, 18), Summary("host-b", "p", RiskLevel.Warning, 2),
            Summary("host-c", "p", RiskLevel.Latent, 0), Summary("host-d", "p", RiskLevel.Ok, 0)]).For(Terminal.Colour(TextWriter.Null)));

        Assert.Matches(BoldRedCritical(), console.Output);
        Assert.Contains("\x1b[38;5;208mwarning\x1b[0m", console.Output, StringComparison.Ordinal); // dark orange
        Assert.Contains("\x1b[38;5;11mlatent\x1b[0m", console.Output, StringComparison.Ordinal);  // yellow
        Assert.Contains("\x1b[38;5;2mok\x1b[0m", console.Output, StringComparison.Ordinal);       // green
    }

    [Theory]
    [InlineData(null, null, true)]
    [InlineData("", "xterm-256color", true)]
    [InlineData("1", "xterm-256color", false)]
    [InlineData(null, "dumb", false)]
    public void NO_COLOR_set_to_anything_but_empty_or_a_dumb_TERM_turn_colour_off(string? noColor, string? term, bool colour) =>
        Assert.Equal(colour, Terminal.ColourAllowed(noColor, term));

    [Fact(Timeout = 180_000)]
    public async Task Piped_hosts_output_has_no_escape_sequence_and_shows_each_hosts_risk_level()
    {
        var (exit, stdout, stderr) = await CliProcess.OnPipesAsync(Xterm, "hosts", "--endpoint", kb.Silo.Endpoint);

        Assert.Equal(0, exit);
        Assert.DoesNotContain('\x1b', stdout);
        Assert.DoesNotContain('\x1b', stderr);
        var lines = stdout.TrimEnd('\n').Split('\n');
        Assert.Matches("^HOST +POOL +RISK +RELEASE", lines[0]);
        Assert.Matches($"^{KbSiloFixture.KbHost} +{KbSiloFixture.KbPool} +critical +6.2 ", Assert.Single(lines, l => l.StartsWith(KbSiloFixture.KbHost, StringComparison.Ordinal)));
        Assert.Matches("^[0-9]+ hosts: [0-9]+ critical", stderr);
    }

    [SkippableFact(Timeout = 180_000)]
    public async Task On_a_terminal_the_hosts_table_has_borders_and_the_KB_host_critical_in_bold_red()
    {
        var (exit, terminal) = await CliProcess.OnTerminalAsync(Xterm, "hosts", "--endpoint", kb.Silo.Endpoint);

        Assert.Equal(0, exit);
        var lines = Lines(terminal).Split('\n');
        var row = Assert.Single(lines, l => l.Contains(KbSiloFixture.KbHost, StringComparison.Ordinal));
        Assert.Matches(BoldRedCritical(), row);
        Assert.Contains('│', row);
        Assert.Contains(lines, l => l.Contains('╭'));
    }

    [SkippableFact(Timeout = 180_000)]
    public async Task NO_COLOR_on_a_terminal_prints_exactly_what_a_pipe_gets()
    {
        var noColor = new Dictionary<string, string?>(Xterm) { ["NO_COLOR"] = "1" };
        var (_, piped, pipedErrors) = await CliProcess.OnPipesAsync(noColor, "hosts", "--endpoint", kb.Silo.Endpoint);

        var (exit, terminal) = await CliProcess.OnTerminalAsync(noColor, "hosts", "--endpoint", kb.Silo.Endpoint);

        Assert.Equal(0, exit);
        Assert.DoesNotMatch(Sgr(), terminal);
        Assert.Equal(piped + pipedErrors, Lines(terminal));
    }

    [SkippableFact(Timeout = 180_000)]
    public async Task Json_is_the_APIs_JSON_byte_for_byte_on_a_pipe_and_on_a_terminal()
    {
        var page = await kb.Silo.Twin.ListHostsAsync(new ListHostsRequest { PageSize = 1000 });
        var hosts = "[" + string.Join(",\n ", page.Hosts.Select(h => JsonFormatter.Default.Format(h))) + "]\n";
        var host = JsonFormatter.Default.Format(await kb.Silo.Twin.GetHostAsync(new GetHostRequest { Name = KbSiloFixture.KbHost })) + "\n";

        var (_, pipedHosts, _) = await CliProcess.OnPipesAsync(Xterm, "hosts", "--json", "--endpoint", kb.Silo.Endpoint);
        var (_, pipedHost, _) = await CliProcess.OnPipesAsync(Xterm, "host", KbSiloFixture.KbHost, "--json", "--endpoint", kb.Silo.Endpoint);
        var (_, terminalHosts) = await CliProcess.OnTerminalAsync(Xterm, "hosts", "--json", "--endpoint", kb.Silo.Endpoint);

        Assert.Equal(hosts, pipedHosts);
        Assert.Equal(host, pipedHost);
        Assert.Equal(hosts, Lines(terminalHosts));
    }

    [SkippableFact(Timeout = 240_000)]
    public async Task A_what_if_draws_a_live_progress_bar_on_a_terminal_and_none_on_a_pipe()
    {
        string[] whatIf = ["simulate", "--pool", KbSiloFixture.KbPool, "--change", "gro=on", "--hours", "0.25", "--endpoint", kb.Silo.Endpoint];

        var (exit, stdout, stderr) = await CliProcess.OnPipesAsync(Xterm, whatIf);
        var (terminalExit, terminal) = await CliProcess.OnTerminalAsync(Xterm, whatIf);

        Assert.Equal((0, 0), (exit, terminalExit));
        Assert.StartsWith($"scenario built: pool {KbSiloFixture.KbPool}", stderr, StringComparison.Ordinal);
        Assert.Equal(1, stderr.Count(c => c == '\n')); // that line only: no progress line, no carriage returns
        Assert.DoesNotContain('\r', stderr);
        Assert.DoesNotContain('\x1b', stdout + stderr);
        Assert.StartsWith("HOST ", stdout, StringComparison.Ordinal);
        // Spectre's bar (U+2501) at 100 %, redrawn in place (cursor up, ECMA-48 CUU), then the bordered table.
        Assert.Contains("━", terminal, StringComparison.Ordinal);
        Assert.Contains("100%", Sgr().Replace(terminal, ""), StringComparison.Ordinal);
        Assert.Matches(@"\x1b\[[0-9]*A", terminal);
        Assert.Contains("│ HOST", Sgr().Replace(terminal, ""), StringComparison.Ordinal);
    }

    [Fact]
    public void A_watched_alert_is_one_plain_line_off_a_terminal_and_coloured_on_one()
    {
        var alert = new Alert { Sequence = 7, Host = "h", Pool = "p", Kind = AlertKind.RiskChanged, PreviousRisk = RiskLevel.Warning, Risk = RiskLevel.Critical, Reason = "why" };

        Assert.Equal("-  #7  h (p)  risk warning -> critical: why", WatchCommand.Render(alert, Terminal.Plain(TextWriter.Null)));
        Assert.Matches(BoldRedCritical(), WatchCommand.Render(alert, Terminal.Colour(TextWriter.Null)));
    }
}
