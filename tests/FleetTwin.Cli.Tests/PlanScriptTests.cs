using System.Diagnostics;
using FleetTwin.Cli.Commands;
using FleetTwin.Cli.Offline;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Planning;
using FleetTwin.Cli.Tests.Support;
using FleetTwin.Ingest.Tests.Support;

namespace FleetTwin.Cli.Tests;

/// <summary>
/// The generated plan script of the KB pool (Golden/kb-pool), run in bash against a fake pool that keeps its state
/// (<see cref="FakePool"/>): what each run leaves in the pool is what the tests check.
/// </summary>
public class PlanScriptTests
{
    private const string Pool = "bn2-3c16";
    private const string Master = "bn2-3c16-ix-4101";
    private const string Kb = "bn2-3c16-ix-4104";
    private const string Last = "bn2-3c16-ix-4102";
    private static readonly string[] Hosts = [Master, Kb, Last];
    private static readonly string Transcript = Golden.PathOf("kb-pool/kb-pool-transcript.txt");

    /// <summary>The KB pool with the KB host's kernel log: that host is critical, so it goes right after the master.</summary>
    private static OfflineFleet KbFleet() => OfflineFleet.Read([Golden.PathOf("kb-incident/kern.log"), Transcript], Kb, 2014);

    private static RollingPlan PlanOf(OfflineFleet fleet, RollingPlanOptions? options = null) =>
        RollingPlanner.Plan(fleet.Inventory, Pool, fleet.Predict(), options);

    private static FakePool PoolOf(OfflineFleet fleet, RollingPlan plan) => new(fleet.Inventory, Pool, PlanScript.Render(plan));

    private static FakePool PoolOf(OfflineFleet fleet) => PoolOf(fleet, PlanOf(fleet));

    private static string Uuid(OfflineFleet fleet, string host) => fleet.Inventory.Hosts[host].Uuid!;

    /// <summary>The host's eth4 and eth5 PIF uuids (the bnx2x bond's members: the PIFs the plan changes).</summary>
    private static string[] MemberPifs(OfflineFleet fleet, string host) =>
        fleet.Inventory.NicsOf(fleet.Inventory.Hosts[host]).Where(n => n.Device is "eth4" or "eth5").OrderBy(n => n.Device, StringComparer.Ordinal).Select(n => n.Pif!.Uuid).ToArray();

    /// <summary>other-config:ethtool-gro of the host's eth4 and eth5 PIFs, "-" for no key.</summary>
    private static string Keys(FakePool pool, OfflineFleet fleet, string host) => string.Join(" ", MemberPifs(fleet, host).Select(p => pool.KeyOf(p) ?? "-"));

    /// <summary>Live GRO (ethtool -k) of the host's eth4 and eth5.</summary>
    private static string Gro(FakePool pool, string host) => $"{pool.GroOf(host, "eth4")} {pool.GroOf(host, "eth5")}";

    private static int Count(ScriptRun run, string call) => run.Calls.Count(c => c == call);

    /// <summary>A host the run never touched: no key set, never rebooted, still enabled with its own guests on it.</summary>
    private static void Untouched(FakePool pool, OfflineFleet fleet, string host)
    {
        Assert.Equal("- -", Keys(pool, fleet, host));
        Assert.Equal((1, true), (pool.Boots(host), pool.Enabled(host)));
        Assert.Subset(pool.GuestsOn(host).ToHashSet(), Guests(fleet, host).ToHashSet());
    }

    /// <summary>The running guests the transcript lists on the host.</summary>
    private static string[] Guests(OfflineFleet fleet, string host) => fleet.Inventory.VmsOn(fleet.Inventory.Hosts[host]).Select(v => v.Name).ToArray();

    [Fact]
    public void The_generated_script_is_valid_bash()
    {
        using var pool = PoolOf(KbFleet());
        using var check = Process.Start(new ProcessStartInfo("bash", $"-n {pool.Script}") { RedirectStandardError = true })!;
        var errors = check.StandardError.ReadToEnd();
        check.WaitForExit();
        Assert.Equal((0, ""), (check.ExitCode, errors));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_dry_run_reads_the_current_state_prints_every_step_and_changes_nothing_in_the_pool()
    {
        using var pool = PoolOf(KbFleet());
        var before = pool.Snapshot();

        var run = await pool.RunAsync();

        Assert.True(run.Exit == 0, run.Output);
        Assert.Equal(before, pool.Snapshot());
        Assert.Contains(run.Calls, c => c.StartsWith("xe pif-param-get", StringComparison.Ordinal));
        var lines = run.Output.Split('\n');
        Assert.Equal(6, lines.Count(l => l.StartsWith("[dry-run] xe pif-param-set other-config:ethtool-gro=on uuid=", StringComparison.Ordinal)));
        Assert.Equal(3, lines.Count(l => l.StartsWith("[dry-run] xe host-reboot uuid=", StringComparison.Ordinal)));
    }

    [Fact(Timeout = 60_000)]
    public async Task Applying_reboots_the_master_alone_first_then_each_host_once_leaving_every_member_PIF_with_the_key_GRO_live_and_the_host_enabled()
    {
        var fleet = KbFleet();
        var plan = PlanOf(fleet);
        using var pool = PoolOf(fleet, plan);
        var order = plan.Steps.OrderBy(s => s.Order).Select(s => s.Host).ToArray();
        Assert.Equal([Master, Kb, Last], order);

        // First run: the master only; its reboot ends the run.
        var first = await pool.RunAsync("--apply");

        Assert.True(first.Exit == 3, first.Output);
        Assert.Contains("pool master rebooting: run this script again when it is back", first.Output, StringComparison.Ordinal);
        Assert.Equal("on on", Keys(pool, fleet, Master));
        Assert.Equal((0, false), (pool.GuestsOn(Master).Count, pool.Enabled(Master)));
        Assert.Equal($"xe host-reboot uuid={Uuid(fleet, Master)}", first.Calls.Last(c => c.StartsWith("xe host-", StringComparison.Ordinal) && !c.StartsWith("xe host-param-get", StringComparison.Ordinal)));
        Untouched(pool, fleet, Kb);
        Assert.Equal("- -", Keys(pool, fleet, Last));

        // The master is back, disabled, GRO live on both members; the second run enables it and does the others.
        pool.Advance(FakePool.RebootSeconds);
        Assert.Equal((2, false, "on on"), (pool.Boots(Master), pool.Enabled(Master), Gro(pool, Master)));
        var second = await pool.RunAsync("--apply");

        Assert.True(second.Exit == 0, second.Output);
        Assert.EndsWith("plan finished\n", second.Output, StringComparison.Ordinal);
        foreach (var host in Hosts)
        {
            Assert.Equal("on on", Keys(pool, fleet, host));
            Assert.Equal("on on", Gro(pool, host));
            Assert.Equal((2, true), (pool.Boots(host), pool.Enabled(host)));
            Assert.Equal(1, Count(first, $"xe host-enable uuid={Uuid(fleet, host)}") + Count(second, $"xe host-enable uuid={Uuid(fleet, host)}"));
        }
        Assert.Equal(Hosts.SelectMany(h => Guests(fleet, h)).Order(StringComparer.Ordinal), Hosts.SelectMany(pool.GuestsOn).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(second.Calls, c => c.StartsWith("xe pif-param-set", StringComparison.Ordinal) && MemberPifs(fleet, Master).Any(p => c.EndsWith(p, StringComparison.Ordinal)));
        // Each of the others: disable, migrate each VM where the plan put it, reboot, enable, in plan order, one host after the other.
        var sequence = second.Calls.Where(c => c.StartsWith("xe host-", StringComparison.Ordinal) && !c.StartsWith("xe host-param-get", StringComparison.Ordinal)
            || c.StartsWith("xe vm-migrate", StringComparison.Ordinal)).ToArray();
        string[] Migrations(string host) => [.. plan.Steps.Single(s => s.Host == host).Moves.Select(m => $"xe vm-migrate uuid={m.VmUuid} host-uuid={m.ToHostUuid} live=true")];
        Assert.Equal(
        [
            $"xe host-enable uuid={Uuid(fleet, Master)}",
            $"xe host-disable uuid={Uuid(fleet, Kb)}", .. Migrations(Kb), $"xe host-reboot uuid={Uuid(fleet, Kb)}", $"xe host-enable uuid={Uuid(fleet, Kb)}",
            $"xe host-disable uuid={Uuid(fleet, Last)}", .. Migrations(Last), $"xe host-reboot uuid={Uuid(fleet, Last)}", $"xe host-enable uuid={Uuid(fleet, Last)}",
        ], sequence);
        Assert.DoesNotContain(first.Calls.Concat(second.Calls), c => c.StartsWith("xe host-evacuate", StringComparison.Ordinal));

        // A third run finds every host done and changes nothing.
        var done = pool.Snapshot();
        var third = await pool.RunAsync("--apply");
        Assert.True(third.Exit == 0, third.Output);
        Assert.Equal(done, pool.Snapshot());
        Assert.Equal(3, third.Output.Split('\n').Count(l => l.EndsWith(": done (recorded)", StringComparison.Ordinal)));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(Master, "eth4", "local")]
    [InlineData(Master, "eth5", "local")]
    [InlineData(Kb, "eth5", "10.16.41.104")]
    public async Task A_NIC_without_GRO_after_the_reboot_stops_the_run_before_its_host_is_enabled_or_the_next_host_touched(string host, string device, string address)
    {
        var fleet = KbFleet();
        using var pool = PoolOf(fleet);
        pool.GroStaysOff(host, device);

        var runs = await pool.ApplyAsync();

        var last = runs[^1];
        Assert.Equal(1, last.Exit);
        Assert.Contains($"STOP: ethtool -k {device} on {address} does not show generic-receive-offload: on", last.Output, StringComparison.Ordinal);
        Assert.Equal((2, false), (pool.Boots(host), pool.Enabled(host)));
        Assert.DoesNotContain(runs.SelectMany(r => r.Calls), c => c == $"xe host-enable uuid={Uuid(fleet, host)}");
        Untouched(pool, fleet, Last);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_hotfix_on_the_live_pool_stops_the_script_before_any_change()
    {
        using var pool = PoolOf(KbFleet());
        pool.PatchHosts("XS62ESP1");
        var before = pool.Snapshot();

        var run = await pool.RunAsync("--apply");

        Assert.Equal(1, run.Exit);
        Assert.Contains("STOP: bn2-3c16-ix-4101: prerequisite XenServer 6.2 SP1 (XS62ESP1) not applied", run.Output, StringComparison.Ordinal);
        Assert.Equal(before, pool.Snapshot());
    }

    [Theory(Timeout = 60_000)]
    [InlineData(null, 1200)]
    [InlineData("60", 60)]
    public async Task A_host_that_does_not_come_back_stops_the_run_after_the_back_timeout_and_the_next_host_is_not_touched(string? timeout, int seconds)
    {
        var fleet = KbFleet();
        using var pool = PoolOf(fleet);
        pool.NeverComesBack(Kb);

        var runs = await pool.ApplyAsync(timeout is null ? null : new Dictionary<string, string> { ["FLEETTWIN_BACK_TIMEOUT_SECONDS"] = timeout });

        var last = runs[^1];
        Assert.Equal(1, last.Exit);
        Assert.Contains($"STOP: host {Uuid(fleet, Kb)} not back after {seconds}s", last.Output, StringComparison.Ordinal);
        // Rebooted when the second run started (the master back after its reboot), then the 120 s settle and the timeout.
        Assert.Equal(FakePool.RebootSeconds + 120 + seconds, pool.Clock);
        Assert.Equal((false, 1), (pool.Enabled(Kb), pool.Boots(Kb)));
        Assert.DoesNotContain(last.Calls, c => c == $"xe host-enable uuid={Uuid(fleet, Kb)}");
        Untouched(pool, fleet, Last);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_host_that_takes_15_minutes_to_boot_is_waited_for_then_verified_and_enabled()
    {
        var fleet = KbFleet();
        using var pool = PoolOf(fleet);
        pool.RebootTakes(Kb, 900);

        var runs = await pool.ApplyAsync();

        Assert.True(runs[^1].Exit == 0, runs[^1].Output);
        Assert.Equal((2, true, "on on"), (pool.Boots(Kb), pool.Enabled(Kb), Gro(pool, Kb)));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_guest_still_resident_after_its_migration_stops_the_run_before_the_reboot_with_the_host_left_disabled()
    {
        var fleet = KbFleet();
        using var pool = PoolOf(fleet);
        pool.StaysResident("nfs-fe-4101");

        var run = await pool.RunAsync("--apply");

        Assert.Equal(1, run.Exit);
        Assert.Contains("STOP: guest VMs still resident on bn2-3c16-ix-4101 after the planned migrations", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(run.Calls, c => c.StartsWith("xe host-reboot", StringComparison.Ordinal));
        Assert.Equal((1, false), (pool.Boots(Master), pool.Enabled(Master)));
        Assert.Equal(["nfs-fe-4101"], pool.GuestsOn(Master));
        Assert.Equal("- -", Keys(pool, fleet, Kb));
        Assert.Equal("- -", Keys(pool, fleet, Last));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failing_vm_migrate_stops_the_run_with_the_host_disabled_its_guests_in_place_and_no_reboot()
    {
        var fleet = KbFleet();
        using var pool = PoolOf(fleet);
        pool.CannotMove("ldap-4104");

        var runs = await pool.ApplyAsync();

        var last = runs[^1];
        Assert.Equal(1, last.Exit);
        var ldap = fleet.Inventory.Vms.Values.Single(v => v.Name == "ldap-4104").Uuid;
        Assert.Contains($"STOP: failed: xe vm-migrate uuid={ldap} host-uuid=", last.Output, StringComparison.Ordinal);
        Assert.Equal((1, false), (pool.Boots(Kb), pool.Enabled(Kb)));
        Assert.Contains("ldap-4104", pool.GuestsOn(Kb));
        Untouched(pool, fleet, Last);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_blocked_host_stops_the_run_before_it_is_touched()
    {
        var fleet = KbFleet();
        var kbUuid = Uuid(fleet, Kb);
        var fix = fleet.Inventory.Hotfixes.Single(f => f.Value.NameLabel == RollingPlanner.BondedBnx2xHotfix);
        fleet.Inventory.Hotfixes[fix.Key] = fix.Value with { Hosts = fix.Value.Hosts.Where(h => h != kbUuid).ToArray() };
        var plan = PlanOf(fleet);
        Assert.Equal([(Master, HostAction.RebootWithChanges), (Kb, HostAction.Blocked), (Last, HostAction.RebootWithChanges)],
            plan.Steps.OrderBy(s => s.Order).Select(s => (s.Host, s.Action)));
        using var pool = PoolOf(fleet, plan);

        var runs = await pool.ApplyAsync();

        var last = runs[^1];
        Assert.Equal(1, last.Exit);
        Assert.Contains("STOP: bn2-3c16-ix-4104 is blocked: prerequisite missing: no XS62ESP1004 or later XS62ESP1 hotfix applied on bn2-3c16-ix-4104: install it first", last.Output, StringComparison.Ordinal);
        Assert.Equal((2, true), (pool.Boots(Master), pool.Enabled(Master)));
        Untouched(pool, fleet, Kb);
        Assert.Equal("- -", Keys(pool, fleet, Last));
        Assert.Equal(1, pool.Boots(Last));
    }

    /// <summary>The KB pool as if upgraded to 6.5, every member PIF still carrying the key from before.</summary>
    private static OfflineFleet Upgraded(string key, bool? groLive = null)
    {
        var fleet = KbFleet();
        foreach (var host in Hosts.Select(h => fleet.Inventory.Hosts[h]))
        {
            host.Release = "6.5";
            foreach (var pif in MemberPifs(fleet, host.Name))
                fleet.Inventory.Pifs[pif].EthtoolGroOverride = key;
            foreach (var device in new[] { "eth4", "eth5" })
                host.NicsByDevice[device].GroOn = groLive ?? key == "on";
        }
        return fleet;
    }

    [Fact(Timeout = 60_000)]
    public async Task On_6_5_a_leftover_key_forcing_GRO_on_is_removed_without_disabling_or_rebooting_any_host()
    {
        var fleet = Upgraded("on");
        var plan = PlanOf(fleet);
        Assert.All(plan.Steps, s => Assert.Equal(HostAction.ChangeWithoutReboot, s.Action));
        using var pool = PoolOf(fleet, plan);

        var run = await pool.RunAsync("--apply");

        Assert.True(run.Exit == 0, run.Output);
        foreach (var host in Hosts)
        {
            Assert.Equal("- -", Keys(pool, fleet, host));
            Assert.Equal("on on", Gro(pool, host));
            Assert.Equal((1, true), (pool.Boots(host), pool.Enabled(host)));
        }
        Assert.Equal(6, run.Calls.Count(c => c.StartsWith("xe pif-param-remove", StringComparison.Ordinal)));
        Assert.DoesNotContain(run.Calls, c => c.StartsWith("xe host-disable", StringComparison.Ordinal) || c.StartsWith("xe host-evacuate", StringComparison.Ordinal) || c.StartsWith("xe host-reboot", StringComparison.Ordinal));

        var again = await pool.RunAsync("--apply");
        Assert.True(again.Exit == 0, again.Output);
        Assert.DoesNotContain(again.Calls, c => c.StartsWith("xe pif-param-remove", StringComparison.Ordinal));
        Assert.Equal(6, again.Output.Split('\n').Count(l => l.Contains(": no ethtool-gro key left (", StringComparison.Ordinal)));
    }

    [Fact(Timeout = 60_000)]
    public async Task On_6_5_a_leftover_key_forcing_GRO_off_is_removed_and_each_host_rebooted_so_GRO_comes_up_on()
    {
        var fleet = Upgraded("off");
        var plan = PlanOf(fleet);
        Assert.All(plan.Steps, s => Assert.Equal((HostAction.RebootWithChanges, PifChangeKind.RemoveGroOverride), (s.Action, s.Changes.Select(c => c.Kind).Distinct().Single())));
        using var pool = PoolOf(fleet, plan);

        var runs = await pool.ApplyAsync();

        Assert.Equal([3, 0], runs.Select(r => r.Exit));
        foreach (var host in Hosts)
        {
            Assert.Equal("- -", Keys(pool, fleet, host));
            Assert.Equal("on on", Gro(pool, host));
            Assert.Equal((2, true), (pool.Boots(host), pool.Enabled(host)));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task On_6_5_a_leftover_key_forcing_GRO_off_is_removed_even_where_GRO_was_turned_on_by_hand_since_the_next_boot_would_read_it()
    {
        // ethtool -K ethN gro on at runtime: GRO is live, but the key turns it off again when the PIF is next plugged.
        var fleet = Upgraded("off", groLive: true);
        using var pool = PoolOf(fleet);

        var runs = await pool.ApplyAsync();

        Assert.True(runs[^1].Exit == 0, runs[^1].Output);
        foreach (var host in Hosts)
        {
            Assert.Equal("- -", Keys(pool, fleet, host));
            Assert.Equal("on on", Gro(pool, host));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task The_swiotlb_delay_sets_swiotlb_128_on_each_host_below_it_after_the_evacuation_and_before_its_reboot()
    {
        var fleet = KbFleet();
        fleet.Inventory.Hosts[Master].SwiotlbMiB = 128;
        var plan = PlanOf(fleet, new RollingPlanOptions { IncludeSwiotlbDelay = true });
        Assert.Equal([false, true, true], plan.Steps.OrderBy(s => s.Order).Select(s => s.SwiotlbDelay is not null));
        using var pool = PoolOf(fleet, plan);
        Assert.Contains("  # DELAY, NOT A FIX: doubles the bounce pool (64 -> 128 MiB)", File.ReadAllText(pool.Script), StringComparison.Ordinal);

        var runs = await pool.ApplyAsync();

        Assert.True(runs[^1].Exit == 0, runs[^1].Output);
        Assert.Equal("128 128 128", string.Join(" ", Hosts.Select(pool.SwiotlbOf)));
        var calls = runs.SelectMany(r => r.Calls).ToList();
        Assert.DoesNotContain($"xen-cmdline --set-dom0 swiotlb=128 on {Master}", calls);
        foreach (var host in new[] { Kb, Last })
        {
            var delay = calls.IndexOf($"xen-cmdline --set-dom0 swiotlb=128 on {host}");
            Assert.InRange(delay, calls.IndexOf($"xe host-evacuate uuid={Uuid(fleet, host)}") + 1, calls.IndexOf($"xe host-reboot uuid={Uuid(fleet, host)}") - 1);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_host_xapi_enabled_again_at_boot_is_not_enabled_a_second_time()
    {
        var fleet = KbFleet();
        using var pool = PoolOf(fleet);
        foreach (var host in Hosts)
            pool.EnablesOnBoot(host);

        var runs = await pool.ApplyAsync();

        Assert.True(runs[^1].Exit == 0, runs[^1].Output);
        Assert.All(Hosts, h => Assert.Equal((2, true), (pool.Boots(h), pool.Enabled(h))));
        Assert.DoesNotContain(runs.SelectMany(r => r.Calls), c => c.StartsWith("xe host-enable", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Every_VM_ends_on_the_host_the_plan_chose_for_its_last_move()
    {
        var fleet = KbFleet();
        var plan = PlanOf(fleet);
        using var pool = PoolOf(fleet, plan);

        var runs = await pool.ApplyAsync();

        Assert.True(runs[^1].Exit == 0, runs[^1].Output);
        var last = plan.Steps.SelectMany(s => s.Moves).GroupBy(m => m.Vm).ToDictionary(g => g.Key, g => g.MaxBy(m => m.MoveNumber)!.ToHostUuid);
        Assert.Equal(Hosts.SelectMany(h => Guests(fleet, h)).Order(StringComparer.Ordinal), last.Keys.Order(StringComparer.Ordinal));
        Assert.All(last, kv => Assert.Equal(kv.Value, pool.HostOfVm(kv.Key)));
        Assert.Equal(plan.Placement.Moves, runs.Sum(r => r.Calls.Count(c => c.StartsWith("xe vm-migrate", StringComparison.Ordinal))));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_run_killed_while_a_host_reboots_continues_from_the_recorded_step_and_reboots_no_host_twice()
    {
        var fleet = KbFleet();
        using var pool = PoolOf(fleet);
        var first = await pool.RunAsync("--apply");
        Assert.True(first.Exit == 3, first.Output);
        pool.Advance(FakePool.RebootSeconds);
        pool.KillAtNextSleep();

        var killed = await pool.RunAsync("--apply");

        Assert.NotEqual(0, killed.Exit);
        Assert.Equal("rebooting", File.ReadAllText(Path.Combine(pool.Dir, "runs", PlanOf(fleet).PlanId, Uuid(fleet, Kb))).Trim());
        Assert.False(pool.Enabled(Kb));

        var resumed = await pool.RunAsync("--apply");

        Assert.True(resumed.Exit == 0, resumed.Output);
        Assert.Contains("bn2-3c16-ix-4104: resuming after 'rebooting'", resumed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain($"xe host-reboot uuid={Uuid(fleet, Kb)}", resumed.Calls);
        foreach (var host in Hosts)
            Assert.Equal((2, true, "on on"), (pool.Boots(host), pool.Enabled(host), Gro(pool, host)));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_VM_the_plan_does_not_know_appearing_mid_rollout_stops_the_run_before_its_host_is_touched_unless_drift_is_accepted()
    {
        var fleet = KbFleet();
        using var pool = PoolOf(fleet);
        Assert.Equal(3, (await pool.RunAsync("--apply")).Exit);
        pool.Advance(FakePool.RebootSeconds);
        pool.StartsVm(Kb, "surprise-vm");

        var stopped = await pool.RunAsync("--apply");

        Assert.Equal(4, stopped.Exit);
        Assert.Contains("the pool differs from the plan: VM new-surprise-vm is running on bn2-3c16-ix-4104 and the plan does not know it", stopped.Output, StringComparison.Ordinal);
        Assert.Equal((1, true, "- -"), (pool.Boots(Kb), pool.Enabled(Kb), Keys(pool, fleet, Kb)));

        var accepted = await pool.RunAsync("--apply --accept-drift");
        // The plan has no place for the unknown VM: it is still on the host after the planned migrations.
        Assert.Equal(1, accepted.Exit);
        Assert.Contains("STOP: guest VMs still resident on bn2-3c16-ix-4104 after the planned migrations", accepted.Output, StringComparison.Ordinal);
        Assert.Equal(1, pool.Boots(Kb));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_host_disabled_by_someone_else_stops_the_run_before_it_is_touched()
    {
        var fleet = KbFleet();
        using var pool = PoolOf(fleet);
        pool.Disable(Master);
        var before = pool.Snapshot();

        var run = await pool.RunAsync("--apply");

        Assert.Equal(4, run.Exit);
        Assert.Contains("the pool differs from the plan: bn2-3c16-ix-4101 is disabled, and not by this plan", run.Output, StringComparison.Ordinal);
        Assert.Equal(before, pool.Snapshot());
    }

    /// <summary>Skipped locally without shellcheck; fails when FLEETTWIN_REQUIRE_TOOLS=1 (.ci/run installs Debian's shellcheck).</summary>
    [SkippableFact]
    public void The_generated_script_is_shellcheck_clean()
    {
        var shellcheck = ToolPath("shellcheck");
        if (shellcheck is null)
        {
            Assert.False(Environment.GetEnvironmentVariable("FLEETTWIN_REQUIRE_TOOLS") == "1", "FLEETTWIN_REQUIRE_TOOLS=1 but shellcheck is not on PATH (.ci/run installs Debian's shellcheck)");
            Skip.If(true, "shellcheck is not on PATH (apt-get install -y shellcheck)");
        }
        using var pool = PoolOf(KbFleet());
        using var check = Process.Start(new ProcessStartInfo(shellcheck!, ["-s", "bash", pool.Script]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = check.StandardOutput.ReadToEnd() + check.StandardError.ReadToEnd();
        check.WaitForExit();
        Assert.True(check.ExitCode == 0, output);
    }

    private static string? ToolPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    private const string StatefileVdi = "4c3b2a19-0817-4f6e-9d5c-4b3a29180706";
    private const string HeartbeatSr = "0d679356-5509-489d-8f21-b0bdffe7f842";

    /// <summary>The KB pool with extra xe output saved to a file (no prompt): read after the transcript, it updates what it names.</summary>
    private static OfflineFleet KbFleetWith(string xeOutput)
    {
        var extra = Path.Combine(Directory.CreateTempSubdirectory("fleettwin-xe-").FullName, "xe.txt");
        File.WriteAllText(extra, xeOutput);
        try
        {
            return OfflineFleet.Read([Golden.PathOf("kb-incident/kern.log"), Transcript, extra], Kb, 2014);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(extra)!, recursive: true);
        }
    }

    /// <summary>The KB pool with HA on: xe pool-list params=all as XenServer prints it with HA enabled.</summary>
    private static OfflineFleet KbFleetWithHa() => KbFleetWith($"""
        uuid ( RO)                            : 12d9abbd-e657-454b-9317-4316b3c7a38f
                              name-label ( RW): bn2-3c16
                                  master ( RO): 9c6290d6-bc21-4021-8eee-1c147b3a49e2
                              ha-enabled ( RO): true
                        ha-configuration ( RO): timeout: 60
                           ha-statefiles ( RO): {StatefileVdi}
            ha-host-failures-to-tolerate ( RW): 1

        """);

    [Fact(Timeout = 60_000)]
    public async Task With_pool_HA_on_the_script_disables_it_once_before_the_first_reboot_and_restores_it_on_its_heartbeat_SR_after_the_last()
    {
        var fleet = KbFleetWithHa();
        var plan = PlanOf(fleet);
        Assert.Equal((true, 1), (plan.Ha.Enabled, plan.Ha.HostFailuresToTolerate));
        using var pool = PoolOf(fleet, plan);
        pool.HaOn(StatefileVdi, HeartbeatSr, failuresToTolerate: 1);

        var dry = await pool.RunAsync();
        Assert.True(dry.Exit == 0, dry.Output);
        Assert.Contains("[dry-run] xe pool-ha-disable", dry.Output, StringComparison.Ordinal);
        Assert.Contains($"[dry-run] xe pool-ha-enable heartbeat-sr-uuids={HeartbeatSr}", dry.Output, StringComparison.Ordinal);
        Assert.True(pool.HaEnabled);

        // The master's reboot ends the first run with HA off; the re-run does not disable it again.
        var runs = await pool.ApplyAsync();

        Assert.Equal(2, runs.Count);
        Assert.True(runs[^1].Exit == 0, runs[^1].Output);
        Assert.Contains("pool HA: disabled by this plan (recorded)", runs[1].Output, StringComparison.Ordinal);
        var calls = runs.SelectMany(r => r.Calls).ToList();
        Assert.Single(calls, c => c == "xe pool-ha-disable");
        Assert.Single(calls, c => c.StartsWith("xe pool-ha-enable", StringComparison.Ordinal));
        // Disabled before the first reboot, enabled after the last (the fake refuses a reboot while HA is on).
        Assert.True(calls.IndexOf("xe pool-ha-disable") < calls.FindIndex(c => c.StartsWith("xe host-reboot", StringComparison.Ordinal)));
        Assert.True(calls.FindIndex(c => c.StartsWith("xe pool-ha-enable", StringComparison.Ordinal)) > calls.FindLastIndex(c => c.StartsWith("xe host-enable", StringComparison.Ordinal)));
        Assert.Equal((true, HeartbeatSr, "1"), (pool.HaEnabled, pool.HaHeartbeatSr, pool.HaFailuresToTolerate));
        Assert.All(Hosts, h => Assert.Equal((2, true), (pool.Boots(h), pool.Enabled(h))));

        // Run again once done: HA is neither disabled nor enabled again.
        var again = await pool.RunAsync("--apply");
        Assert.True(again.Exit == 0, again.Output);
        Assert.DoesNotContain(again.Calls, c => c.StartsWith("xe pool-ha-", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task When_the_heartbeat_SR_cannot_be_told_the_rollout_runs_and_its_restore_step_says_so_with_exit_5()
    {
        var fleet = KbFleetWithHa();
        using var pool = PoolOf(fleet, PlanOf(fleet));
        pool.HaOn(StatefileVdi, HeartbeatSr, failuresToTolerate: 1);
        pool.StatefileUnreadable(StatefileVdi);

        var runs = await pool.ApplyAsync();

        Assert.Contains("WARNING: the HA heartbeat SR cannot be told", runs[0].Output, StringComparison.Ordinal);
        Assert.True(runs[^1].Exit == 5, runs[^1].Output);
        Assert.Contains("HA NOT RESTORED: the heartbeat SR could not be told; enable it by hand: xe pool-ha-enable heartbeat-sr-uuids=<SR>", runs[^1].Output, StringComparison.Ordinal);
        Assert.False(pool.HaEnabled);
        Assert.All(Hosts, h => Assert.Equal((2, true), (pool.Boots(h), pool.Enabled(h))));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_stop_mid_rollout_reminds_that_HA_is_still_disabled_by_the_plan()
    {
        var fleet = KbFleetWithHa();
        using var pool = PoolOf(fleet, PlanOf(fleet));
        pool.HaOn(StatefileVdi, HeartbeatSr, failuresToTolerate: 1);
        pool.GroStaysOff(Kb, "eth5");

        var runs = await pool.ApplyAsync();

        Assert.True(runs[^1].Exit == 1, runs[^1].Output);
        Assert.Contains($"pool HA is still disabled by this plan: a re-run restores it after the last wave, or: xe pool-ha-enable heartbeat-sr-uuids={HeartbeatSr}", runs[^1].Output, StringComparison.Ordinal);
        Assert.False(pool.HaEnabled);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_host_that_is_not_live_is_passed_by_and_the_rest_of_the_pool_is_done_with_exit_5()
    {
        // xe host-list params=all run later: the KB host has lost its heartbeat (halted).
        var fleet = KbFleetWith("""
            uuid ( RO)                  : 9efc92c9-6680-436e-86a8-2c219242a5e1
                     name-label ( RW): bn2-3c16-ix-4104
                        address ( RO): 10.16.41.104
                       hostname ( RO): bn2-3c16-ix-4104
              host-metrics-live ( RO): false

            """);
        var plan = PlanOf(fleet);
        var halted = plan.Steps.Single(s => s.Host == Kb);
        Assert.Equal(HostAction.Blocked, halted.Action);
        Assert.DoesNotContain(plan.Steps.SelectMany(s => s.Moves), m => m.ToHost == Kb);
        using var pool = PoolOf(fleet, plan);

        var runs = await pool.ApplyAsync();

        Assert.True(runs[^1].Exit == 5, runs[^1].Output);
        Assert.Contains("SKIPPED bn2-3c16-ix-4104: host not live (xe host-list host-metrics-live: false)", runs[^1].Output, StringComparison.Ordinal);
        Assert.Contains("plan finished, not all of it: left out: bn2-3c16-ix-4104", runs[^1].Output, StringComparison.Ordinal);
        Assert.All(new[] { Master, Last }, h => Assert.Equal(("on on", 2, true), (Keys(pool, fleet, h), pool.Boots(h), pool.Enabled(h))));
        Assert.Equal(1, pool.Boots(Kb));
        Assert.Equal("- -", Keys(pool, fleet, Kb));
    }
}
