using FleetTwin.Domain.Simulation;

namespace FleetTwin.Domain.Tests.Simulation;

/// <summary>
/// The fast engine (hazard tables measured by exact windows) against the exact allocator run second by second, on
/// scenarios small enough for both: they must agree on whether a host exhausts and panics, and roughly on when.
/// </summary>
public class FastPathAgreementTests
{
    [Fact]
    public void On_the_KB_host_both_engines_panic_after_exhaustion_in_the_same_hours()
    {
        var scenario = StorageHost.Yaml(mib: 64, duration: "16h");
        var exact = Assert.Single(FleetSimulation.Run(scenario, new SimulationOptions { Engine = SimulationEngineKind.Exact }).Hosts);
        var fast = Assert.Single(FleetSimulation.Run(scenario, new SimulationOptions { Engine = SimulationEngineKind.Fast }).Hosts);

        Assert.NotEmpty(exact.Panics);
        Assert.NotEmpty(fast.Panics);
        var exactFirst = exact.Records.First(r => r.Kind == SimulatedRecordKind.OutOfSpace).Time;
        var fastFirst = fast.Records.First(r => r.Kind is SimulatedRecordKind.OutOfSpace or SimulatedRecordKind.Panic).Time;
        Assert.InRange(fastFirst - exactFirst, -4 * 3600, 4 * 3600);
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
