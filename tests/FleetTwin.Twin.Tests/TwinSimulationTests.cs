using FleetTwin.Domain.Simulation;
using FleetTwin.Twin.Simulation;

namespace FleetTwin.Twin.Tests;

/// <summary>
/// A simulation runs the live twin's grains: mapping demand reaches the SWIOTLB region grain in batches, the kernel's
/// records and the generators' VM starts reach the host grain through its stream, and the twin ends up with exactly
/// what the domain's exact allocator makes of the same demand.
/// </summary>
public class TwinSimulationTests(TwinClusterFixture fixture) : IClassFixture<TwinClusterFixture>
{
    private static Scenario KbHost(string host) => ScenarioReader.Read(new StringReader($$"""
        name: kb-host-twin
        seed: 3
        duration: 10m
        engine: exact
        pools:
          - name: kb-twin
            hostNames: [{{host}}]
            vmsPerHost: 40
            rebootMinutes: 60
            nics:
              - { device: eth4, busId: "0000:04:00.0", driver: bnx2x, mtu: 9000, gro: off }
              - { device: eth5, busId: "0000:04:00.1", driver: bnx2x, mtu: 9000, gro: off }
            bonds:
              - { name: bond0, members: [eth4, eth5], networks: [storage] }
            networks:
              - { name: storage, kind: storage, txPacketsPerSecondPerVm: 20000, bursts: { everySeconds: 60, lengthSeconds: 4, factor: 4 } }
            vmStarts:
              # Before the panic (the host is down from it to the end of the run)
              bursts: [ { at: 1m, vmsPerHost: 2 }, { at: 2m, vmsPerHost: 2 } ]
        """), "kb-host-twin.yaml");

    [Fact]
    public async Task The_twin_sees_the_exhaustion_the_exact_allocator_computes_for_the_same_demand_and_the_VM_starts()
    {
        // A fixed name: the host's demand is seeded from it, so the run (panic time included) is the same every time.
        const string host = "sim-kb-01";
        var scenario = KbHost(host);

        // The domain's reference: the same generator stream through a local exact region, until the first panic.
        var pool = scenario.Pools[0];
        var model = FleetSimulation.ModelOf(pool);
        var generator = new MappingDemandGenerator(model, HostSeed.For(HostSeed.For(scenario.Seed, host), "boot1"));
        var replay = new DemandReplay(model);
        var ops = new List<DemandOperation>();
        generator.Boot(ops);
        replay.Apply(ops);
        var perPort = new double[model.Ports.Count];
        var vms = 40.0;
        for (var second = 0L; second < 10 * 60 && !replay.Region.HasPanicked; second++)
        {
            if (second == 60 || second == 120)
                vms += 2;
            ops.Clear();
            Traffic.PortRates(pool, model, vms, 1, bursts: true, second, perPort);
            generator.Second(perPort, ops);
            replay.Apply(ops);
        }
        Assert.NotEmpty(replay.Exhaustions);

        var simulation = new TwinSimulation(fixture.Cluster.Client);
        var hosts = await simulation.SettleAsync(await simulation.RunAsync(scenario), TimeSpan.FromSeconds(60));
        var twin = Assert.Single(hosts);

        // Same demand, same allocator: the same records. The host panics about 4 simulated minutes in (after both VM
        // bursts) and, with a reboot taking longer than the run, stays down: the twin's whole run is the reference's.
        Assert.True(replay.Region.HasPanicked, "the scenario is meant to panic the KB host's configuration");
        Assert.True(replay.Exhaustions[^1].Uptime > 120, "the panic is meant to come after both VM bursts");
        Assert.Equal(1, twin.Panics);
        Assert.Equal(1, twin.View.Boots);
        // The view counts every out-of-space record, the panic's own included, as the reference does.
        Assert.Equal(replay.Exhaustions.Count, twin.View.ExhaustionEvents);
        Assert.Equal(replay.Exhaustions.Count - 1, twin.Exhaustions); // the simulation's count leaves the panic's record out
        var panic = Assert.Single(twin.View.Panics);
        Assert.Equal(replay.Region.Panic!.Bytes, panic.CauseBytes);
        Assert.Equal(replay.Exhaustions[^1].Bytes, panic.CauseBytes);
        Assert.Equal(replay.Exhaustions[^1].BusId, panic.CauseDevice);
        Assert.Equal(4, twin.View.VmStarts.Length);
        Assert.NotEqual("ok", twin.View.Risk);
    }
}
