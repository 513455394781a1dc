using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Events;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Streams;

namespace FleetTwin.Twin.Grains;

[GenerateSerializer, Alias("fleettwin.swiotlb-grain-state.v1")]
public sealed class SwiotlbRegionGrainState
{
    /// <summary>The exact slab state (domain image), null before the first boot.</summary>
    [Id(0)] public SwiotlbRegionImage? Image { get; set; }

    /// <summary>Outstanding mappings by the caller's tag.</summary>
    [Id(1)] public Dictionary<int, SwiotlbMapping> Outstanding { get; set; } = [];
}

/// <summary>
/// A host's dom0 bounce pool (key: host name). Runs whole demand batches through the exact
/// <see cref="SwiotlbRegion"/> inside one call — per-mapping work never crosses a grain boundary — and publishes each
/// failed mapping, and the panic, on the host's stream in the kernel's own text, as the real host would log them.
/// </summary>
public sealed class SwiotlbRegionGrain(
    [PersistentState("swiotlb", TwinStorage.Name)] IPersistentState<SwiotlbRegionGrainState> state) : Grain, ISwiotlbRegionGrain
{
    private SwiotlbRegion? _region;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Image is { } image)
            _region = SwiotlbRegion.Import(image);
        return base.OnActivateAsync(cancellationToken);
    }

    public async Task Boot(int poolMiB)
    {
        _region = new SwiotlbRegion(SwiotlbPoolSize.FromMiB(poolMiB));
        state.State.Outstanding.Clear();
        state.State.Image = _region.Export();
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IFleetGrain>(TwinGrainKeys.Fleet).RegisterHost(this.GetPrimaryKeyString());
        await GrainFactory.GetGrain<IHostGrain>(this.GetPrimaryKeyString()).SwiotlbChanged();
    }

    public async Task<DemandOutcome> Apply(MappingDemandBatch batch)
    {
        try
        {
            return await ApplyExactly(batch);
        }
        catch (ArgumentException)
        {
            // A bad operation mid-batch leaves the in-memory pool half-applied: drop this activation so the next call
            // starts again from the last persisted (acknowledged) state.
            DeactivateOnIdle();
            throw;
        }
    }

    private async Task<DemandOutcome> ApplyExactly(MappingDemandBatch batch)
    {
        var region = _region ?? throw new InvalidOperationException($"bounce pool of {this.GetPrimaryKeyString()} is not booted: call Boot(poolMiB) first");
        var host = this.GetPrimaryKeyString();
        var outstanding = state.State.Outstanding;
        List<TwinEvent>? records = null;
        int mapped = 0, unmapped = 0, exhaustions = 0, run = 0;
        string? panic = null;

        foreach (var op in batch.Operations)
        {
            run++;
            if (op.Operation == MappingOperation.Unmap)
            {
                if (!outstanding.Remove(op.Tag, out var mapping))
                    throw new ArgumentException($"operation {run} of the batch for {host}: unmap of tag {op.Tag}, which is not mapped");
                region.Unmap(mapping);
                unmapped++;
                continue;
            }
            if (outstanding.ContainsKey(op.Tag))
                throw new ArgumentException($"operation {run} of the batch for {host}: tag {op.Tag} is still mapped");
            var device = region.RegisterDevice(op.BusId);
            var result = region.MapSingle(device, op.Bytes, op.Direction);
            if (result.Outcome == MapOutcome.Mapped)
            {
                outstanding[op.Tag] = result.Mapping;
                mapped++;
                continue;
            }
            exhaustions++;
            (records ??= []).Add(new SwiotlbExhausted
            {
                Host = host,
                Uptime = op.Uptime,
                Bytes = op.Bytes,
                Device = op.BusId,
                Variant = SwiotlbMessageVariant.PciDmaOutOfSwIommu,
                SourceFile = "twin:swiotlb",
            });
            if (result.Panicked)
            {
                panic = region.Panic!.Message;
                records.Add(new KernelPanic
                {
                    Host = host,
                    Uptime = op.Uptime,
                    Message = panic,
                    Trace = op.Direction == DmaDirection.ToDevice ? ["panic", "swiotlb_full", "swiotlb_map_page"] : ["panic", "swiotlb_full"],
                    SourceFile = "twin:swiotlb",
                });
                break;
            }
            // Overflow-buffer mappings hold no slabs; the tag stays usable for the caller's later unmap.
            outstanding[op.Tag] = result.Mapping;
        }

        state.State.Image = region.Export();
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IHostGrain>(host).SwiotlbChanged();
        if (records is not null)
        {
            var stream = this.GetStreamProvider(TwinStreams.Provider).GetStream<HostEventBatch>(TwinStreams.ForHost(host));
            await stream.OnNextAsync(new HostEventBatch(host, [.. records], DateTimeOffset.UtcNow));
        }
        return new DemandOutcome(mapped, unmapped, exhaustions, run, panic is not null, panic);
    }

    public Task<SwiotlbView> GetView()
    {
        if (_region is null)
            return Task.FromResult(SwiotlbView.NotRun);
        var s = _region.Snapshot();
        return Task.FromResult(new SwiotlbView(s.PoolSlabs, s.SlabsInUse, s.HighWaterSlabs, s.Mappings, s.LargestFreeRun, s.Fragmentation,
            s.ExhaustionEvents, s.Panic is not null, s.Panic?.Message));
    }
}
