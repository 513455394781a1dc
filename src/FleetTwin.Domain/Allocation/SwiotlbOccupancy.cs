namespace FleetTwin.Domain.Allocation;

/// <summary>A point-in-time view of a region, as operators read it.</summary>
public sealed record SwiotlbOccupancy(
    int PoolSlabs,
    int SlabsInUse,
    int HighWaterSlabs,
    int Mappings,
    int LargestFreeRun,
    double Fragmentation,
    long ExhaustionEvents,
    long OverflowFallbacks,
    SwiotlbPanic? Panic,
    IReadOnlyList<DeviceOccupancy> Devices)
{
    /// <summary>Fraction of the pool's slabs in use.</summary>
    public double Utilisation => PoolSlabs == 0 ? 0 : (double)SlabsInUse / PoolSlabs;

    /// <summary>Largest mapping in bytes that could succeed right now.</summary>
    public int LargestMappableBytes => LargestFreeRun * SwiotlbGeometry.SlabBytes;
}

/// <summary>One device's share of a region.</summary>
public sealed record DeviceOccupancy(string BusId, int Mappings, int Slabs, long ExhaustionEvents);

/// <summary>The whole state of a region as plain data (what a grain persists).</summary>
public sealed record SwiotlbRegionImage(
    int Slabs,
    SwiotlbKernelFlavour Flavour,
    byte[] FreeRun,
    byte[] MappedSlabs,
    ushort[] MappedDevice,
    SwiotlbDeviceImage[] Devices,
    int Cursor,
    int SlabsInUse,
    int HighWaterSlabs,
    int Mappings,
    long ExhaustionCount,
    long OverflowFallbackCount,
    SwiotlbPanic? Panic);

/// <summary>One registered device of a region image.</summary>
public sealed record SwiotlbDeviceImage(string BusId, ulong SegmentBoundaryMask, int Mappings, int Slabs, long Exhaustions);
