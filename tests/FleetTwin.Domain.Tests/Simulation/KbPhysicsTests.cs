using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Simulation;

namespace FleetTwin.Domain.Tests.Simulation;

/// <summary>
/// The KB incident's physics, qualitatively, on the exact allocator: bnx2x + MTU 9000 + GRO off + 64 MiB under
/// growing storage traffic logs survivable out-of-space records and then panics within hours; GRO on or MTU 1500
/// never exhausts; swiotlb=128 panics later, not never.
/// </summary>
public class KbPhysicsTests
{
    private static HostOutcome Run(Scenario scenario) => Assert.Single(FleetSimulation.Run(scenario).Hosts);

    [Fact]
    public void Bnx2x_jumbo_frames_with_GRO_off_and_64_MiB_log_survivable_exhaustion_and_then_panic_within_hours()
    {
        var host = Run(StorageHost.Yaml(mib: 64, duration: "16h"));

        var panic = Assert.IsType<SimulatedPanic>(host.Panics.FirstOrDefault());
        var before = host.Records.Where(r => r.Kind == SimulatedRecordKind.OutOfSpace && r.Time < panic.Time).ToList();
        Assert.NotEmpty(before);
        Assert.All(before, r => Assert.InRange(r.Bytes, SwiotlbGeometry.PageBytes + 1, SwiotlbGeometry.OverflowBufferBytes));
        Assert.True(panic.Bytes > SwiotlbGeometry.OverflowBufferBytes);
        Assert.InRange(panic.Time - before[0].Time, 1, 6 * 3600);
    }

    [Fact]
    public void The_same_host_with_GRO_on_never_exhausts()
    {
        var host = Run(StorageHost.Yaml(gro: true, duration: "16h"));

        Assert.Empty(host.Panics);
        Assert.Equal(0, host.Exhaustions);
    }

    [Fact]
    public void MTU_1500_never_exhausts()
    {
        var host = Run(StorageHost.Yaml(mtu: 1500, duration: "16h"));

        Assert.Empty(host.Panics);
        Assert.Equal(0, host.Exhaustions);
    }

    [Fact]
    public void Swiotlb_128_panics_later_but_not_never()
    {
        // Six times the traffic per VM, so the doubled pool's limit is reached inside the test's three simulated days:
        // the extra 64 MiB holds about twice the TX window the first 64 MiB had left after the RX rings.
        var at64 = Run(StorageHost.Yaml(mib: 64, duration: "16h", perVm: 120_000)).Panics[0].Time;
        var host128 = Run(StorageHost.Yaml(mib: 128, duration: "72h", perVm: 120_000));

        var at128 = Assert.IsType<SimulatedPanic>(host128.Panics.FirstOrDefault()).Time;
        Assert.True(at128 > at64 + 3600, $"128 MiB panicked at {at128 / 3600:0.0} h, 64 MiB at {at64 / 3600:0.0} h");
    }
}
