using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;

namespace FleetTwin.Twin.Contracts;

/// <summary>
/// What a host list shows of one host, kept by the <see cref="IHostIndexGrain"/> so listing 10,000 hosts costs one
/// grain call instead of 10,000. Its host grain pushes it after a batch that changed it.
/// </summary>
[GenerateSerializer, Immutable, Alias("fleettwin.host-summary.v1")]
public sealed record HostSummary
{
    [Id(0)] public required string Name { get; init; }
    [Id(1)] public string? Pool { get; init; }
    [Id(2)] public RiskLevel Risk { get; init; }
    [Id(3)] public string? RiskReason { get; init; }
    [Id(4)] public string? XenServerRelease { get; init; }

    /// <summary>NIC drivers ethtool -i named on the host (bnx2x, ixgbe ...), sorted.</summary>
    [Id(5)] public string[] Drivers { get; init; } = [];

    /// <summary>A NIC with generic-receive-offload off (ethtool -k, or other-config:ethtool-gro=off when the live state is unknown).</summary>
    [Id(6)] public bool GroOff { get; init; }

    /// <summary>MTUs of the host's NICs (ip link / xe pif-list), sorted, distinct.</summary>
    [Id(7)] public int[] Mtus { get; init; } = [];

    [Id(8)] public long ExhaustionEvents { get; init; }
    [Id(9)] public int Panics { get; init; }
    [Id(10)] public double? LastUptime { get; init; }

    /// <summary>Index version at which this summary was stored (set by the index).</summary>
    [Id(11)] public long Version { get; init; }

    /// <summary>
    /// The host's details revision: it grows with every change of what GetHost shows except the bounce pool's
    /// occupancy, so a reader holding details of this revision or later knows they are current.
    /// </summary>
    [Id(12)] public long Revision { get; init; }

    /// <summary>The twin runs this host's bounce pool: its occupancy changes without a new revision (never cache its details).</summary>
    [Id(13)] public bool RunsBouncePool { get; init; }

    /// <summary>P(swiotlb panic within the prediction's horizon, 24 h), null without evidence to estimate it from.</summary>
    [Id(14)] public double? PanicProbability { get; init; }

    /// <summary>The conservative exhaustion rate per hour the prediction decided on (<c>ExhaustionEvidence.RatePerHour</c>), null without failures.</summary>
    [Id(15)] public double? ExhaustionRatePerHour { get; init; }

    /// <summary>Same content, ignoring <see cref="Version"/>: a host pushes only summaries that differ.</summary>
    public bool SameAs(HostSummary? other) =>
        other is not null && Name == other.Name && Pool == other.Pool && Risk == other.Risk && RiskReason == other.RiskReason
        && XenServerRelease == other.XenServerRelease && Drivers.AsSpan().SequenceEqual(other.Drivers) && GroOff == other.GroOff
        && Mtus.AsSpan().SequenceEqual(other.Mtus) && ExhaustionEvents == other.ExhaustionEvents && Panics == other.Panics
        && LastUptime == other.LastUptime && Revision == other.Revision && RunsBouncePool == other.RunsBouncePool
        && PanicProbability == other.PanicProbability && ExhaustionRatePerHour == other.ExhaustionRatePerHour;
}

/// <summary>Summaries changed since a version. <see cref="Epoch"/> changes when the index starts from nothing (new storage).</summary>
[GenerateSerializer, Immutable, Alias("fleettwin.host-index-delta.v1")]
public sealed record HostIndexDelta([property: Id(0)] string Epoch, [property: Id(1)] long Version, [property: Id(2)] HostSummary[] Changed);

/// <summary>
/// The fleet's host index (single grain, key <c>fleet</c>): one <see cref="HostSummary"/> per host, versioned so a
/// reader (the gRPC front door's cache in each silo) fetches only what changed.
/// </summary>
public interface IHostIndexGrain : IGrainWithStringKey
{
    Task Update(HostSummary summary);

    /// <summary>Summaries stored after <paramref name="sinceVersion"/> in index epoch <paramref name="epoch"/>; everything when the epoch differs.</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<HostIndexDelta> GetChanges(string? epoch, long sinceVersion);
}

/// <summary>What an alert is about.</summary>
public enum AlertKind : byte
{
    /// <summary>The host's risk level changed (other than a new host's first "unknown -> ok").</summary>
    RiskChanged = 0,

    /// <summary>The host's twin applied a kernel panic.</summary>
    Panic = 1,
}

/// <summary>One alert. <see cref="Sequence"/> is assigned by the <see cref="IAlertLogGrain"/>: increasing, no gaps.</summary>
[GenerateSerializer, Immutable, Alias("fleettwin.twin-alert.v1")]
public sealed record TwinAlert
{
    [Id(0)] public long Sequence { get; init; }
    [Id(1)] public required string Host { get; init; }
    [Id(2)] public string? Pool { get; init; }
    [Id(3)] public AlertKind Kind { get; init; }
    [Id(4)] public RiskLevel PreviousRisk { get; init; }
    [Id(5)] public RiskLevel Risk { get; init; }
    [Id(6)] public string? Reason { get; init; }
    [Id(7)] public string? PanicMessage { get; init; }
    [Id(8)] public DateTimeOffset RaisedAt { get; init; }
    [Id(9)] public double? Uptime { get; init; }
}

/// <summary>Alerts after a sequence number. <see cref="Gap"/>: some the caller asked for are no longer kept (or the log started anew).</summary>
[GenerateSerializer, Immutable, Alias("fleettwin.alert-backlog.v1")]
public sealed record AlertBacklog(
    [property: Id(0)] string Epoch,
    [property: Id(1)] long LastSequence,
    [property: Id(2)] TwinAlert[] Alerts,
    [property: Id(3)] bool Gap);

/// <summary>
/// The fleet's alert log (single grain, key <c>fleet</c>): numbers alerts, keeps the last
/// <see cref="AlertLogLimits.Kept"/> for clients that reconnect with a resume token, and publishes each on the
/// stream <c>alerts</c>/<c>fleet</c>.
/// </summary>
public interface IAlertLogGrain : IGrainWithStringKey
{
    /// <summary>
    /// Numbers, persists and publishes the alerts; completes once they are durable. Interleaves with other appends so
    /// that appends arriving while a write is in flight are committed together by the next write (group commit).
    /// </summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task Append(TwinAlert[] alerts);

    /// <summary>Alerts with a sequence above <paramref name="afterSequence"/> of log <paramref name="epoch"/> (all kept ones when the epoch is another log's).</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<AlertBacklog> Since(string? epoch, long afterSequence);
}

public static class AlertLogLimits
{
    /// <summary>Alerts kept for resuming clients: a day of a bad fleet's alerts at a few a minute.</summary>
    public const int Kept = 4096;
}

/// <summary>
/// The fleet inventory the planner needs (single grain, key <c>fleet</c>): pools, hosts, PIFs, bonds, hotfixes, VMs and
/// NIC facts, applied from the fact events the host grains forward (one call per batch holding facts).
/// </summary>
public interface IInventoryGrain : IGrainWithStringKey
{
    Task Apply(TwinEvent[] facts);

    [Orleans.Concurrency.ReadOnly]
    Task<FleetInventory> GetInventory();
}
