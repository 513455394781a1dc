using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Planning;
using FleetTwin.Domain.Prediction;

namespace FleetTwin.Domain.Tests.Planning;

public class RollingPlannerTests
{
    private static RollingPlan PlanFor(PoolFacts facts, int maxDown = 1, Dictionary<string, RiskLevel>? risk = null, bool delay = false)
    {
        var inventory = facts.Inventory();
        var predictions = inventory.Hosts.Values.ToDictionary(h => h.Name, h =>
            new PanicPrediction(h.Name, risk?.GetValueOrDefault(h.Name) ?? RiskLevel.Latent, null, TimeSpan.FromHours(24), null, "test", null, null, null));
        return RollingPlanner.Plan(inventory, "pool-a", predictions, new RollingPlanOptions { MaxDown = maxDown, IncludeSwiotlbDelay = delay });
    }

    private static HostStep Step(RollingPlan plan, string host) => Assert.Single(plan.Steps, s => s.Host == host);

    [Fact]
    public void Each_bond_member_gets_its_own_command_with_its_own_PIF_uuid_and_the_bond_PIF_gets_none()
    {
        var plan = PlanFor(new PoolFacts().Host("host-1").Host("host-2").Vm("host-1", "web", 8));

        foreach (var host in new[] { "host-1", "host-2" })
        {
            var changes = Step(plan, host).Changes;
            Assert.Equal(
                [$"xe pif-param-set other-config:ethtool-gro=on uuid={PoolFacts.Pif(host, "eth4")}", $"xe pif-param-set other-config:ethtool-gro=on uuid={PoolFacts.Pif(host, "eth5")}"],
                changes.Select(c => c.Command));
            Assert.DoesNotContain(changes, c => c.PifUuid == PoolFacts.Pif(host, "bond0"));
        }
        Assert.True(plan.Complete);
    }

    [Fact]
    public void Bonded_bnx2x_on_6_2_without_XS62ESP1004_is_blocked_and_a_later_SP1_hotfix_is_accepted()
    {
        var plan = PlanFor(new PoolFacts().Host("host-1", hotfixes: ["XS62ESP1", "XS62ESP1013"]).Host("host-2", hotfixes: ["XS62ESP1"]).Vm("host-1", "web", 4));

        Assert.Equal(HostAction.RebootWithChanges, Step(plan, "host-1").Action);
        var blocked = Step(plan, "host-2");
        Assert.Equal(HostAction.Blocked, blocked.Action);
        Assert.Contains(blocked.Why, w => w.Contains("no XS62ESP1004 or later", StringComparison.Ordinal));
    }

    [Fact]
    public void On_6_5_GRO_is_on_by_default_so_no_override_is_set_and_a_leftover_one_is_removed()
    {
        var plan = PlanFor(new PoolFacts().Host("host-1", release: "6.5.0", gro: true, groOverride: "on"));

        var step = Step(plan, "host-1");
        Assert.Equal(HostAction.ChangeWithoutReboot, step.Action);
        Assert.All(step.Changes, c => Assert.Equal(PifChangeKind.RemoveGroOverride, c.Kind));
        Assert.Contains($"xe pif-param-remove uuid={PoolFacts.Pif("host-1", "eth4")} param-name=other-config param-key=ethtool-gro", step.Changes.Select(c => c.Command));
    }

    [Fact]
    public void Unknown_release_and_missing_driver_info_are_reported_not_guessed()
    {
        var facts = new PoolFacts().Host("host-1").Host("host-2", withDriver: false);
        var inventory = facts.Inventory();
        inventory.Hosts["host-1"].Release = null;
        var plan = RollingPlanner.Plan(inventory, "pool-a", new Dictionary<string, PanicPrediction>());

        Assert.Equal(HostAction.Undecided, Step(plan, "host-1").Action);
        Assert.Equal(HostAction.Undecided, Step(plan, "host-2").Action);
        Assert.Contains(plan.Undecided, u => u.StartsWith("host-1: XenServer release unknown", StringComparison.Ordinal));
        Assert.Contains(plan.Undecided, u => u.StartsWith("host-2: eth4: MTU 9000 and no driver info (ethtool -i eth4 on host-2)", StringComparison.Ordinal));
        Assert.Empty(Step(plan, "host-2").Changes);
        Assert.False(plan.Complete);
    }

    [Fact]
    public void An_unknown_pool_is_named_with_the_pools_that_are_known()
    {
        var plan = RollingPlanner.Plan(new PoolFacts().Host("host-1").Inventory(), "pool-z", new Dictionary<string, PanicPrediction>());

        Assert.Empty(plan.Steps);
        Assert.Equal("unknown pool 'pool-z': no xe pool-list names it (pools read: pool-a)", Assert.Single(plan.Undecided));
    }

    [Fact]
    public void A_pool_too_full_to_evacuate_any_host_says_so_and_names_the_VMs_that_cannot_move()
    {
        var plan = PlanFor(new PoolFacts().Host("host-1", freeGiB: 4).Host("host-2", freeGiB: 4).Vm("host-1", "db-1", 32).Vm("host-2", "db-2", 32));

        Assert.All(plan.Steps, s => Assert.Equal(HostAction.Blocked, s.Action));
        Assert.Equal("db-1", Assert.Single(Step(plan, "host-1").Unmovable).Vm);
        Assert.Contains("needs 32 GiB; the most free on a host that stays up is 4 GiB on host-2", Step(plan, "host-1").Unmovable[0].Why, StringComparison.Ordinal);
        Assert.Contains(plan.Notes, n => n.StartsWith("the pool is too full to evacuate any host", StringComparison.Ordinal));
    }

    [Fact]
    public void Evacuations_use_the_room_freed_by_hosts_already_rebooted_and_move_the_VMs_that_landed_there()
    {
        // host-2 takes host-1's 40 GiB VM; host-1 reboots empty and then takes both VMs now on host-2.
        var plan = PlanFor(new PoolFacts().Host("host-1", freeGiB: 48).Host("host-2", freeGiB: 48).Vm("host-1", "big-1", 40).Vm("host-2", "big-2", 40));

        Assert.Equal("host-2", Assert.Single(Step(plan, "host-1").Moves).ToHost);
        Assert.Equal([("big-1", "host-1", 2), ("big-2", "host-1", 1)], Step(plan, "host-2").Moves.Select(m => (m.Vm, m.ToHost, m.MoveNumber)).OrderBy(m => m.Vm));
    }

    [Fact]
    public void A_host_whose_VMs_and_the_VMs_landed_on_it_do_not_fit_on_done_hosts_is_blocked_with_the_numbers()
    {
        // host-1 (48 GiB free after its reboot) cannot take big-2 and big-1, which landed on host-2 in the first wave.
        var plan = PlanFor(new PoolFacts().Host("host-1", freeGiB: 8).Host("host-2", freeGiB: 48).Vm("host-1", "big-1", 40).Vm("host-2", "big-2", 40));

        Assert.Equal(HostAction.RebootWithChanges, Step(plan, "host-1").Action);
        var blocked = Step(plan, "host-2");
        Assert.Equal(HostAction.Blocked, blocked.Action);
        Assert.Contains("needs 40 GiB; the most free on a host that stays up is 48 GiB on host-1", blocked.Unmovable[0].Why, StringComparison.Ordinal);
    }

    [Fact]
    public void The_master_goes_first_and_alone_then_the_highest_risk_and_never_more_than_max_down_at_once()
    {
        var facts = new PoolFacts(master: "host-1").Host("host-1").Host("host-2").Host("host-3").Host("host-4").Host("host-5")
            .Vm("host-1", "vm-1", 8).Vm("host-2", "vm-2", 8).Vm("host-3", "vm-3", 8).Vm("host-4", "vm-4", 8).Vm("host-5", "vm-5", 8);
        var plan = PlanFor(facts, maxDown: 2, risk: new() { ["host-4"] = RiskLevel.Critical, ["host-1"] = RiskLevel.Latent });

        var order = plan.Steps.OrderBy(s => s.Order).ToList();
        Assert.Equal("host-1", order[0].Host);
        Assert.Equal("host-4", order[1].Host);
        Assert.Equal(1, order.Count(s => s.Wave == order[0].Wave));
        Assert.All(order.GroupBy(s => s.Wave), w => Assert.True(w.Count() <= 2));
    }

    [Fact]
    public void The_optional_swiotlb_step_is_labelled_a_delay_not_a_fix()
    {
        var plan = PlanFor(new PoolFacts().Host("host-1"), delay: true);

        var delay = Step(plan, "host-1").SwiotlbDelay!;
        Assert.Equal("/opt/xensource/libexec/xen-cmdline --set-dom0 swiotlb=128", delay.Command);
        Assert.StartsWith("DELAY, NOT A FIX", delay.Label, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("XS62ESP1004", true)]
    [InlineData("XS62ESP1013", true)]
    [InlineData("XS62ESP1003", false)]
    [InlineData("XS62ESP1", false)]
    [InlineData("XS62E004", false)]
    public void Hotfixes_that_satisfy_the_bonded_bnx2x_prerequisite(string name, bool satisfies) =>
        Assert.Equal(satisfies, RollingPlanner.IsBondedBnx2xHotfixOrLater(name));
}
