using FleetTwin.Domain.Drivers;

namespace FleetTwin.Domain.Simulation;

/// <summary>
/// A what-if simulation as the SRE wrote it (docs/simulation.md): pools of hosts with their dom0 and NIC
/// configuration, the workload generators that drive them, host failures and interventions at given times.
/// Same file + same seed = same results.
/// </summary>
public sealed record Scenario(
    string Name,
    int Seed,
    double DurationSeconds,
    SimulationEngineKind Engine,
    int StepSeconds,
    IReadOnlyList<PoolSpec> Pools,
    IReadOnlyList<HostFailureSpec> HostFailures,
    IReadOnlyList<InterventionSpec> Interventions,
    string SourceName)
{
    /// <summary>Every host of every pool, expanded, in scenario order.</summary>
    public IEnumerable<(PoolSpec Pool, string Host, int IndexInPool)> Hosts()
    {
        foreach (var pool in Pools)
        {
            for (var i = 0; i < pool.HostNames.Count; i++)
                yield return (pool, pool.HostNames[i], i);
        }
    }

    public int HostCount => Pools.Sum(p => p.HostNames.Count);

    /// <summary>The same scenario without its interventions: the baseline "what if we do nothing".</summary>
    public Scenario WithoutInterventions() => this with { Interventions = [] };
}

/// <summary>Which engine runs the hosts' bounce pools.</summary>
public enum SimulationEngineKind
{
    /// <summary>Hazard model calibrated by exact windows of the allocator (fleet scale).</summary>
    Fast,

    /// <summary>The exact allocator second by simulated second for every host (small pools, hours to days).</summary>
    Exact,
}

/// <summary>A pool: its hosts (all alike) and the generators that drive them.</summary>
/// <remarks>
/// Hosts share one NIC/bond layout and dom0 configuration; only their running VMs may differ
/// (<see cref="VmsOnHost"/>), because a pool built from the live twin knows each host's resident VMs.
/// </remarks>
public sealed record PoolSpec(
    string Name,
    IReadOnlyList<string> HostNames,
    string Release,
    int SwiotlbMiB,
    int VmsPerHost,
    int RebootMinutes,
    IReadOnlyList<NicSpec> Nics,
    IReadOnlyList<BondSpec> Bonds,
    IReadOnlyList<NetworkSpec> Networks,
    VmStartSpec VmStarts)
{
    /// <summary>
    /// Running VMs per host where a host differs from <see cref="VmsPerHost"/> (e.g. xe vm-list's resident VMs); hosts
    /// not listed run <see cref="VmsPerHost"/>. <see cref="VmsPerHost"/> stays the pool's reference density (the fast
    /// engine calibrates around it).
    /// </summary>
    public IReadOnlyDictionary<string, int>? VmsOnHost { get; init; }

    /// <summary>The VMs <paramref name="host"/> runs at the start.</summary>
    public int VmsOn(string host) => VmsOnHost is { } byHost && byHost.TryGetValue(host, out var vms) ? vms : VmsPerHost;
}

/// <summary>One NIC port of every host of a pool (a PIF's device).</summary>
public sealed record NicSpec(string Device, string BusId, DriverProfile Driver, int Mtu, bool Gro, int? RxRingPerQueue, int? RxQueues)
{
    /// <summary>RX buffers posted on the port: ring per queue x queues when given, else the driver default.</summary>
    public int? RxBuffersOverride => RxRingPerQueue is { } ring ? ring * (RxQueues ?? 1) : null;
}

/// <summary>A bond of a pool's hosts and the networks it carries.</summary>
public sealed record BondSpec(string Name, IReadOnlyList<string> Members, IReadOnlyList<string> Networks);

/// <summary>Whether a network carries storage (NFS/iSCSI from dom0, the KB incident's bond) or guest traffic.</summary>
public enum TrafficKind
{
    Storage,
    Vm,
}

/// <summary>
/// Traffic on one network, per port of the bond (or NIC) carrying it: transmit packets per second per running VM at
/// the diurnal peak, shaped by a diurnal curve and periodic bursts, with an optional TX size mix (packet/GSO sizes;
/// the driver profile's mix when absent).
/// </summary>
public sealed record NetworkSpec(
    string Name,
    TrafficKind Kind,
    double TxPacketsPerSecondPerVm,
    DiurnalSpec Diurnal,
    BurstSpec Bursts,
    IReadOnlyList<TxSizeBand>? TxSizeMix);

/// <summary>A daily curve: 1.0 at <see cref="PeakHour"/>, <see cref="TroughFactor"/> twelve hours away (cosine).</summary>
public sealed record DiurnalSpec(double PeakHour, double TroughFactor)
{
    public static DiurnalSpec Flat { get; } = new(0, 1);

    public double FactorAt(double seconds)
    {
        var hour = seconds / 3600.0 % 24;
        var phase = (hour - PeakHour) / 24 * 2 * Math.PI;
        return TroughFactor + (1 - TroughFactor) * (1 + Math.Cos(phase)) / 2;
    }
}

/// <summary>Periodic bursts: every <see cref="EverySeconds"/>, <see cref="LengthSeconds"/> long, rate x <see cref="Factor"/>.</summary>
public sealed record BurstSpec(int EverySeconds, int LengthSeconds, double Factor)
{
    public static BurstSpec None { get; } = new(60, 0, 1);

    public double FactorAt(long second) => LengthSeconds > 0 && second % EverySeconds < LengthSeconds ? Factor : 1.0;

    /// <summary>The mean factor over a period (what a step longer than a burst sees on average).</summary>
    public double MeanFactor => LengthSeconds <= 0 ? 1 : 1 + (Factor - 1) * LengthSeconds / EverySeconds;
}

/// <summary>
/// VM starts on each host of a pool: a steady rate (each start replaces a stopping VM, so density stays), bursts at
/// given times, and the storm after a host failure (its VMs restart on the pool's other hosts within a few minutes).
/// A VM start boosts the host's storage traffic for a while (its disk is read as it boots).
/// </summary>
public sealed record VmStartSpec(
    double SteadyPerHostPerHour,
    IReadOnlyList<VmStartBurst> Bursts,
    bool StormAfterHostFailure,
    int StormMinutes,
    int BootBoostMinutes,
    double BootBoostFactor)
{
    public static VmStartSpec Default { get; } = new(0.5, [], true, 10, 5, 2.0);
}

/// <summary>A burst of VM starts: <see cref="VmsPerHost"/> VMs start on each host at <see cref="AtSeconds"/>.</summary>
public sealed record VmStartBurst(double AtSeconds, int VmsPerHost);

/// <summary>A host that fails (power, hardware) at a given time: its VMs restart on the pool's other hosts.</summary>
public sealed record HostFailureSpec(string Host, double AtSeconds, string Position);

/// <summary>What an intervention changes.</summary>
public enum InterventionAction
{
    /// <summary>GRO on for the NICs (a bond's members, or every NIC), effective at the host's reboot.</summary>
    EnableGro,

    /// <summary><c>swiotlb=N</c> on the dom0 command line, effective at the host's reboot.</summary>
    SetSwiotlb,

    /// <summary>A network's (or every jumbo NIC's) MTU, effective at the host's reboot.</summary>
    SetMtu,

    /// <summary>The planner's rolling GRO plan: GRO on every NIC whose RX bounces, master first, one host at a time.</summary>
    RollingPlan,

    /// <summary>GRO off for the NICs (a bond's members, or every NIC), effective at the host's reboot: the what-if "had we left it off".</summary>
    DisableGro,
}

/// <summary>
/// A change applied at <see cref="AtSeconds"/> to a share of a pool's hosts (the first ones by name, or the
/// <see cref="Hosts"/> named), one host after another <see cref="MinutesPerHost"/> apart, each through an
/// evacuate-and-reboot (no VM restart storm). With <see cref="FromStart"/> the hosts instead run with the change from
/// the start of the run: the what-if "had it been so all along".
/// </summary>
public sealed record InterventionSpec(
    string Label,
    double AtSeconds,
    InterventionAction Action,
    string Pool,
    double Fraction,
    int MinutesPerHost,
    string? Bond,
    string? Network,
    int? Mtu,
    int? SwiotlbMiB,
    string Position)
{
    /// <summary>The hosts the change reaches, by name, in place of <see cref="Fraction"/>'s first hosts; null: by fraction.</summary>
    public IReadOnlyList<string>? Hosts { get; init; }

    /// <summary>
    /// True: the hosts boot with the change at time 0 — no evacuation, no reboot, no downtime; <see cref="AtSeconds"/>
    /// and <see cref="MinutesPerHost"/> are not used. What a what-if of a setting compares against the pool as it is.
    /// </summary>
    public bool FromStart { get; init; }
}
