using FleetTwin.Domain.Events;

namespace FleetTwin.Twin.Contracts;

/// <summary>
/// One dom0 host (key: the host name as its syslog header prints it, e.g. <c>bn2-3c16-ix-4104</c>). Fed by its
/// stream of <see cref="Streams.HostEventBatch"/>; events for one host are applied in order.
/// </summary>
public interface IHostGrain : IGrainWithStringKey
{
    Task<HostView> GetView();

    /// <summary>
    /// The view with the host's NICs, bonds and bounce pool as their own grains know them: what an operator's "get
    /// host" shows. Assembled once and kept until the host's next batch or its bounce pool changes, so repeated
    /// queries cost one grain call, not one per NIC, bond and pool.
    /// </summary>
    Task<HostDetails> GetDetails();

    /// <summary>
    /// The fleet inventory found this host among a pool's hosts (xe host-list on the pool master lists its members):
    /// a member learns its pool even though only the master's xe pool-list names it.
    /// </summary>
    [Orleans.Concurrency.OneWay]
    Task JoinPool(string pool);

    /// <summary>
    /// The fleet inventory's view of this host's configuration changed (NIC drivers, MTU, GRO, bonds, swiotlb=): the
    /// host re-assesses its risk with it, as the planner and the backtest do.
    /// </summary>
    [Orleans.Concurrency.OneWay]
    Task SetConfiguration(Grains.HostConfigurationFacts configuration);

    /// <summary>The host's bounce-pool grain ran demand: the next <see cref="GetDetails"/> asks it again.</summary>
    [Orleans.Concurrency.OneWay]
    Task SwiotlbChanged();

    /// <summary>Events taken from the stream so far (applied + recognised duplicates): lets a replayer know it is drained.</summary>
    Task<long> GetProcessedEvents();

    /// <summary>The domain state as it is (for the planner's prediction, which needs the evidence, not the view).</summary>
    Task<Domain.Fleet.HostState> GetState();
}

/// <summary>One NIC / PIF device of a host (key <c>host/eth4</c>).</summary>
public interface INicGrain : IGrainWithStringKey
{
    Task Apply(TwinEvent[] facts);

    Task<NicView> GetView();
}

/// <summary>One bond of a host (key <c>host/bond-uuid</c>).</summary>
public interface IBondGrain : IGrainWithStringKey
{
    Task Apply(BondFact fact);

    Task<BondView?> GetView();
}

/// <summary>One pool (key: pool name-label, or its uuid when it has no name).</summary>
public interface IPoolGrain : IGrainWithStringKey
{
    Task AddHost(string host);

    Task SetMaster(string? masterUuid);

    Task<PoolView> GetView();
}

/// <summary>The fleet's directory of hosts (a single grain, key <c>fleet</c>): what exists, for listing.</summary>
public interface IFleetGrain : IGrainWithStringKey
{
    Task RegisterHost(string host);

    /// <summary>Registers many hosts with one state write (what an ingest run does).</summary>
    Task RegisterHosts(string[] hosts);

    Task<string[]> ListHosts();
}
