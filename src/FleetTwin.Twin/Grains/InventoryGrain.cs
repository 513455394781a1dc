using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Prediction;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.Twin.Grains;

[GenerateSerializer, Alias("fleettwin.inventory-grain-state.v1")]
public sealed class InventoryGrainState
{
    [Id(0)] public FleetInventory Inventory { get; set; } = new();
}

/// <summary>
/// The fleet inventory (key <c>fleet</c>), fleet-wide because xe on a pool master names other hosts (their PIFs, VMs,
/// host records): the same domain <see cref="FleetInventory"/> the offline verbs build from files.
/// </summary>
public sealed class InventoryGrain([PersistentState("inventory", TwinStorage.Name)] IPersistentState<InventoryGrainState> state)
    : CoalescedWriteGrain<InventoryGrainState>(state), IInventoryGrain
{
    /// <summary>The events <see cref="FleetInventory.Apply"/> uses; host grains forward exactly these.</summary>
    public static bool IsFact(TwinEvent e) => e is PifFact or BondFact or XenHostFact or PoolFact or HotfixFact or VmFact
        or NicDriver or NicOffloads or LinkMtu or PciNic or Dom0CommandLine or KernelBoot;

    /// <summary>Pool each host was last told it belongs to (rebuilt after activation by telling them again).</summary>
    private readonly Dictionary<string, string> _toldPool = new(StringComparer.Ordinal);

    /// <summary>Configuration each host was last told (after activation every affected host is told again: it ignores the same facts).</summary>
    private readonly Dictionary<string, HostConfigurationFacts> _toldConfiguration = new(StringComparer.Ordinal);

    public Task Apply(TwinEvent[] facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        HashSet<string>? reporters = null;
        var affected = new HashSet<string>(StringComparer.Ordinal);
        var poolWide = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fact in facts)
        {
            State.Inventory.Apply(fact);
            if (fact is PoolFact or XenHostFact && fact.Host is { } reporter)
                (reporters ??= new HashSet<string>(StringComparer.Ordinal)).Add(reporter);
            if (fact.Host is { } host)
                affected.Add(host);
            switch (fact)
            {
                case PifFact { HostName: { } pifHost }: affected.Add(pifHost); break;
                case XenHostFact { NameLabel: { } listed }: affected.Add(listed); break;
            }
            // A master's PIF, bond and host lists speak for every host of its pool.
            if (fact is PifFact or BondFact or XenHostFact && fact.Host is { } master)
                poolWide.Add(master);
        }
        MarkDirty();
        if (reporters is not null)
            TellMembersTheirPool(reporters);
        TellHostsTheirConfiguration(affected, poolWide);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Sends each affected host its configuration when it changed, so the host grain's own risk (and with it the index,
    /// ListHosts, the alert watch and the metrics) uses the same configuration the planner does. One-way, like
    /// <see cref="TellMembersTheirPool"/>: the host may be the grain whose batch is being forwarded here.
    /// </summary>
    private void TellHostsTheirConfiguration(HashSet<string> affected, HashSet<string> poolWide)
    {
        var inventory = State.Inventory;
        if (poolWide.Count > 0)
        {
            foreach (var pool in inventory.Pools.Values.Where(p => p.ReportedBy.Overlaps(poolWide)))
                affected.UnionWith(inventory.HostsOf(pool).Select(h => h.Name));
        }
        foreach (var name in affected)
        {
            if (name.Length == 0 || !inventory.Hosts.TryGetValue(name, out var host))
                continue;
            var facts = HostConfigurationFacts.From(HostConfiguration.From(inventory, host));
            if (facts.SameAs(_toldConfiguration.GetValueOrDefault(name)))
                continue;
            _toldConfiguration[name] = facts;
            GrainFactory.GetGrain<IHostGrain>(name).SetConfiguration(facts).Ignore();
        }
    }

    /// <summary>
    /// Only the master's xe pool-list names the pool; its xe host-list names the members. Each member host is told its
    /// pool once (one-way: the host may be the very grain whose batch is being forwarded here). Only the pools the
    /// batch's reporting hosts speak for are looked at, not the whole fleet per batch.
    /// </summary>
    private void TellMembersTheirPool(HashSet<string> reporters)
    {
        var inventory = State.Inventory;
        foreach (var pool in inventory.Pools.Values.Where(p => p.ReportedBy.Overlaps(reporters)))
        {
            var name = pool.Name ?? pool.Uuid;
            foreach (var host in inventory.HostsOf(pool))
            {
                if (host.Name.Length == 0 || (_toldPool.TryGetValue(host.Name, out var told) && told == name))
                    continue;
                _toldPool[host.Name] = name;
                GrainFactory.GetGrain<IHostGrain>(host.Name).JoinPool(name).Ignore();
            }
        }
    }

    public Task<FleetInventory> GetInventory() => Task.FromResult(State.Inventory);
}
