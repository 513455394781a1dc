using FleetTwin.Domain.Simulation;

namespace FleetTwin.Domain.Tests.Simulation;

/// <summary>
/// The fast engine (hazard tables measured by exact windows) against the exact allocator run second by second, on
/// scenarios small enough for both. What the fast engine promises: the exact engine's outcome (a host that never
/// exhausts never does; one that does logs survivable failures first and then panics), and its timing to within the
/// resolution of its table. It knows failure rates only at the grid's transmit levels (<see cref="HazardTable.Grid"/>:
/// 1.5x and 2x apart) and interpolates log-linearly between them; on the KB host (16 VMs, one more every half hour)
/// the exhaustion starts near the 2x level (32 VMs, about 8 h in) and the next level, 3x, is another 8 h of growth
/// away, so "when" is promised to half a grid step, 4 h, and failure counts (a Poisson draw of an interpolated rate
/// against the exact engine's bursts) to 5x.
/// </summary>
public class FastPathAgreementTests
{
    [Fact]
    public void On_the_KB_host_both_engines_panic_after_exhaustion_in_the_same_hours()
    {
        var scenario = StorageHost.Yaml(mib: 64, duration: "16h");
        var exact = Assert.Single(FleetSimulation.Run(scenario, new SimulationOptions { Engine = SimulationEngineKind.Exact }).Hosts);
        var fast = Assert.Single(FleetSimulation.Run(scenario, new SimulationOptions { Engine = SimulationEngineKind.Fast }).Hosts);

        // The exact run is deterministic (seed 1): these are its figures, the yardstick below.
        var exactFirst = exact.Records.First(r => r.Kind is SimulatedRecordKind.OutOfSpace or SimulatedRecordKind.Panic);
        Assert.Equal((SimulatedRecordKind.OutOfSpace, 29_583.0), (exactFirst.Kind, exactFirst.Time));
        Assert.Equal(34_563.0, exact.Panics[0].Time);
        Assert.Equal((309L, 16), (exact.Exhaustions, exact.Panics.Count));

        // The fast engine too reaches its first panic through survivable failures, not at once.
        var fastFirst = fast.Records.First(r => r.Kind is SimulatedRecordKind.OutOfSpace or SimulatedRecordKind.Panic);
        Assert.Equal(SimulatedRecordKind.OutOfSpace, fastFirst.Kind);
        Assert.NotEmpty(fast.Panics);
        Assert.True(fastFirst.Time < fast.Panics[0].Time, $"fast engine: first failure at {fastFirst.Time} s, first panic at {fast.Panics[0].Time} s");
        Assert.InRange(fastFirst.Time - exactFirst.Time, -4 * 3600, 4 * 3600);
        Assert.InRange(fast.Panics[0].Time - exact.Panics[0].Time, -4 * 3600, 4 * 3600);
        Assert.InRange((double)fast.Exhaustions / exact.Exhaustions, 0.2, 5);
    }

    [Theory]
    [InlineData(true, 9000)]
    [InlineData(false, 1500)]
    public void Where_the_exact_allocator_never_exhausts_the_fast_engine_does_not_either(bool gro, int mtu)
    {
        var scenario = StorageHost.Yaml(gro: gro, mtu: mtu, duration: "12h");

        foreach (var engine in new[] { SimulationEngineKind.Exact, SimulationEngineKind.Fast })
        {
            var host = Assert.Single(FleetSimulation.Run(scenario, new SimulationOptions { Engine = engine }).Hosts);
            Assert.Equal((0L, 0), (host.Exhaustions, host.Panics.Count));
        }
    }
}
