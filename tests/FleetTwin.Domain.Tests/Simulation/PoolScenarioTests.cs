using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Simulation;
using FleetTwin.Domain.Tests.Planning;

namespace FleetTwin.Domain.Tests.Simulation;

/// <summary>PoolScenario: a pool the twin knows (inventory + host states) as a scenario, and the what-if changes.</summary>
public class PoolScenarioTests
{
    private static readonly string[] Hosts = ["host-1", "host-2", "host-3"];

    /// <summary>The KB pool's shape: three 6.2 hosts, bnx2x bond eth4+eth5 at MTU 9000 with GRO off, eth0 management (no ethtool -i read).</summary>
    private static PoolFacts KbLikePool(bool withDriver = true)
    {
        var facts = new PoolFacts();
        foreach (var host in Hosts)
            facts.Host(host, withDriver: withDriver);
        return facts;
    }

    private static FleetInventory WithManagementNics(PoolFacts facts)
    {
        var inventory = facts.Inventory();
        foreach (var host in Hosts)
        {
            inventory.Apply(new PifFact
            {
                Host = "host-1", Uuid = PoolFacts.Pif(host, "eth0"), Device = "eth0", Mtu = 1500, HostUuid = PoolFacts.Uuid(host), HostName = host,
                Physical = true, Management = true,
            });
        }
        return inventory;
    }

    private static PoolScenario Build(FleetInventory inventory, PoolScenarioRequest? request = null) =>
        PoolScenario.From(inventory, inventory.FindPool("pool-a")!, null, request ?? new PoolScenarioRequest());

    [Fact]
    public void The_KB_pool_becomes_one_pool_spec_with_the_bnx2x_bond_as_storage_at_MTU_9000_GRO_off_and_the_documented_defaults()
    {
        var built = Build(WithManagementNics(KbLikePool()));

        var pool = Assert.Single(built.Scenario.Pools);
        Assert.Equal(Hosts, pool.HostNames);
        Assert.Equal("host-1", built.LayoutHost);
        Assert.Equal("bond0", built.StorageBond);
        var storage = Assert.Single(pool.Bonds, b => b.Networks.Contains("storage"));
        Assert.Equal(["eth4", "eth5"], storage.Members);
        Assert.All(pool.Nics, n => Assert.Equal(("bnx2x", 9000, false), (n.Driver.Driver, n.Mtu, n.Gro)));
        Assert.Equal(["0000:04:00.0", "0000:04:00.1"], pool.Nics.Select(n => n.BusId));
        Assert.Equal(64, pool.SwiotlbMiB);
        Assert.Equal("6.2", pool.Release);
        var network = Assert.Single(pool.Networks);
        Assert.Equal((TrafficKind.Storage, 20_000.0), (network.Kind, network.TxPacketsPerSecondPerVm));
        Assert.Equal(new DiurnalSpec(14, 0.6), network.Diurnal);
        Assert.Equal(new BurstSpec(60, 4, 4), network.Bursts);
        Assert.Equal([2, 4, 6, 8, 10, 12], pool.VmStarts.Bursts.Select(b => b.AtSeconds / 3600));
        Assert.Equal(1.0, pool.VmStarts.SteadyPerHostPerHour);
        Assert.All(Hosts, h => Assert.Equal(PoolTraffic.DefaultVmsPerHost, pool.VmsOn(h)));
        Assert.Equal(SimulationEngineKind.Exact, built.Scenario.Engine);
        Assert.Equal(24 * 3600.0, built.Scenario.DurationSeconds);
        Assert.Empty(built.Scenario.Interventions);
        // What was not modelled, and why, is said.
        Assert.Contains(built.Assumptions, a => a.StartsWith("eth0 left out: driver and PCI bus id unknown (ethtool -i eth0 on host-1", StringComparison.Ordinal));
        Assert.Contains(built.Assumptions, a => a.Contains("of the pool master host-1", StringComparison.Ordinal));
        Assert.Contains(built.Assumptions, a => a.StartsWith("dom0 swiotlb of host-1", StringComparison.Ordinal) && a.EndsWith("the 64 MiB default", StringComparison.Ordinal));
    }

    [Fact]
    public void Known_resident_VMs_and_the_dom0_command_line_are_used_and_overrides_win()
    {
        var facts = KbLikePool().Vm("host-1", "a", 4).Vm("host-1", "b", 4).Vm("host-3", "c", 4);
        var inventory = facts.Inventory();
        inventory.Apply(new Dom0CommandLine { Host = "host-1", CommandLine = "swiotlb=128", Swiotlb = "128", SwiotlbSize = 128 });

        var known = Build(inventory);
        var forced = Build(inventory, new PoolScenarioRequest { Traffic = new PoolTraffic { VmsPerHost = 60, StorageTxPacketsPerSecondPerVm = 1000 } });

        Assert.Equal([2, 0, 1], Hosts.Select(known.Pool.VmsOn));
        Assert.Equal(128, known.Pool.SwiotlbMiB);
        Assert.Equal([60, 60, 60], Hosts.Select(forced.Pool.VmsOn));
        Assert.Equal(1000, forced.Pool.Networks.Single(n => n.Kind == TrafficKind.Storage).TxPacketsPerSecondPerVm);
    }

    [Fact]
    public void Storage_is_the_jumbo_bond_even_when_a_1500_bond_has_more_members_else_the_largest_bond_without_management()
    {
        var jumbo = WithManagementNics(KbLikePool());
        AddBond(jumbo, "bond1", 1500, "eth6", "eth7", "eth8");
        var flat = WithManagementNics(KbLikePool());
        foreach (var pif in flat.Pifs.Values.Where(p => p.Device is "eth4" or "eth5" or "bond0"))
            pif.Mtu = 1500;
        AddBond(flat, "bond1", 1500, "eth6", "eth7", "eth8");

        var a = Build(jumbo);
        var b = Build(flat);

        Assert.Equal("bond0", a.StorageBond);
        Assert.Contains(a.Assumptions, x => x.StartsWith("storage traffic on bond0 (eth4+eth5): the interface at jumbo MTU 9000", StringComparison.Ordinal));
        Assert.Equal(["vm-bond1"], a.Pool.Bonds.Single(x => x.Name == "bond1").Networks);
        Assert.Equal("bond1", b.StorageBond);
        Assert.Contains(b.Assumptions, x => x.StartsWith("storage traffic on bond1 (eth6+eth7+eth8): no jumbo-MTU interface", StringComparison.Ordinal));
    }

    private static void AddBond(FleetInventory inventory, string bond, int mtu, params string[] devices)
    {
        var host = "host-1";
        var uuid = bond + "-" + host;
        var bus = 6;
        foreach (var device in devices)
        {
            inventory.Apply(new PifFact { Host = host, Uuid = PoolFacts.Pif(host, device), Device = device, Mtu = mtu, HostUuid = PoolFacts.Uuid(host), HostName = host, BondSlaveOf = uuid, Physical = true });
            inventory.Apply(new NicDriver { Host = host, Device = device, Driver = "ixgbe", BusInfo = $"0000:0{bus++}:00.0" });
            inventory.Apply(new NicOffloads { Host = host, Device = device, GenericReceiveOffload = false });
        }
        inventory.Apply(new PifFact { Host = host, Uuid = PoolFacts.Pif(host, bond), Device = bond, Mtu = mtu, HostUuid = PoolFacts.Uuid(host), HostName = host, BondMasterOf = uuid, Physical = false });
    }

    [Fact]
    public void A_per_host_change_reaches_only_that_host_from_the_start_without_a_reboot()
    {
        var built = Build(WithManagementNics(KbLikePool()), new PoolScenarioRequest
        {
            Hours = 0.25,
            Changes = [new SettingChange("host-2", "gro", "on"), new SettingChange("host-3", "swiotlb", "128"), new SettingChange(null, "mtu", "9000")],
        });

        var result = built.Run();

        Assert.Equal(["gro=on on host-2", "swiotlb=128 on host-3", "mtu=9000 on bond0 of every host"], built.Scenario.Interventions.Select(i => i.Label));
        Assert.All(built.Scenario.Interventions, i => Assert.True(i.FromStart));
        var baseline = result.Baseline.Hosts.ToDictionary(h => h.Name);
        var whatIf = result.WhatIf!.Hosts.ToDictionary(h => h.Name);
        Assert.All(baseline.Values, h => Assert.Empty(h.Interventions));
        Assert.Equal(["gro=on on host-2", "mtu=9000 on bond0 of every host"], whatIf["host-2"].Interventions);
        Assert.Equal(["swiotlb=128 on host-3", "mtu=9000 on bond0 of every host"], whatIf["host-3"].Interventions);
        // GRO on: bnx2x receives into pages (TPA), nothing stands in the pool; 128 MiB halves the standing share.
        Assert.Equal(baseline["host-1"].StandingRxShare, whatIf["host-1"].StandingRxShare);
        Assert.Equal(0, whatIf["host-2"].StandingRxShare);
        Assert.Equal(baseline["host-3"].StandingRxShare / 2, whatIf["host-3"].StandingRxShare, 6);
        // From the start: the changed hosts boot once and never go down for the change (no reboot, same VM starts as host-1's stream would give).
        Assert.All(whatIf.Values, h => Assert.Empty(h.Panics));
        Assert.True(whatIf["host-2"].Occupancy[0] < baseline["host-2"].Occupancy[0]);
    }

    [Fact]
    public void Bad_changes_and_hours_name_the_field()
    {
        var inventory = WithManagementNics(KbLikePool());
        PoolScenarioException Fails(PoolScenarioRequest request) => Assert.Throws<PoolScenarioException>(() => Build(inventory, request));

        Assert.Equal("changes[0].setting: 'speed' is not a setting a what-if can change (gro, mtu, swiotlb)",
            Fails(new PoolScenarioRequest { Changes = [new SettingChange(null, "speed", "10")] }).Message);
        Assert.Equal("changes[1].value: 'maybe' is not on or off (gro)",
            Fails(new PoolScenarioRequest { Changes = [new SettingChange(null, "gro", "on"), new SettingChange(null, "gro", "maybe")] }).Message);
        Assert.Equal("changes[0].value: '70000' is not an MTU (a whole number 68..65535)",
            Fails(new PoolScenarioRequest { Changes = [new SettingChange(null, "mtu", "70000")] }).Message);
        Assert.Equal("changes[0].value: '0' is not a swiotlb size in MiB (a whole number 1..4096)",
            Fails(new PoolScenarioRequest { Changes = [new SettingChange(null, "swiotlb", "0")] }).Message);
        Assert.Equal("changes[0].host: no host 'host-9' in pool 'pool-a' (its hosts: host-1, host-2, host-3; empty means every host)",
            Fails(new PoolScenarioRequest { Changes = [new SettingChange("host-9", "gro", "on")] }).Message);
        Assert.Equal("changes[0].setting", Fails(new PoolScenarioRequest { Changes = [new SettingChange(null, "", "on")] }).Field);
        Assert.Equal("hours", Fails(new PoolScenarioRequest { Hours = 169 }).Field);
        Assert.Equal("hours", Fails(new PoolScenarioRequest { Hours = double.NaN }).Field);
        Assert.Equal("traffic.vms_per_host", Fails(new PoolScenarioRequest { Traffic = new PoolTraffic { VmsPerHost = -1 } }).Field);
    }

    [Fact]
    public void A_pool_without_NIC_driver_facts_says_which_output_to_ingest()
    {
        var inventory = KbLikePool(withDriver: false).Inventory();

        var error = Assert.Throws<PoolFactsMissingException>(() => Build(inventory));

        Assert.Contains("no NIC it can model on any host of pool 'pool-a'", error.Message, StringComparison.Ordinal);
        Assert.Contains("ethtool -i ethN", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_known_master_the_layout_is_the_first_host_by_name_with_NIC_facts_and_other_hosts_differences_are_named()
    {
        var inventory = WithManagementNics(KbLikePool());
        inventory.Pools.Values.Single().MasterUuid = null;
        inventory.Hosts["host-1"].ListedBy.Add("host-1");
        inventory.Pools.Values.Single().ReportedBy.Add("host-1");
        inventory.Apply(new NicOffloads { Host = "host-3", Device = "eth4", GenericReceiveOffload = true });

        var built = Build(inventory);

        Assert.Equal("host-1", built.LayoutHost);
        Assert.Contains(built.Assumptions, a => a.Contains("(the pool master is not known; first host by name with NIC facts)", StringComparison.Ordinal));
        Assert.Contains(built.Assumptions, a => a.StartsWith("host-3 differs from host-1 (eth4 GRO on)", StringComparison.Ordinal));
    }

    [Fact]
    public void A_cancelled_run_stops_with_OperationCanceledException()
    {
        var built = Build(WithManagementNics(KbLikePool()), new PoolScenarioRequest { Hours = PoolScenario.MaxHours });
        using var cancel = new CancellationTokenSource();
        var progressCalls = 0;

        Assert.ThrowsAny<OperationCanceledException>(() => built.Run((_, _) =>
        {
            if (++progressCalls == 2)
                cancel.Cancel();
        }, cancel.Token));
        Assert.Equal(2, progressCalls);
    }
}
