using FleetTwin.Domain.Allocation;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.Twin.Tests;

public class SwiotlbRegionGrainTests(TwinClusterFixture fixture) : IClassFixture<TwinClusterFixture>
{
    private const string Nic = "0000:04:00.1";

    /// <summary>A 1 MiB pool filled with four segment-sized mappings, then the KB's two failing sizes.</summary>
    private static MappingDemand[] KbEndgame() =>
    [
        .. Enumerable.Range(0, 4).Select(i => new MappingDemand(MappingOperation.MapSingle, i, Nic, SwiotlbGeometry.LargestMappingBytes, DmaDirection.FromDevice, 100 + i)),
        new(MappingOperation.MapSingle, 10, Nic, 30_714, DmaDirection.ToDevice, 200),
        new(MappingOperation.MapSingle, 11, Nic, 33_302, DmaDirection.ToDevice, 300),
        new(MappingOperation.MapSingle, 12, Nic, 100, DmaDirection.ToDevice, 400),
    ];

    [Fact]
    public async Task A_demand_batch_gives_the_domain_models_outcome_and_the_host_logs_its_records()
    {
        // What the domain model says for the same operations.
        var region = new SwiotlbRegion(SwiotlbPoolSize.FromMiB(1));
        var device = region.RegisterDevice(Nic);
        var expected = KbEndgame().Take(6).Select(op => region.MapSingle(device, op.Bytes, op.Direction).Outcome).ToArray();
        Assert.Equal([MapOutcome.Mapped, MapOutcome.Mapped, MapOutcome.Mapped, MapOutcome.Mapped, MapOutcome.ExhaustedOverflowBuffer, MapOutcome.ExhaustedPanic], expected);

        var host = "sim-host-" + Guid.NewGuid().ToString("N")[..8];
        var grain = fixture.Cluster.Client.GetGrain<ISwiotlbRegionGrain>(host);
        await grain.Boot(poolMiB: 1);
        var outcome = await grain.Apply(new MappingDemandBatch(KbEndgame()));

        Assert.Equal(new DemandOutcome(Mapped: 4, Unmapped: 0, Exhaustions: 2, OperationsRun: 6, Panicked: true, "DMA: Random memory could be DMA read"), outcome);
        var view = await grain.GetView();
        Assert.Equal((512, 512, true), (view.PoolSlabs, view.SlabsInUse, view.Panicked));

        // The records went onto the host's stream like a real host's log: 2 exhaustions and the panic they caused.
        var hostGrain = fixture.Cluster.Client.GetGrain<IHostGrain>(host);
        HostView hostView;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((hostView = await hostGrain.GetView()).Panics.Length == 0 && waited.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(20);
        Assert.Equal(2, hostView.ExhaustionEvents);
        var panic = Assert.Single(hostView.Panics);
        Assert.Equal((33_302L, Nic, "to-device"), (panic.CauseBytes!.Value, panic.CauseDevice, panic.CauseDirection));
        Assert.Equal(300, panic.Uptime);
    }

    [Fact]
    public async Task Unmapping_frees_slabs_and_bad_tags_are_named()
    {
        var grain = fixture.Cluster.Client.GetGrain<ISwiotlbRegionGrain>("sim-host-unmap");
        await grain.Boot(poolMiB: 64);
        await grain.Apply(new MappingDemandBatch([new(MappingOperation.MapSingle, 1, Nic, 9158, DmaDirection.FromDevice, 1)]));
        Assert.Equal(5, (await grain.GetView()).SlabsInUse);
        await grain.Apply(new MappingDemandBatch([new(MappingOperation.Unmap, 1, Nic, 0, DmaDirection.FromDevice, 2)]));
        Assert.Equal(0, (await grain.GetView()).SlabsInUse);

        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            grain.Apply(new MappingDemandBatch([new(MappingOperation.Unmap, 99, Nic, 0, DmaDirection.FromDevice, 3)])));
        Assert.Contains("tag 99", error.Message);
    }
}
