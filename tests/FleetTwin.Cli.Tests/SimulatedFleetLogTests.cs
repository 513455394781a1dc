using FleetTwin.Cli.Commands;
using FleetTwin.Cli.Offline;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Prediction;
using FleetTwin.Domain.Simulation;

namespace FleetTwin.Cli.Tests;

/// <summary>
/// A simulated host's kern.log is read by the same parser and predictor as a real dom0's: every exhaustion record and
/// the panic come back as typed events, and the backtest scores the panic.
/// </summary>
public class SimulatedFleetLogTests
{
    private const string Scenario = """
        name: kb-host
        duration: 16h
        engine: fast
        pools:
          - name: kb
            hostNames: [kb-ix-4104]
            vmsPerHost: 16
            nics:
              - { device: eth4, busId: "0000:04:00.0", driver: bnx2x, mtu: 9000, gro: off }
              - { device: eth5, busId: "0000:04:00.1", driver: bnx2x, mtu: 9000, gro: off }
            bonds:
              - { name: bond0, members: [eth4, eth5], networks: [storage] }
            networks:
              - { name: storage, kind: storage, txPacketsPerSecondPerVm: 20000, bursts: { everySeconds: 60, lengthSeconds: 4, factor: 4 } }
            vmStarts:
              steadyPerHostPerHour: 1
              bootBoostFactor: 1
              bursts:
        """;

    /// <summary>One more VM every half hour: the ramp the domain's KB physics tests use.</summary>
    private static string Ramp() =>
        string.Concat(Enumerable.Range(1, 31).Select(i => $"        - {{ at: {i * 30}m, vmsPerHost: 1 }}\n"));

    [Fact]
    public void The_parser_reads_back_every_record_of_a_simulated_host_and_the_backtest_scores_its_panics()
    {
        var result = FleetSimulation.Run(ScenarioReader.Read(new StringReader(Scenario + "\n" + Ramp()), "kb-host.yaml"));
        var host = Assert.Single(result.Hosts);
        Assert.NotEmpty(host.Panics);
        var path = Path.Combine(Path.GetTempPath(), $"fleettwin-sim-{Guid.NewGuid():N}.kern.log");
        try
        {
            File.WriteAllText(path, KernLogWriter.ToText(host, new DateTimeOffset(2014, 9, 20, 0, 0, 0, TimeSpan.Zero)));
            var fleet = OfflineFleet.Read([path], null, 2014);

            var exhausted = fleet.Events.OfType<SwiotlbExhausted>().ToList();
            Assert.All(exhausted, e => Assert.Equal("kb-ix-4104", e.Host));
            Assert.Equal(host.Exhaustions + host.Panics.Count, exhausted.Count);
            Assert.Equal(host.Panics.Count, fleet.Events.OfType<KernelPanic>().Count());
            Assert.Equal(host.Panics[0].Bytes, exhausted.First(e => e.Bytes > 32 * 1024).Bytes);

            var report = Backtest.Run(fleet.Events, fleet.ConfigurationOf);
            Assert.Equal(host.Panics.Count, report.Panics.Count);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
