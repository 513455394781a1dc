using System.CommandLine;
using System.Text.Json;
using FleetTwin.Cli.Commands;
using FleetTwin.Cli.Tests.Support;
using FleetTwin.Tests.Shared;

namespace FleetTwin.Cli.Tests;

/// <summary>The CLI's API verbs against a running (test) silo: tables, --json, one-line errors and exit codes.</summary>
[Collection(KbSilo.Collection)]
public class ApiVerbTests(KbSiloFixture kb)
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
        root.Subcommands.Add(SimulateCommand.Create(stdout, stderr));
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
        Assert.True(json.RootElement.GetProperty("complete").GetBoolean());
        Assert.Equal(PlanCommand.ExitOk, exit);
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

    [Fact]
    public async Task Simulate_pool_runs_the_what_if_on_the_twin_and_prints_baseline_vs_what_if_per_host()
    {
        var (exit, stdout, stderr) = await Cli("simulate", "--pool", KbSiloFixture.KbPool, "--change", "gro=on", "--hours", "1", "--vms-per-host", "60");

        Assert.Equal(0, exit);
        Assert.StartsWith($"scenario built: pool {KbSiloFixture.KbPool}, 3 hosts", stderr, StringComparison.Ordinal);
        var lines = stdout.Split('\n');
        Assert.StartsWith("HOST", lines[0], StringComparison.Ordinal);
        Assert.Equal(3, lines.Count(l => l.StartsWith("bn2-3c16-ix-41", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith(KbSiloFixture.KbHost, StringComparison.Ordinal) && l.Contains("yes -> no", StringComparison.Ordinal) && l.EndsWith("gro=on on every host", StringComparison.Ordinal));
        Assert.Contains("; what-if (gro=on on every host) 0 panics on 0 hosts", stdout, StringComparison.Ordinal);
        Assert.Contains("  assumed: storage traffic on bond0 (eth4+eth5)", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulate_pool_json_prints_the_twins_results_with_a_host_change_for_that_host()
    {
        var (exit, stdout, _) = await Cli("simulate", "--pool", KbSiloFixture.KbPool, "--change", $"{KbSiloFixture.KbHost}:swiotlb=128", "--hours", "0.25", "--json", "--quiet");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(stdout);
        var change = Assert.Single(json.RootElement.GetProperty("changes").EnumerateArray());
        Assert.Equal((KbSiloFixture.KbHost, "swiotlb", "128"), (change.GetProperty("host").GetString(), change.GetProperty("setting").GetString(), change.GetProperty("value").GetString()));
    }

    [Theory]
    [InlineData(2, "fleettwin simulate: give a SCENARIO file or --pool, not both ('kb.yaml' and --pool bn2-3c16)", "simulate", "kb.yaml", "--pool", "bn2-3c16")]
    [InlineData(2, "fleettwin simulate: --change 'gro': expected [HOST:]SETTING=VALUE (gro=on, bn2-3c16-ix-4104:swiotlb=128)", "simulate", "--pool", "bn2-3c16", "--change", "gro")]
    [InlineData(2, "fleettwin simulate: --change ':gro=on': expected [HOST:]SETTING=VALUE (gro=on, bn2-3c16-ix-4104:swiotlb=128)", "simulate", "--pool", "bn2-3c16", "--change", ":gro=on")]
    [InlineData(2, "fleettwin simulate: changes[0].host: no host 'no-such-host' in pool 'bn2-3c16' (its hosts: bn2-3c16-ix-4101, bn2-3c16-ix-4102, bn2-3c16-ix-4104; empty means every host) (InvalidArgument)", "simulate", "--pool", "bn2-3c16", "--change", "no-such-host:gro=on")]
    [InlineData(2, "fleettwin simulate: changes[0].value: 'maybe' is not on or off (gro) (InvalidArgument)", "simulate", "--pool", "bn2-3c16", "--change", "gro=maybe")]
    [InlineData(3, "fleettwin simulate: pool: unknown pool 'prod-9': no xe pool-list names it (pools read: bn2-3c16) (NotFound)", "simulate", "--pool", "prod-9")]
    [InlineData(2, "fleettwin simulate: --out is for SCENARIO files; with --pool the twin runs the what-if (see --json)", "simulate", "--pool", "bn2-3c16", "--out", "x")]
    [InlineData(2, "fleettwin simulate: --vms-per-host is for --pool (a SCENARIO file says it in the file)", "simulate", "kb.yaml", "--vms-per-host", "3")]
    public async Task Simulate_pool_errors_are_one_line_with_the_exit_code(int expectedExit, string expected, params string[] args)
    {
        var (exit, stdout, stderr) = await Cli(args);

        Assert.Equal(expectedExit, exit);
        Assert.Empty(stdout);
        Assert.Equal(expected, stderr.TrimEnd());
    }
}
