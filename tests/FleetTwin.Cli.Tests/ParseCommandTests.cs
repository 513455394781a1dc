using System.CommandLine;
using System.Text;
using System.Text.Json;
using FleetTwin.Cli.Commands;
using FleetTwin.Cli.Offline;
using FleetTwin.Ingest.Tests.Support;

namespace FleetTwin.Cli.Tests;

/// <summary><c>fleettwin parse</c> run in-process on the golden files, through the real command-line parsing.</summary>
public class ParseCommandTests
{
    private static (int Exit, string Stdout, string Stderr) Run(string[] args, string stdin = "")
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var root = new RootCommand();
        root.Subcommands.Add(ParseCommand.Create(stdout, stderr, () => new MemoryStream(Encoding.UTF8.GetBytes(stdin))));
        int exit = root.Parse(args).Invoke();
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static List<JsonElement> JsonLines(string stdout)
        => [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];

    [Fact]
    public void Json_output_of_kern_log_has_the_issue_field_names_and_the_incident_events()
    {
        var (exit, stdout, stderr) = Run(["parse", Golden.PathOf("kb-incident/kern.log"), "--year", "2014", "--json"]);

        Assert.Equal(0, exit);
        var events = JsonLines(stdout);
        var exhausted = events.Where(e => e.GetProperty("type").GetString() == "swiotlb_exhausted").ToList();
        Assert.Equal(17, exhausted.Count);
        var first = exhausted[0];
        Assert.Equal(["type", "host", "uptime", "time"], first.EnumerateObject().Take(4).Select(p => p.Name));
        Assert.Equal("bn2-3c16-ix-4104", first.GetProperty("host").GetString());
        Assert.Equal(2777545.97271, first.GetProperty("uptime").GetDouble(), 6);
        Assert.Equal("2014-09-17T05:05:06+00:00", first.GetProperty("time").GetString());
        Assert.Equal(25158, first.GetProperty("bytes").GetInt64());
        Assert.Equal("0000:04:00.0", first.GetProperty("device").GetString());

        var boot = Assert.Single(events, e => e.GetProperty("type").GetString() == "kernel_boot");
        Assert.Equal("2.6.32.43-0.4.1.xs1.8.0.853.170791xen", boot.GetProperty("kernel_version").GetString());
        Assert.Equal("6.2", boot.GetProperty("xenserver_release").GetString());
        var started = Assert.Single(events, e => e.GetProperty("type").GetString() == "vm_started");
        Assert.Equal(174, started.GetProperty("domid").GetInt32());

        Assert.Contains("lines read: 37", stderr);
        Assert.Contains("swiotlb_exhausted=17", stderr);
        Assert.Contains("unrecognised: 1", stderr);
        Assert.Contains("malformed: 0", stderr);
    }

    [Fact]
    public void Json_output_of_dom0_log_has_the_panic_with_message_comm_pid_and_trace()
    {
        var (exit, stdout, _) = Run(["parse", Golden.PathOf("kb-incident/dom0.log"), "--host", "bn2-3c16-ix-4104", "--json"]);

        Assert.Equal(0, exit);
        var panic = Assert.Single(JsonLines(stdout), e => e.GetProperty("type").GetString() == "kernel_panic");
        Assert.Equal("DMA: Random memory could be DMA read", panic.GetProperty("message").GetString());
        Assert.Equal("netback/2", panic.GetProperty("comm").GetString());
        Assert.Equal(1196, panic.GetProperty("pid").GetInt32());
        Assert.Equal("bn2-3c16-ix-4104", panic.GetProperty("host").GetString());
        Assert.Equal(["panic", "swiotlb_full", "swiotlb_map_page", "bnx2x_start_xmit"],
            panic.GetProperty("trace").EnumerateArray().Take(4).Select(f => f.GetString()));
        Assert.False(panic.TryGetProperty("time", out _));
    }

    [Fact]
    public void Several_files_and_stdin_are_read_in_order_and_summed()
    {
        var stdin = File.ReadAllText(Golden.PathOf("kb-incident/dom0.log"));
        var (exit, stdout, stderr) = Run(["parse", Golden.PathOf("kb-incident/kern.log.flattened"), "-", "--year", "2014", "--host", "h", "--json"], stdin);

        Assert.Equal(0, exit);
        Assert.Equal(17 + 18, JsonLines(stdout).Count(e => e.GetProperty("type").GetString() == "swiotlb_exhausted"));
        Assert.Contains("lines read: 85", stderr);
    }

    [Fact]
    public void Without_json_each_event_is_one_readable_line_with_its_source_position()
    {
        var (exit, stdout, _) = Run(["parse", Golden.PathOf("kb-incident/kern.log"), "--year", "2014"]);

        Assert.Equal(0, exit);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(21, lines.Length);
        Assert.Contains(lines, l => l.Contains("swiotlb_exhausted bytes=25158 device=0000:04:00.0", StringComparison.Ordinal) && l.EndsWith("kern.log:18)", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unreadable_file_exits_2_and_names_the_file()
    {
        var missing = Path.Combine(Path.GetTempPath(), "fleettwin-no-such-" + Guid.NewGuid().ToString("N") + ".log");

        var (exit, _, stderr) = Run(["parse", missing]);

        Assert.Equal(2, exit);
        Assert.Contains(missing, stderr);
    }

    [Fact]
    public void A_directory_given_as_a_file_exits_2_and_names_it()
    {
        var (exit, _, stderr) = Run(["parse", AppContext.BaseDirectory]);

        Assert.Equal(2, exit);
        Assert.Contains(AppContext.BaseDirectory, stderr);
    }
}
