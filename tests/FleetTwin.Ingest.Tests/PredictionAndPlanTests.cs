using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using FleetTwin.Cli;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Planning;
using FleetTwin.Domain.Prediction;
using FleetTwin.Ingest.Tests.Support;

namespace FleetTwin.Ingest.Tests;

/// <summary>
/// The KB incident end to end (its logs plus an xe/ethtool transcript of its pool, Golden/kb-pool), the synthetic
/// incidents, the backtest and plan verbs in-process, and the generated script run against fake xe/ethtool/ssh.
/// </summary>
public class PredictionAndPlanTests
{
    private const string KbHost = "bn2-3c16-ix-4104";
    private static readonly string[] KbLogs = [Golden.PathOf("kb-incident/kern.log"), Golden.PathOf("kb-incident/dom0.log")];
    private static readonly string Transcript = Golden.PathOf("kb-pool/kb-pool-transcript.txt");

    private static (int Exit, string Stdout, string Stderr) Cli(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var root = new RootCommand();
        root.Subcommands.Add(BacktestCommand.Create(stdout, stderr));
        root.Subcommands.Add(PlanCommand.Create(stdout, stderr));
        var exit = root.Parse(args).Invoke();
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void The_KB_host_is_critical_100_minutes_before_its_panic()
    {
        var fleet = OfflineFleet.Read([.. KbLogs, Transcript], KbHost, 2014);

        var report = Backtest.Run(fleet.Events, fleet.ConfigurationOf);

        var panic = Assert.Single(report.Panics);
        Assert.Equal((KbHost, 2783556.069986), (panic.Host, Math.Round(panic.PanicUptime, 6)));
        Assert.Equal(2777545.97271, panic.FirstAlertUptime!.Value, 5);
        Assert.Equal(6010.1, panic.LeadTimeSeconds, 1);
        Assert.StartsWith("bnx2x bond eth4+eth5, MTU 9000, GRO off; 64 MiB swiotlb; 1 exhaustion event", panic.AlertReason, StringComparison.Ordinal);
        Assert.Equal(0, report.FalseAlarms);
    }

    [Fact]
    public void Just_before_the_panic_the_reason_reads_like_the_issue_asks()
    {
        var fleet = OfflineFleet.Read([KbLogs[0], Transcript], KbHost, 2014);

        var prediction = fleet.Predict()[KbHost];

        Assert.Equal(RiskLevel.Critical, prediction.Level);
        Assert.StartsWith("bnx2x bond eth4+eth5, MTU 9000, GRO off; 64 MiB swiotlb; 17 exhaustion events in 85 min, rising", prediction.Reason, StringComparison.Ordinal);
        Assert.Contains("largest failed mapping 30714 B, 2054 B under the 32768 B overflow limit", prediction.Reason, StringComparison.Ordinal);
        Assert.Contains("first failure 4 min after domain 174 started", prediction.Reason, StringComparison.Ordinal);
        Assert.InRange(prediction.ExpectedSecondsToPanic!.Value, 30 * 60, 3 * 3600);
    }

    [Fact]
    public void The_transcript_of_the_KB_pool_is_read_into_an_inventory_with_its_master_hosts_bonds_and_VMs()
    {
        var inventory = OfflineFleet.Read([Transcript], null, 2014).Inventory;

        var pool = inventory.FindPool("bn2-3c16")!;
        Assert.Equal("bn2-3c16-ix-4101", inventory.MasterOf(pool)!.Name);
        Assert.Equal(["bn2-3c16-ix-4101", "bn2-3c16-ix-4102", "bn2-3c16-ix-4104"], inventory.HostsOf(pool).Select(h => h.Name));
        var host = inventory.Hosts[KbHost];
        Assert.Equal(("6.2", 6), (host.Release, inventory.VmsOn(host).Count));
        var bond = inventory.NicsOf(host).Single(n => n.Device == "bond0").Pif!.BondMasterOf!;
        Assert.Equal(["eth4", "eth5"], inventory.MembersOf(bond).Select(p => p.Device));
        Assert.Equal(("bnx2x", "0000:04:00.1", false), (inventory.NicsOf(host).Single(n => n.Device == "eth5").Driver, host.NicsByDevice["eth5"].BusId, host.NicsByDevice["eth5"].GroOn));
    }

    [Fact]
    public void The_KB_pool_plan_sets_GRO_on_the_eth4_and_the_eth5_member_PIF_of_every_host_after_checking_the_hotfix()
    {
        var fleet = OfflineFleet.Read([.. KbLogs[..1], Transcript], KbHost, 2014);
        var plan = RollingPlanner.Plan(fleet.Inventory, "bn2-3c16", fleet.Predict());

        Assert.True(plan.Complete);
        Assert.Equal(["bn2-3c16-ix-4101", KbHost, "bn2-3c16-ix-4102"], plan.Steps.OrderBy(s => s.Order).Select(s => s.Host));
        foreach (var step in plan.Steps)
        {
            var host = fleet.Inventory.Hosts[step.Host];
            var pifs = fleet.Inventory.NicsOf(host).ToDictionary(n => n.Device, n => n.Pif!.Uuid);
            Assert.Equal(
                [$"xe pif-param-set other-config:ethtool-gro=on uuid={pifs["eth4"]}", $"xe pif-param-set other-config:ethtool-gro=on uuid={pifs["eth5"]}"],
                step.Changes.Select(c => c.Command));
            Assert.NotEqual(pifs["eth4"], pifs["eth5"]);
            Assert.All(step.Prerequisites, p => Assert.True(p.Met));
            Assert.Contains(step.Prerequisites, p => p.Evidence == "XS62ESP1004 applied");
            Assert.Equal(["ethtool -k eth4 shows generic-receive-offload: on", "ethtool -k eth5 shows generic-receive-offload: on"], step.Verifications);
            Assert.NotEmpty(step.Moves);
        }
    }

    [Fact]
    public void Backtest_json_of_the_KB_and_synthetic_incidents_scores_every_panic()
    {
        var synthetic = Directory.GetFiles(Golden.PathOf("synthetic"), "*.log").Order(StringComparer.Ordinal);
        var (exit, stdout, _) = Cli(["backtest", .. KbLogs, .. synthetic, "--host", KbHost, "--year", "2014", "--json"]);

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(stdout);
        var panics = json.RootElement.GetProperty("panics").EnumerateArray().ToList();
        Assert.Equal(4, panics.Count);
        var kb = panics.Single(p => p.GetProperty("host").GetString() == KbHost);
        Assert.Equal(6010.1, kb.GetProperty("lead_time_seconds").GetDouble(), 1);
        Assert.Equal(panics.Count(p => p.GetProperty("lead_time_seconds").GetDouble() == 0), json.RootElement.GetProperty("missed_panics").GetInt32());
        Assert.Equal(0, json.RootElement.GetProperty("false_alarms").GetInt32());
        Assert.True(json.RootElement.GetProperty("host_days").GetDouble() > 3);
    }

    [Fact]
    public void Backtest_without_files_says_the_running_twin_mode_is_not_available_yet_and_exits_2()
    {
        var backtest = Cli("backtest");

        Assert.Equal(2, backtest.Exit);
        Assert.Contains("asking a running twin is not available yet", backtest.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_without_files_asks_the_running_twin_and_says_in_one_line_when_none_answers()
    {
        // Nothing listens on port 1: the plan verb goes to the twin's gRPC API (PlanService) and reports where it looked.
        var plan = Cli("plan", "--pool", "bn2-3c16", "--endpoint", "http://127.0.0.1:1");

        Assert.Equal(1, plan.Exit);
        Assert.StartsWith("fleettwin plan: cannot reach the twin at http://127.0.0.1:1", plan.Stderr, StringComparison.Ordinal);
        Assert.Single(plan.Stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Plan_for_an_unknown_pool_is_one_line_naming_the_pools_read_and_exit_3()
    {
        var (exit, stdout, stderr) = Cli("plan", "--pool", "prod-9", Transcript);

        Assert.Equal(3, exit);
        Assert.Empty(stdout);
        Assert.Equal("fleettwin plan: unknown pool 'prod-9' (pools in the files: bn2-3c16)", stderr.Trim());
    }

    [Fact]
    public void Plan_json_lists_the_steps_with_their_commands()
    {
        var (exit, stdout, _) = Cli("plan", "--pool", "bn2-3c16", "--format", "json", Transcript);

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(stdout);
        var steps = json.RootElement.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(3, steps.Count);
        Assert.All(steps, s => Assert.Equal("reboot_with_changes", s.GetProperty("action").GetString()));
        Assert.True(steps.Single(s => s.GetProperty("is_master").GetBoolean()).GetProperty("order").GetInt32() == 1);
    }
}
