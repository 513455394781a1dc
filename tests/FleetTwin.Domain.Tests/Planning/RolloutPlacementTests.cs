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
    private static PoolFacts Pool(int hosts, int vmsPerHost = 5, long freeGiB = 48)
    {
        var facts = new PoolFacts();
        var n = 0;
        for (var h = 1; h <= hosts; h++)
        {
            facts.Host($"host-{h}", freeGiB: freeGiB);
            for (var v = 0; v < vmsPerHost; v++)
                facts.Vm($"host-{h}", $"vm-{h}-{v}", 4 + (++n * 5 % 13));
        }
        return facts;
    }

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
}
