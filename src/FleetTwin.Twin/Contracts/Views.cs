namespace FleetTwin.Twin.Contracts;

/// <summary>Everything the twin knows about one host, as operators read it.</summary>
[GenerateSerializer, Immutable, Alias("fleettwin.host-view.v1")]
public sealed record HostView
{
    [Id(0)] public required string Name { get; init; }
    [Id(1)] public string? Pool { get; init; }
    [Id(2)] public string? Uuid { get; init; }
    [Id(3)] public string? XenServerRelease { get; init; }
    [Id(4)] public string? Kernel { get; init; }
    [Id(5)] public int Boots { get; init; }
    [Id(6)] public long ExhaustionEvents { get; init; }
    [Id(7)] public long LargestFailedMappingBytes { get; init; }
    [Id(8)] public DeviceExhaustionView[] Devices { get; init; } = [];
    [Id(9)] public PanicView[] Panics { get; init; } = [];
    [Id(10)] public VmStartView[] VmStarts { get; init; } = [];
    [Id(11)] public NicView[] Nics { get; init; } = [];
    [Id(12)] public string[] Bonds { get; init; } = [];
    [Id(13)] public int? SwiotlbMiB { get; init; }
    [Id(14)] public string Risk { get; init; } = "unknown";
    [Id(15)] public string? RiskReason { get; init; }
    [Id(16)] public double? FirstExhaustionUptime { get; init; }
    [Id(17)] public double? LastUptime { get; init; }
    [Id(18)] public long AppliedEvents { get; init; }
    [Id(19)] public long DuplicateRecords { get; init; }
    [Id(20)] public string[] Hotfixes { get; init; } = [];
    [Id(21)] public long? MemoryTotalBytes { get; init; }
    [Id(22)] public long? MemoryFreeBytes { get; init; }
    [Id(23)] public int ResidentVms { get; init; }

    /// <summary>All VM starts applied (<see cref="VmStarts"/> lists the latest ones only).</summary>
    [Id(24)] public long VmStartEvents { get; init; }
}

[GenerateSerializer, Immutable, Alias("fleettwin.device-exhaustion-view.v1")]
public sealed record DeviceExhaustionView([property: Id(0)] string BusId, [property: Id(1)] string? Device, [property: Id(2)] long ExhaustionEvents);

[GenerateSerializer, Immutable, Alias("fleettwin.panic-view.v1")]
public sealed record PanicView(
    [property: Id(0)] double? Uptime,
    [property: Id(1)] DateTimeOffset? Time,
    [property: Id(2)] string Message,
    [property: Id(3)] string? Comm,
    [property: Id(4)] int? Pid,
    [property: Id(5)] string[] Trace,
    [property: Id(6)] long? CauseBytes,
    [property: Id(7)] string? CauseDevice,
    [property: Id(8)] string? CauseDirection,
    [property: Id(9)] string? Via)
{
    /// <summary>One line an operator can check: "33302-byte to-device mapping at 0000:04:00.1 via bnx2x_start_xmit".</summary>
    public string Cause => CauseBytes is null
        ? Via is null ? "unknown" : $"via {Via}"
        : $"{CauseBytes}-byte {CauseDirection ?? "?"} mapping at {CauseDevice} found no SWIOTLB room{(Via is null ? "" : $" (via {Via})")}";
}

[GenerateSerializer, Immutable, Alias("fleettwin.vm-start-view.v1")]
public sealed record VmStartView([property: Id(0)] int Domid, [property: Id(1)] double? Uptime, [property: Id(2)] DateTimeOffset? Time);

/// <summary>One NIC (PIF device) of a host.</summary>
[GenerateSerializer, Immutable, Alias("fleettwin.nic-view.v1")]
public sealed record NicView
{
    [Id(0)] public required string Host { get; init; }
    [Id(1)] public required string Device { get; init; }
    [Id(2)] public string? BusId { get; init; }
    [Id(3)] public string? Driver { get; init; }
    [Id(4)] public string? DriverVersion { get; init; }
    [Id(5)] public int? Mtu { get; init; }
    [Id(6)] public bool? Gro { get; init; }
    [Id(7)] public string? GroOverride { get; init; }
    [Id(8)] public string? PifUuid { get; init; }
    [Id(9)] public string? BondSlaveOf { get; init; }
    [Id(10)] public string? BondMasterOf { get; init; }
    [Id(11)] public string[] OffloadsOn { get; init; } = [];
}

[GenerateSerializer, Immutable, Alias("fleettwin.bond-view.v1")]
public sealed record BondView(
    [property: Id(0)] string Host,
    [property: Id(1)] string Uuid,
    [property: Id(2)] string? MasterPif,
    [property: Id(3)] string[] MemberPifs,
    [property: Id(4)] string? Mode);

[GenerateSerializer, Immutable, Alias("fleettwin.pool-view.v1")]
public sealed record PoolView(
    [property: Id(0)] string Name,
    [property: Id(1)] string? MasterUuid,
    [property: Id(2)] string[] Hosts);

/// <summary>Occupancy of a host's bounce pool as the allocator grain holds it.</summary>
[GenerateSerializer, Immutable, Alias("fleettwin.swiotlb-view.v1")]
public sealed record SwiotlbView(
    [property: Id(0)] int PoolSlabs,
    [property: Id(1)] int SlabsInUse,
    [property: Id(2)] int HighWaterSlabs,
    [property: Id(3)] int Mappings,
    [property: Id(4)] int LargestFreeRun,
    [property: Id(5)] double Fragmentation,
    [property: Id(6)] long ExhaustionEvents,
    [property: Id(7)] bool Panicked,
    [property: Id(8)] string? PanicMessage)
{
    /// <summary>The view of a host whose bounce pool the twin does not run (no occupancy to show).</summary>
    public static SwiotlbView NotRun { get; } = new(0, 0, 0, 0, 0, 0, 0, false, null);
}

/// <summary>A host with its NICs, bonds (those its bond-list named and those its PIFs name) and bounce pool.</summary>
[GenerateSerializer, Immutable, Alias("fleettwin.host-details.v1")]
public sealed record HostDetails(
    [property: Id(0)] HostView View,
    [property: Id(1)] NicView[] Nics,
    [property: Id(2)] BondView[] Bonds,
    [property: Id(3)] SwiotlbView Swiotlb,
    [property: Id(4)] long Revision);
