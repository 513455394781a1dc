using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using FleetTwin.Cli.Commands;
using FleetTwin.Cli.Offline;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Planning;
using FleetTwin.Domain.Prediction;
using FleetTwin.Cli.Tests.Support;
using FleetTwin.Ingest.Tests.Support;

namespace FleetTwin.Cli.Tests;

/// <summary>
/// The KB incident end to end (its logs plus an xe/ethtool transcript of its pool, Golden/kb-pool), the synthetic
/// incidents, the backtest and plan verbs in-process (the generated script runs against a fake pool in PlanScriptTests).
/// </summary>
public class PredictionAndPlanTests
{
    private const string KbHost = "bn2-3c16-ix-4104";
    private static readonly string[] KbLogs = [Golden.PathOf("kb-incident/kern.log"), Golden.PathOf("kb-incident/dom0.log")];
    private static readonly string Transcript = Golden.PathOf("kb-pool/kb-pool-transcript.txt");

    private static (int Exit, string Stdout, string Stderr) Cli(params string[] args) => InProcessCli.Run([BacktestCommand.Create, PlanCommand.Create], args);

    [Fact]
    public void The_KB_host_is_critical_100_minutes_before_its_panic()
    {
        var fleet = OfflineFleet.Read([.. KbLogs, Transcript], KbHost, 2014);

        var report = Backtest.Run(fleet.Events, fleet.ConfigurationOf);

        var panic = Assert.Single(report.Panics);
        Assert.Equal((KbHost, 2783556.069986), (panic.Host, Math.Round(panic.PanicUptime, 6)));
        // Critical at the second failure, 8 s after the first: the log covers only the 4 min before them, so two in a
        // few minutes on a bnx2x port already support a rate whose panic hazard passes 50 % in 24 h.
        Assert.Equal(2777553.832648, Math.Round(panic.FirstAlertUptime!.Value, 6));
        // The second failure to the panic, both printk stamps to the microsecond.
        Assert.Equal(6002.237338, Math.Round(panic.LeadTimeSeconds, 6));
        Assert.StartsWith("bnx2x bond eth4+eth5, MTU 9000, GRO off; 64 MiB swiotlb; 2 exhaustion events in 4 min of log", panic.AlertReason, StringComparison.Ordinal);
        Assert.Equal(0, report.FalseAlarms);
    }

    [Fact]
    public void After_the_reboot_that_ends_the_KB_kern_log_the_host_is_critical_with_what_the_log_said_just_before_the_panic()
    {
        var fleet = OfflineFleet.Read([KbLogs[0], Transcript], KbHost, 2014);

        var prediction = fleet.Predict()[KbHost];

        // kern.log ends in the reboot 20 min after its 17th failure; the panic reached only the console (dom0.log).
        Assert.Equal((RiskLevel.Critical, RiskLevel.Latent), (prediction.Level, prediction.OwnBootLevel));
        Assert.StartsWith("critical when its log stopped 20 min ago and the host rebooted (a swiotlb panic shows only on the console): "
            + "bnx2x bond eth4+eth5, MTU 9000, GRO off; 64 MiB swiotlb; 17 exhaustion events in 90 min of log, rising (rate 4.97-9.24/h from 17 in the last 6 h)",
            prediction.Reason, StringComparison.Ordinal);
        Assert.Contains("largest failed mapping 30714 B, 2054 B under the 32768 B overflow limit", prediction.Reason, StringComparison.Ordinal);
        Assert.Contains("first failure 4 min after domain 174 started", prediction.Reason, StringComparison.Ordinal);
        // 1 / hazard: the 17 failures over the log's 1.49 h plus the prior hour, at the 80 % interval's lower end,
        // times bnx2x's share 0.056 (pinned to the second in PanicPredictorTests and the backtest's lead time).
        Assert.Contains("P(panic in 24 h) 100 %, expected in ~3.6 h", prediction.Reason, StringComparison.Ordinal);
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
        }
        // Evacuation, largest VM first, each onto the host with the most free memory that stays up; a rebooted host takes
        // the next host's VMs.
        Assert.Equal(
            [
                "bn2-3c16-ix-4101: backup-proxy-4101->bn2-3c16-ix-4102, iscsi-gw-4101->bn2-3c16-ix-4102, nfs-fe-4101->bn2-3c16-ix-4102, smb-fe-4101->bn2-3c16-ix-4102",
                "bn2-3c16-ix-4104: iscsi-gw-4104->bn2-3c16-ix-4101, nfs-fe-4104->bn2-3c16-ix-4101, smb-fe-4104->bn2-3c16-ix-4101, backup-proxy-4104->bn2-3c16-ix-4101, ldap-4104->bn2-3c16-ix-4101, metrics-4104->bn2-3c16-ix-4101",
                // The master's VMs went to the host that reboots last and move with it, to done hosts only.
                "bn2-3c16-ix-4102: backup-proxy-4101->bn2-3c16-ix-4104, iscsi-gw-4101->bn2-3c16-ix-4104, iscsi-gw-4102->bn2-3c16-ix-4104, nfs-fe-4101->bn2-3c16-ix-4104, nfs-fe-4102->bn2-3c16-ix-4101, smb-fe-4101->bn2-3c16-ix-4104, smb-fe-4102->bn2-3c16-ix-4101",
            ],
            plan.Steps.OrderBy(s => s.Order).Select(s => $"{s.Host}: {string.Join(", ", s.Moves.Select(m => $"{m.Vm}->{m.ToHost}"))}"));
    }

    [Fact]
    public void Backtest_json_of_the_KB_and_synthetic_incidents_with_their_configuration_catches_2_of_4_panics_in_4_74_host_days()
    {
        var synthetic = Directory.GetFiles(Golden.PathOf("synthetic"), "*.*").Order(StringComparer.Ordinal);
        var (exit, stdout, _) = Cli(["backtest", .. KbLogs, Transcript, .. synthetic, "--host", KbHost, "--year", "2014", "--json"]);

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(stdout);
        // docs/prediction.md, Backtest: the KB panic 100 min ahead (from its second failure); synth-ix-0101 41 min ahead
        // (critical at two failures in one second, 15 min after one an hour earlier); synth-ix-0111 and -0112 have 1 and
        // then 2-3 failures in the last 1.5 h before their panic: warning, never enough for critical, so missed.
        // 128 MiB, GRO on and the 4.19 kernel never alert.
        Assert.Equal(
            [
                (KbHost, 2783556.069986, (double?)2777553.832648, 6002.24),
                ("synth-ix-0101", 60903.00001, 58443.00001, 2460),
                ("synth-ix-0111", 59402.00001, null, 0),
                ("synth-ix-0112", 59162.00003, null, 0),
            ],
            Panics(json));
        Assert.Equal(2, json.RootElement.GetProperty("missed_panics").GetInt32());
        Assert.Equal(0, json.RootElement.GetProperty("false_alarms").GetInt32());
        // Last minus first uptime, summed over every host and boot of the files (uptimes to 6 decimals; the JSON rounds host-days to 4).
        Assert.Equal(4.7397, json.RootElement.GetProperty("host_days").GetDouble());
    }

    [Fact]
    public void Backtest_json_of_the_held_out_synthetic_incidents_catches_its_4_panics_38_to_71_min_ahead_without_a_false_alarm()
    {
        // Golden/synthetic-holdout: written after issue 7's calibration by the same model, with seeds, hosts, a 96 MiB
        // pool and a slower growth it never ran (SyntheticIncidents.HeldOut); scored as it came, nothing tuned to it.
        var holdout = Directory.GetFiles(Golden.PathOf("synthetic-holdout"), "*.*").Order(StringComparer.Ordinal);
        var (exit, stdout, _) = Cli(["backtest", .. holdout, "--year", "2014", "--json"]);

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(stdout);
        // Each GRO-off 64 MiB host turns critical when a second failure follows within the hour; the 96 MiB host (36 h)
        // and the GRO-on one (24 h) never fail, so no host here fails without panicking: its 0 false alarms tests
        // little (the fleet corpus, docs/prediction.md, is where false alarms are counted).
        Assert.Equal(
            [
                ("synth-ix-0301", 64203.00002, (double?)61443.00001, 2760.0),
                ("synth-ix-0302", 61743.00001, 59463.00001, 2280),
                ("synth-ix-0303", 66182.00006, 61922, 4260),
                ("synth-ix-0305", 124502.00001, 120842.00001, 3660),
            ],
            Panics(json));
        Assert.Equal(0, json.RootElement.GetProperty("missed_panics").GetInt32());
        Assert.Equal(0, json.RootElement.GetProperty("false_alarms").GetInt32());
        Assert.Equal(6.0814, json.RootElement.GetProperty("host_days").GetDouble());
    }

    private static IEnumerable<(string?, double, double?, double)> Panics(JsonDocument json) =>
        json.RootElement.GetProperty("panics").EnumerateArray().Select(p => (
            p.GetProperty("host").GetString(),
            p.GetProperty("panic_uptime").GetDouble(),
            p.GetProperty("first_alert_uptime").ValueKind == JsonValueKind.Null ? (double?)null : p.GetProperty("first_alert_uptime").GetDouble(),
            p.GetProperty("lead_time_seconds").GetDouble()));

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
        Assert.Equal("fleettwin plan: unknown pool 'prod-9': no xe pool-list names it (pools read: bn2-3c16)", stderr.Trim());
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
        Assert.Equal(1, steps.Single(s => s.GetProperty("is_master").GetBoolean()).GetProperty("order").GetInt32());
    }
}
