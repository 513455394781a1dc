namespace FleetTwin.Twin.Contracts;

/// <summary>
/// A host's dom0 bounce pool (key: host name): the exact allocator, driven by batches of mapping demand. Failed
/// mappings are published on the host's event stream in the kernel's own words, exactly as a real host logs them.
/// </summary>
public interface ISwiotlbRegionGrain : IGrainWithStringKey
{
    /// <summary>(Re)creates the pool as after a boot with <paramref name="poolMiB"/> (the dom0 <c>swiotlb=</c> size).</summary>
    Task Boot(int poolMiB);

    /// <summary>Runs a batch of map/unmap operations through the exact model, in order, inside this one call.</summary>
    Task<DemandOutcome> Apply(MappingDemandBatch batch);

    Task<SwiotlbView> GetView();
}

/// <summary>What a demand operation does.</summary>
public enum MappingOperation : byte
{
    /// <summary>A single mapping (map_page / map_single): may panic when it fails above 32 KiB.</summary>
    MapSingle = 0,

    /// <summary>Unmap the mapping made under <see cref="MappingDemand.Tag"/>.</summary>
    Unmap = 1,
}

/// <summary>
/// One operation of a batch. <see cref="Tag"/> names a mapping so a later unmap can refer to it (the caller picks
/// tags; a map under a tag still outstanding is an error).
/// </summary>
[GenerateSerializer, Immutable, Alias("fleettwin.mapping-demand.v1")]
public readonly record struct MappingDemand(
    [property: Id(0)] MappingOperation Operation,
    [property: Id(1)] int Tag,
    [property: Id(2)] string BusId,
    [property: Id(3)] int Bytes,
    [property: Id(4)] Domain.Allocation.DmaDirection Direction,
    [property: Id(5)] double Uptime);

[GenerateSerializer, Immutable, Alias("fleettwin.mapping-demand-batch.v1")]
public sealed record MappingDemandBatch([property: Id(0)] MappingDemand[] Operations);

/// <summary>The result of a batch: counts, and the panic if the batch reached one (operations after it are not run).</summary>
[GenerateSerializer, Immutable, Alias("fleettwin.demand-outcome.v1")]
public sealed record DemandOutcome(
    [property: Id(0)] int Mapped,
    [property: Id(1)] int Unmapped,
    [property: Id(2)] int Exhaustions,
    [property: Id(3)] int OperationsRun,
    [property: Id(4)] bool Panicked,
    [property: Id(5)] string? PanicMessage);
