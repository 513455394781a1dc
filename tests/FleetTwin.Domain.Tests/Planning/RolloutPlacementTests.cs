using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Planning;
using FleetTwin.Domain.Prediction;

namespace FleetTwin.Domain.Tests.Planning;

/// <summary>
/// The order-aware placement, checked by replaying each plan against the pool it was made for: every move starts
/// where the VM is at that step, lands on a host that is done (or, for the first wave only, on a host of the last
/// wave), never over-commits a host's memory, and no VM moves more than once (twice for the first wave's).
/// </summary>
public class RolloutPlacementTests
{
    private const long GiB = 1024L * 1024 * 1024;

    /// <summary>A pool of <paramref name="hosts"/> KB-like hosts (host-1 the master), each with VMs of 4-16 GiB and room for a few more.</summary>
    private static PoolFacts Pool(int hosts, int vmsPerHost = 5, long freeGiB = 48, Func<int, HostShape>? shape = null)
    {
        var facts = new PoolFacts();
        var n = 0;
        for (var h = 1; h <= hosts; h++)
        {
            var s = shape?.Invoke(h) ?? new HostShape();
            facts.Host($"host-{h}", freeGiB: s.FreeGiB ?? freeGiB, live: s.Live, enabled: s.Enabled, firmware: s.Firmware);
            if (s.Model is { } model)
                facts.Lspci($"host-{h}", model);
            for (var v = 0; v < vmsPerHost; v++)
                facts.Vm($"host-{h}", $"vm-{h}-{v}", 4 + (++n * 5 % 13));
        }
        return facts;
    }

    /// <summary>What one host of <see cref="Pool"/> differs in: liveness, enabled, NIC firmware, free memory, the NIC model lspci lists (none: no lspci read).</summary>
    private sealed record HostShape(bool? Live = null, bool? Enabled = null, string? Firmware = null, long? FreeGiB = null, string? Model = null);

    private static RollingPlan PlanFor(FleetInventory inventory, int maxDown, Dictionary<string, double>? p = null, bool shutdownPinned = false)
    {
        var predictions = inventory.Hosts.Values.ToDictionary(h => h.Name, h =>
        {
            var probability = p?.GetValueOrDefault(h.Name) ?? 0.01;
            var level = probability > 0.5 ? RiskLevel.Critical : probability > 0.1 ? RiskLevel.Warning : RiskLevel.Latent;
            return new PanicPrediction(h.Name, level, probability, TimeSpan.FromHours(24), null, "test", null, null, null);
        });
        return RollingPlanner.Plan(inventory, "pool-a", predictions, new RollingPlanOptions { MaxDown = maxDown, ShutdownPinned = shutdownPinned });
    }

    /// <summary>Replays the plan's moves wave by wave on the pool's memory; returns the moves per VM.</summary>
    private static Dictionary<string, int> Replay(FleetInventory inventory, RollingPlan plan)
    {
        var hostOf = inventory.Vms.Values.Where(v => !v.IsControlDomain).ToDictionary(v => v.Uuid, v => v.ResidentOn!);
        var memory = inventory.Vms.Values.ToDictionary(v => v.Uuid, v => v.MemoryBytes!.Value);
        var free = inventory.Hosts.Values.ToDictionary(h => h.Uuid!, h => h.MemoryFreeBytes!.Value);
        var moves = hostOf.Keys.ToDictionary(v => v, _ => 0);
        var done = plan.Steps.Where(s => s.Action is HostAction.NothingToDo or HostAction.ChangeWithoutReboot).Select(s => s.HostUuid!).ToHashSet();
        var waves = plan.Steps.Where(s => s.Wave > 0).GroupBy(s => s.Wave).OrderBy(g => g.Key).ToList();
        var lastWave = waves.Count == 0 ? 0 : waves[^1].Key;
        var firstWaveVms = new HashSet<string>();
        foreach (var wave in waves)
        {
            var down = wave.Select(s => s.HostUuid!).ToHashSet();
            foreach (var step in wave)
            {
                foreach (var m in step.Moves)
                {
                    Assert.Equal(step.HostUuid, hostOf[m.VmUuid]);
                    Assert.DoesNotContain(m.ToHostUuid!, down);
                    if (wave.Key == waves[0].Key && done.Count == 0)
                    {
                        firstWaveVms.Add(m.VmUuid);
                        var target = plan.Steps.Single(s => s.HostUuid == m.ToHostUuid);
                        Assert.True(target.Wave >= lastWave - (waves.Count > 1 ? waves.Count(w => w.Key > waves[0].Key && w.Any(s => s.Moves.Any(mm => firstWaveVms.Contains(mm.VmUuid)))) : 0) || target.Wave == lastWave,
                            $"{m.Vm} of the first wave goes to {target.Host} (wave {target.Wave}), not a host of the last wave(s)");
                    }
                    else
                        Assert.Contains(m.ToHostUuid!, done);
                    free[m.ToHostUuid!] -= memory[m.VmUuid];
                    Assert.True(free[m.ToHostUuid!] >= 0, $"{m.ToHost} over-committed by moving {m.Vm}");
                    free[step.HostUuid!] += memory[m.VmUuid];
                    hostOf[m.VmUuid] = m.ToHostUuid!;
                    moves[m.VmUuid]++;
                    Assert.Equal(moves[m.VmUuid], m.MoveNumber);
                }
                // The host reboots empty: every VM on it at this step (its own and those landed) was moved.
                Assert.DoesNotContain(step.HostUuid!, hostOf.Values);
            }
            done.UnionWith(down);
        }
        foreach (var (vm, n) in moves)
            Assert.True(n <= (firstWaveVms.Contains(vm) ? 2 : 1), $"{vm} moved {n} times");
        return moves;
    }

    [Theory]
    [InlineData(3, 1)]
    [InlineData(8, 1)]
    [InlineData(8, 3)]
    [InlineData(40, 1)]
    [InlineData(40, 4)]
    public void Each_VM_moves_once_or_twice_for_the_first_wave_memory_is_never_over_committed_and_waves_respect_max_down(int hosts, int maxDown)
    {
        var inventory = Pool(hosts).Inventory();

        var plan = PlanFor(inventory, maxDown, new() { [$"host-{hosts}"] = 0.9, ["host-2"] = 0.3 });

        Assert.True(plan.Complete, string.Join("; ", plan.Undecided.Concat(plan.Steps.SelectMany(s => s.Why))));
        var moves = Replay(inventory, plan);
        Assert.Equal(plan.Placement.Moves, moves.Values.Sum());
        Assert.All(plan.Steps, s => Assert.True(s.Wave > 0, $"{s.Host} is left out"));
        var waves = plan.Steps.GroupBy(s => s.Wave).OrderBy(g => g.Key).ToList();
        Assert.Equal(["host-1"], waves[0].Select(s => s.Host));
        // The canary: one host, the riskiest.
        Assert.Equal([$"host-{hosts}"], waves[1].Select(s => s.Host));
        Assert.True(plan.Timeline.Waves[1].Canary);
        Assert.All(waves, w => Assert.InRange(w.Count(), 1, maxDown));
        Assert.True(plan.Placement.Moves <= plan.EvacuateBaseline.Moves, $"{plan.Placement.Moves} moves against the baseline's {plan.EvacuateBaseline.Moves}");
    }

    [Fact]
    public void In_the_issue_s_3_host_pool_the_master_s_VMs_are_moved_again_with_their_host_and_counted_in_every_later_step()
    {
        // Master with five VMs, two members with four each, enough free memory.
        var facts = new PoolFacts().Host("host-1", freeGiB: 80).Host("host-2", freeGiB: 80).Host("host-3", freeGiB: 80);
        for (var v = 0; v < 5; v++)
            facts.Vm("host-1", $"m-{v}", 8);
        for (var v = 0; v < 4; v++)
            facts.Vm("host-2", $"a-{v}", 8).Vm("host-3", $"b-{v}", 8);
        var inventory = facts.Inventory();

        var plan = PlanFor(inventory, 1);

        var moves = Replay(inventory, plan);
        var last = plan.Steps.Single(s => s.Wave == 3);
        // The master's five went to the last host and move a second time with it, to done hosts.
        Assert.Equal(5, plan.Steps.Single(s => s.IsMaster).Moves.Count(m => m.ToHost == last.Host));
        Assert.Equal(9, last.Moves.Count);
        Assert.Equal(5, last.Moves.Count(m => m.MoveNumber == 2));
        Assert.Equal(18, moves.Values.Sum());
        Assert.Equal(18 * 8 * GiB, plan.Placement.BytesMigrated);
    }

    [Fact]
    public void In_a_pool_of_8_the_baseline_moves_VMs_onto_hosts_that_reboot_later_and_the_order_aware_plan_does_not()
    {
        var inventory = Pool(8, vmsPerHost: 6, freeGiB: 120).Inventory();

        var plan = PlanFor(inventory, 1);

        Replay(inventory, plan);
        Assert.True(plan.EvacuateBaseline.Moves > plan.Placement.Moves, $"baseline {plan.EvacuateBaseline.Moves}, plan {plan.Placement.Moves}");
        Assert.True(plan.EvacuateBaseline.MostMovesOfOneVm > 2);
        Assert.Equal(2, plan.Placement.MostMovesOfOneVm);
    }

    [Fact]
    public void A_VM_with_a_PCI_device_passed_through_blocks_its_host_unless_pinned_VMs_may_be_shut_down()
    {
        var facts = Pool(3).Vm("host-2", "gpu-render", 16, pci: "0/0000:81:00.0");

        var blocked = PlanFor(facts.Inventory(), 1);
        var step = blocked.Steps.Single(s => s.Host == "host-2");
        Assert.Equal(HostAction.Blocked, step.Action);
        Assert.Contains("PCI passthrough (other-config:pci=0/0000:81:00.0)", Assert.Single(step.Unmovable).Why, StringComparison.Ordinal);
        Assert.False(blocked.Complete);

        var shutdown = PlanFor(facts.Inventory(), 1, shutdownPinned: true);
        var allowed = shutdown.Steps.Single(s => s.Host == "host-2");
        Assert.Equal(HostAction.RebootWithChanges, allowed.Action);
        Assert.Equal("gpu-render", Assert.Single(allowed.ShutDown).Vm);
        Assert.DoesNotContain(allowed.Moves, m => m.Vm == "gpu-render");
        Assert.True(shutdown.Complete);
    }

    [Fact]
    public void A_host_needing_no_change_is_listed_with_its_evidence_and_takes_VMs_from_the_first_wave()
    {
        var facts = new PoolFacts().Host("host-1").Host("host-2", gro: true, groOverride: "on").Host("host-3").Vm("host-1", "web", 8);

        var plan = PlanFor(facts.Inventory(), 1);

        var done = plan.Steps.Single(s => s.Host == "host-2");
        Assert.Equal(HostAction.NothingToDo, done.Action);
        Assert.Contains(done.Why, w => w.StartsWith("no change needed: other-config:ethtool-gro=on and GRO live on eth4, eth5", StringComparison.Ordinal));
        Assert.Equal("host-2", Assert.Single(plan.Steps.Single(s => s.IsMaster).Moves).ToHost);
        Assert.Equal(1, plan.Placement.MostMovesOfOneVm);
    }

    [Fact]
    public void The_rollout_s_exposure_adds_up_each_waiting_host_s_hazard_over_its_wait()
    {
        var inventory = Pool(3).Inventory();

        var plan = PlanFor(inventory, 1, new() { ["host-3"] = 0.5 });

        var risky = plan.Steps.Single(s => s.Host == "host-3").Timing!;
        // P over 24 h = 0.5: hazard ln 2 / 24 h; the host waits until its reboot is over.
        Assert.Equal(1 - Math.Pow(0.5, risky.EndSeconds / 86400), risky.PanicWhileWaiting!.Value, 9);
        var all = plan.Steps.Select(s => s.Timing!.PanicWhileWaiting!.Value).Aggregate(1.0, (a, p) => a * (1 - p));
        Assert.Equal(1 - all, plan.Timeline.PanicDuringRollout!.Value, 9);
        Assert.Equal(plan.Timeline.Waves[^1].EndSeconds, plan.Timeline.TotalSeconds);
        // No boot_time/agent_start_time: the stated default reboot time.
        Assert.All(plan.Steps, s => Assert.Equal((600.0, false), (s.Timing!.RebootSeconds, s.Timing.RebootFromHistory)));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(40)]
    public void A_host_that_is_not_live_is_blocked_with_its_reason_takes_no_VM_and_the_rest_of_the_pool_is_planned(int hosts)
    {
        // The halted host has by far the most free memory: without the liveness check it would be every VM's target.
        var halted = $"host-{hosts - 1}";
        var inventory = Pool(hosts, vmsPerHost: 2, freeGiB: 64, shape: h => h == hosts - 1 ? new HostShape(Live: false, FreeGiB: 120) : new HostShape(Live: true)).Inventory();

        var plan = PlanFor(inventory, 1);

        var step = plan.Steps.Single(s => s.Host == halted);
        Assert.Equal(HostAction.Blocked, step.Action);
        Assert.Contains("host not live (xe host-list host-metrics-live: false)", step.NotAvailable, StringComparison.Ordinal);
        Assert.Contains(step.Why, w => w.StartsWith("blocked: host not live", StringComparison.Ordinal));
        Assert.Equal(0, step.Wave);
        Assert.Empty(step.Moves);
        Assert.DoesNotContain(plan.Steps.SelectMany(s => s.Moves), m => m.ToHost == halted);
        Assert.All(plan.Steps.Where(s => s.Host != halted), s => Assert.True(s.Wave > 0, $"{s.Host} is left out: {string.Join("; ", s.Why)}"));
        Assert.Contains(plan.Notes, n => n.StartsWith($"{halted} is left out: host not live", StringComparison.Ordinal));
        Assert.False(plan.Complete);
        Replay(inventory, plan);
    }

    [Fact]
    public void A_disabled_host_is_in_someone_s_maintenance_so_it_is_neither_a_target_nor_rebooted()
    {
        var inventory = Pool(8, vmsPerHost: 2, shape: h => h == 5 ? new HostShape(Enabled: false, FreeGiB: 120) : new HostShape()).Inventory();

        var plan = PlanFor(inventory, 2);

        var step = plan.Steps.Single(s => s.Host == "host-5");
        Assert.Equal((HostAction.Blocked, 0), (step.Action, step.Wave));
        Assert.Contains("host disabled (xe host-list enabled: false)", step.NotAvailable, StringComparison.Ordinal);
        Assert.DoesNotContain(plan.Steps.SelectMany(s => s.Moves), m => m.ToHost == "host-5");
        Replay(inventory, plan);
    }

    [Fact]
    public void When_the_only_room_is_on_a_halted_host_the_hosts_that_need_it_are_blocked_with_the_numbers_not_planned_onto_it()
    {
        // Three hosts with 8 GiB free each and 2 VMs of 4-16 GiB: only the halted host-3 (200 GiB free) could take them.
        var inventory = Pool(3, vmsPerHost: 2, freeGiB: 8, shape: h => h == 3 ? new HostShape(Live: false, FreeGiB: 200) : new HostShape()).Inventory();

        var plan = PlanFor(inventory, 1);

        Assert.DoesNotContain(plan.Steps.SelectMany(s => s.Moves), m => m.ToHost == "host-3");
        Assert.All(plan.Steps, s => Assert.Equal(HostAction.Blocked, s.Action));
        Assert.Contains(plan.Steps.SelectMany(s => s.Unmovable), u => u.Why.Contains("the most free on a host that stays up", StringComparison.Ordinal) || u.Why.StartsWith("no done host", StringComparison.Ordinal));
    }

    [Fact]
    public void The_canary_is_the_riskiest_host_of_the_riskiest_NIC_class_not_merely_the_riskiest_host()
    {
        // Class A (firmware bc 7.8.22: the master, host-2..4) carries two warning hosts; class B (bc 7.10.51, host-5..8)
        // the single riskiest host. A's P(panic) adds up to more, so A is proven first, by its riskiest host.
        var inventory = Pool(8, vmsPerHost: 2, shape: h => new HostShape(Firmware: h <= 4 ? "bc 7.8.22" : "bc 7.10.51")).Inventory();

        var plan = PlanFor(inventory, 2, new() { ["host-2"] = 0.3, ["host-3"] = 0.25, ["host-6"] = 0.35 });

        var canary = plan.Canary!;
        Assert.Equal(("host-2", "bnx2x firmware bc 7.8.22"), (canary.Host, canary.NicClass));
        Assert.Equal(["host-1", "host-2", "host-3", "host-4"], canary.HostsOfClass);
        Assert.Contains("its hosts' highest risk level is warning (host-2, the riskiest of them) and their P(panic) adds up to 0.55 within 24 h over 3 rebooting host(s)", canary.Why, StringComparison.Ordinal);
        Assert.Contains("next class bnx2x firmware bc 7.10.51: warning, 0.35 over 4 host(s)", canary.Why, StringComparison.Ordinal);
        var waves = plan.Steps.Where(s => s.Wave > 0).GroupBy(s => s.Wave).OrderBy(g => g.Key).ToList();
        Assert.Equal(["host-2"], waves[1].Select(s => s.Host));
        Assert.True(plan.Timeline.Waves[1].Canary);
        // Then risk order resumes: host-6 is the next wave's first.
        Assert.Equal("host-6", waves[2].First().Host);
        Assert.Contains("\"canary\": {", PlanJson.Render(plan), StringComparison.Ordinal);
        Assert.Contains("Canary: host-2, NIC class bnx2x firmware bc 7.8.22 (hosts: host-1, host-2, host-3, host-4)", PlanText.Render(plan), StringComparison.Ordinal);
        Replay(inventory, plan);
    }

    private const string Bcm57810 = "Broadcom Inc. and subsidiaries NetXtreme II BCM57810 10 Gigabit Ethernet";
    private const string Bcm57840 = "Broadcom Inc. and subsidiaries NetXtreme II BCM57840 10/20 Gigabit Ethernet";

    [Fact]
    public void Hosts_with_the_same_driver_and_firmware_on_different_NIC_models_are_two_classes_and_the_canary_line_names_the_model()
    {
        // Same bnx2x firmware everywhere; lspci says host-4's NICs are BCM57840, the others' BCM57810. The 57840 class
        // (host-4 alone, 0.35) outweighs the 57810 members (host-2 0.3 + host-3 0.02), so host-4 is its canary.
        var inventory = Pool(4, vmsPerHost: 2, shape: h => new HostShape(Firmware: "bc 7.8.22", Model: h == 4 ? Bcm57840 : Bcm57810)).Inventory();

        var plan = PlanFor(inventory, 1, new() { ["host-2"] = 0.3, ["host-3"] = 0.02, ["host-4"] = 0.35 });

        var canary = plan.Canary!;
        Assert.Equal(("host-4", $"bnx2x firmware bc 7.8.22 on {Bcm57840}"), (canary.Host, canary.NicClass));
        Assert.Equal(["host-4"], canary.HostsOfClass);
        Assert.Contains($"next class bnx2x firmware bc 7.8.22 on {Bcm57810}: warning, 0.32 over 2 host(s)", canary.Why, StringComparison.Ordinal);
        Assert.Equal($"bnx2x firmware bc 7.8.22 on {Bcm57810}", plan.Steps.Single(s => s.Host == "host-2").NicClass);
        Assert.Contains($"Canary: host-4, NIC class bnx2x firmware bc 7.8.22 on {Bcm57840} (hosts: host-4)", PlanText.Render(plan), StringComparison.Ordinal);
        Replay(inventory, plan);
    }

    [Fact]
    public void Without_lspci_the_same_pool_is_one_class_of_driver_and_firmware_as_before()
    {
        var inventory = Pool(4, vmsPerHost: 2, shape: _ => new HostShape(Firmware: "bc 7.8.22")).Inventory();

        var plan = PlanFor(inventory, 1, new() { ["host-2"] = 0.3, ["host-3"] = 0.02, ["host-4"] = 0.35 });

        var canary = plan.Canary!;
        Assert.Equal(("host-4", "bnx2x firmware bc 7.8.22"), (canary.Host, canary.NicClass));
        Assert.Equal(["host-1", "host-2", "host-3", "host-4"], canary.HostsOfClass);
        Assert.Contains("; the only class the plan changes", canary.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void An_lspci_listing_that_does_not_name_the_bus_id_ethtool_gave_leaves_the_class_as_driver_and_firmware()
    {
        var facts = Pool(3, vmsPerHost: 2, shape: _ => new HostShape(Firmware: "bc 7.8.22"));
        var inventory = facts.Inventory();
        // lspci of host-2 lists a NIC at another address than eth4/eth5's 0000:04:00.x.
        inventory.Apply(new FleetTwin.Domain.Events.PciNic { Host = "host-2", BusId = "0000:81:00.0", Class = "Ethernet controller", Model = Bcm57840 });

        var plan = PlanFor(inventory, 1, new() { ["host-2"] = 0.3 });

        Assert.All(plan.Steps.Where(s => s.NicClass is not null), s => Assert.Equal("bnx2x firmware bc 7.8.22", s.NicClass));
    }

    [Fact]
    public void A_pool_with_HA_on_is_planned_with_HA_disabled_before_the_first_wave_and_restored_on_its_state_file_s_SR_after()
    {
        var inventory = Pool(3).Ha(true, ["vdi-statefile"], failuresToTolerate: 1).Inventory();

        var plan = PlanFor(inventory, 1);

        Assert.Equal((true, false, 1), (plan.Ha.Enabled, plan.Ha.RestoreUnknown, plan.Ha.HostFailuresToTolerate));
        Assert.Equal(["vdi-statefile"], plan.Ha.Statefiles);
        Assert.Contains(plan.Notes, n => n.StartsWith("pool HA is on: the script disables it (xe pool-ha-disable) before the first wave", StringComparison.Ordinal));
        var text = PlanText.Render(plan);
        Assert.Contains("Pool HA is on: before the first wave  xe pool-ha-disable", text, StringComparison.Ordinal);
        Assert.Contains("after the last wave  xe pool-ha-enable heartbeat-sr-uuids=<SR of VDI vdi-statefile>; xe pool-param-set ha-host-failures-to-tolerate=1", text, StringComparison.Ordinal);
        var script = PlanScript.Render(plan);
        Assert.True(script.IndexOf("\nha_disable\n", StringComparison.Ordinal) < script.IndexOf("# ===== wave 1", StringComparison.Ordinal));
        Assert.EndsWith("finish\n", script, StringComparison.Ordinal);
        Assert.Contains("HA_PLANNED=on", script, StringComparison.Ordinal);
    }

    [Fact]
    public void HA_on_without_a_state_file_read_is_planned_with_a_restore_step_that_names_the_missing_heartbeat_SR()
    {
        var plan = PlanFor(Pool(3).Ha(true).Inventory(), 1);

        Assert.True(plan.Ha.RestoreUnknown);
        Assert.Contains(plan.Notes, n => n.StartsWith("HA restore: the heartbeat SR cannot be told from the facts read", StringComparison.Ordinal));
        Assert.Contains("HEARTBEAT SR UNKNOWN", PlanText.Render(plan), StringComparison.Ordinal);
        Assert.Contains("\"restore_sr_unknown\": true", PlanJson.Render(plan), StringComparison.Ordinal);
    }
}
