using System.CommandLine;
using System.Text.Json;
using FleetTwin.Cli;
using FleetTwin.Cli.Commands;

namespace FleetTwin.Api.Tests;

/// <summary>The CLI's API verbs against a running (test) silo: tables, --json, one-line errors and exit codes.</summary>
public class CliTests(KbSiloFixture kb) : IClassFixture<KbSiloFixture>
{
    private async Task<(int Exit, string Stdout, string Stderr)> Cli(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var root = new RootCommand();
        root.Subcommands.Add(HostsCommand.Create(stdout, stderr));
        root.Subcommands.Add(HostCommand.Create(stdout, stderr));
        root.Subcommands.Add(WatchCommand.Create(stdout, stderr));
        root.Subcommands.Add(IngestCommand.Create(stdout, stderr));
        root.Subcommands.Add(PlanCommand.Create(stdout, stderr));
        var exit = await root.Parse([.. args, "--endpoint", kb.Silo.Endpoint]).InvokeAsync();
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Hosts_at_risk_warning_lists_the_KB_host_as_critical_in_a_table()
    {
        var (exit, stdout, _) = await Cli("hosts", "--risk", "warning");

        Assert.Equal(0, exit);
        var lines = stdout.TrimEnd().Split('\n');
        Assert.StartsWith("HOST", lines[0], StringComparison.Ordinal);
        var row = Assert.Single(lines.Skip(1), l => l.StartsWith(KbSiloFixture.KbHost, StringComparison.Ordinal));
        Assert.Contains("critical", row, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hosts_json_is_an_array_scripts_can_read()
    {
        var (exit, stdout, _) = await Cli("hosts", "--pool", KbSiloFixture.KbPool, "--json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(stdout);
        Assert.All(json.RootElement.EnumerateArray(), h => Assert.Equal(KbSiloFixture.KbPool, h.GetProperty("pool").GetString()));
        Assert.NotEmpty(json.RootElement.EnumerateArray());
    }

    [Fact]
    public async Task Host_shows_the_exhaustions_per_device_and_the_panic_cause()
    {
        var (exit, stdout, _) = await Cli("host", KbSiloFixture.KbHost);

        Assert.Equal(0, exit);
        Assert.Contains("exhaustion 18 records, largest failed mapping 33302 bytes", stdout, StringComparison.Ordinal);
        Assert.Contains("0000:04:00.1 eth5: 15", stdout, StringComparison.Ordinal);
        Assert.Contains("via bnx2x_start_xmit", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_host_is_one_line_on_stderr_and_exit_3()
    {
        var (exit, stdout, stderr) = await Cli("host", "no-such-host");

        Assert.Equal(3, exit);
        Assert.Empty(stdout);
        Assert.Equal("fleettwin host: name: no host 'no-such-host' in the twin", stderr.TrimEnd()[..56]);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Plan_without_files_prints_the_twins_plan_for_the_pool()
    {
        var (exit, stdout, _) = await Cli("plan", "--pool", KbSiloFixture.KbPool, "--format", "json");

        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(KbSiloFixture.KbPool, json.RootElement.GetProperty("pool").GetString());
        Assert.Equal(json.RootElement.GetProperty("complete").GetBoolean() ? 0 : 4, exit);
    }

    [Fact]
    public async Task Watch_with_a_count_prints_the_kept_alerts_and_stops()
    {
        var (exit, stdout, stderr) = await Cli("watch", "--resume", "0.0", "--count", "2");

        Assert.Equal(0, exit);
        Assert.Equal(2, stdout.TrimEnd().Split('\n').Length);
        Assert.Contains("may have been missed", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_sends_a_file_and_reports_its_counts_per_host()
    {
        var file = Path.Combine(Path.GetTempPath(), $"fleettwin-cli-{Guid.NewGuid():N}.log");
        await File.WriteAllLinesAsync(file, ["Sep 17 05:00:01 cli-host kernel: [ 100.000000] PCI-DMA: Out of SW-IOMMU space for 16384 bytes at device 0000:04:00.0"]);
        try
        {
            var (exit, stdout, _) = await Cli("ingest", file, "--year", "2014");

            Assert.Equal(0, exit);
            Assert.Contains("1 lines accepted, 1 recognised, 0 rejected", stdout, StringComparison.Ordinal);
            Assert.Contains("cli-host: 1 events applied", stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
