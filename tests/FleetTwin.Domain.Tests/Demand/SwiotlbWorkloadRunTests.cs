using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Demand;
using FleetTwin.Domain.Drivers;

namespace FleetTwin.Domain.Tests.Demand;

public class SwiotlbWorkloadRunTests
{
    private static HostWorkload BnxBond(int mtu, bool gro, int mib = 64, double growth = 1.0) =>
        new(SwiotlbPoolSize.FromMiB(mib),
            [
                new NicPort("eth4", "0000:04:00.0", DriverProfiles.Embedded.Get("bnx2x"), mtu, gro),
                new NicPort("eth5", "0000:04:00.1", DriverProfiles.Embedded.Get("bnx2x"), mtu, gro),
            ],
            TxGrowthPerHour: growth, SampledMappingsPerSecondPerPort: 400);

    private static (bool Panicked, List<SwiotlbRecord> Records, SwiotlbWorkloadRun Run) RunFor(HostWorkload workload, int hours, int seed = 1)
    {
        var records = new List<SwiotlbRecord>();
        var run = new SwiotlbWorkloadRun(workload, seed);
        run.Boot(records.Add);
        var panicked = run.Run(hours * 3600, records.Add);
        return (panicked, records, run);
    }

    [Fact]
    public void Bnx2x_bond_with_jumbo_frames_and_GRO_off_exhausts_the_pool_and_panics_in_the_kernels_words()
    {
        var (panicked, records, run) = RunFor(BnxBond(9000, gro: false), hours: 24);

        Assert.True(panicked);
        Assert.Matches(@"^PCI-DMA: Out of SW-IOMMU space for \d+ bytes at device 0000:04:00\.[01]$", records[0].Message);
        Assert.Equal("Kernel panic - not syncing: DMA: Random memory could be DMA read", records[^1].Message);
        Assert.True(run.Region.Panic!.Bytes > SwiotlbGeometry.OverflowBufferBytes);
    }

    [Fact]
    public void The_same_bond_with_GRO_on_never_exhausts()
    {
        var (panicked, records, run) = RunFor(BnxBond(9000, gro: true), hours: 12);
        Assert.False(panicked);
        Assert.Empty(records);
        Assert.True(run.Region.HighWaterSlabs < run.Region.Size.Slabs / 2);
    }

    [Fact]
    public void MTU_1500_keeps_RX_out_of_the_pool()
    {
        var run = new SwiotlbWorkloadRun(BnxBond(1500, gro: false), 1);
        run.Boot();
        Assert.Equal(0, run.Region.SlabsInUse);
    }

    [Fact]
    public void The_same_workload_and_seed_give_the_same_records()
    {
        var first = RunFor(BnxBond(9000, gro: false), hours: 24, seed: 3).Records;
        var second = RunFor(BnxBond(9000, gro: false), hours: 24, seed: 3).Records;
        Assert.Equal(first, second);
    }
}
