namespace FleetTwin.Domain.Allocation;

/// <summary>
/// A device registered with a region: the PCI bus id the kernel prints (<c>dev_name()</c>, e.g. <c>0000:04:00.1</c>)
/// and its index inside the region, so the hot path carries a small integer instead of a string.
/// </summary>
public readonly record struct SwiotlbDevice(int Index, string BusId);

/// <summary>
/// An outstanding bounce mapping: what the kernel returns as a dma address, reduced to the first slab and the slab
/// count. <see cref="IsOverflowBuffer"/> mappings point at the shared overflow buffer and hold no slabs.
/// </summary>
public readonly record struct SwiotlbMapping(int FirstSlab, int Slabs, int DeviceIndex)
{
    /// <summary>The mapping a failed map of at most 32 KiB gets: the overflow buffer, outside the slab array.</summary>
    public bool IsOverflowBuffer => FirstSlab < 0;

    internal static SwiotlbMapping OverflowBuffer(int deviceIndex) => new(-1, 0, deviceIndex);
}

/// <summary>What happened to one map request.</summary>
public enum MapOutcome : byte
{
    /// <summary>The pool had room: the mapping holds <see cref="SwiotlbMapping.Slabs"/> slabs.</summary>
    Mapped = 0,

    /// <summary>
    /// No room, and the size is within the 32 KiB overflow buffer: <c>swiotlb_full()</c> logged the out-of-space record
    /// and the mapping points at the overflow buffer. The host survives.
    /// </summary>
    ExhaustedOverflowBuffer = 1,

    /// <summary>No room for a single mapping larger than 32 KiB: the kernel logged the record and panicked.</summary>
    ExhaustedPanic = 2,

    /// <summary>
    /// No room for an entry of a scatter-gather list: the record was logged, the entries already mapped were unmapped
    /// and the driver sees a failed mapping (<c>swiotlb_map_sg_attrs()</c> never panics).
    /// </summary>
    ExhaustedScatterGatherFailed = 3,
}

/// <summary>The result of a map request. A value type: the hot path allocates nothing.</summary>
public readonly record struct MapResult(MapOutcome Outcome, SwiotlbMapping Mapping, int RequestedBytes)
{
    /// <summary>True when the pool had no room (the kernel printed the out-of-space record).</summary>
    public bool Exhausted => Outcome != MapOutcome.Mapped;

    /// <summary>True when the request panicked the host.</summary>
    public bool Panicked => Outcome == MapOutcome.ExhaustedPanic;
}

/// <summary>The panic a region reached, with what caused it.</summary>
public sealed record SwiotlbPanic(int Bytes, string BusId, DmaDirection Direction, string Message);

/// <summary>A free of a mapping the region does not hold: a driver bug in the kernel, a caller bug here.</summary>
public sealed class UnknownMappingException(string message) : InvalidOperationException(message);

/// <summary>A map request on a region whose host has panicked and not been rebooted.</summary>
public sealed class HostPanickedException(string message) : InvalidOperationException(message);
