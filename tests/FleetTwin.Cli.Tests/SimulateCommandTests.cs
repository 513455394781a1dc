using System.CommandLine;
using System.Text.Json;
using FleetTwin.Cli.Commands;

using FleetTwin.Cli.Tests.Support;
using FleetTwin.Ingest.Tests.Support;

namespace FleetTwin.Cli.Tests;

/// <summary><c>fleettwin simulate</c>, in process: the report files, and a bad scenario named with its position.</summary>
public class SimulateCommandTests
{
    private const string Scenario = """
        name: two-pools
        seed: 5
        duration: 2d
        pools:
          - name: jumbo
            hosts: 3
            vmsPerHost: 30
            nics:
              - { device: eth4, busId: "0000:04:00.0", driver: bnx2x, mtu: 9000, gro: off }
              - { device: eth5, busId: "0000:04:00.1", driver: bnx2x, mtu: 9000, gro: off }
            bonds:
              - { name: bond0, members: [eth4, eth5], networks: [storage] }
            networks:
              - { name: storage, kind: storage, txPacketsPerSecondPerVm: 20000, bursts: { everySeconds: 60, lengthSeconds: 4, factor: 4 } }
          - name: safe
            hosts: 2
            nics:
              - { device: eth4, busId: "0000:04:00.0", driver: bnx2x, mtu: 1500 }
            bonds:
              - { name: bond0, members: [eth4], networks: [storage] }
            networks:
              - { name: storage, kind: storage, txPacketsPerSecondPerVm: 20000 }
        interventions:
          - { label: GRO on, at: 1d, action: enableGro, pool: jumbo, minutesPerHost: 10 }
        """;

    private static (int Exit, string Stdout, string Stderr) Cli(params string[] args) => InProcessCli.Run([SimulateCommand.Create], args);

    [Fact]
    public void Simulate_writes_results_charts_logs_and_a_report_that_links_them()
    {
        var dir = Directory.CreateTempSubdirectory("fleettwin-simulate-");
        try
        {
            var scenario = Path.Combine(dir.FullName, "two-pools.yaml");
            File.WriteAllText(scenario, Scenario);
            var outDir = Path.Combine(dir.FullName, "out");

            var (exit, stdout, _) = Cli("simulate", scenario, "--out", outDir);

            Assert.Equal(0, exit);
            Assert.Contains("jumbo", stdout, StringComparison.Ordinal);
            Assert.Contains("with interventions", stdout, StringComparison.Ordinal);
            Assert.Contains("simulated host-seconds per wall second", stdout, StringComparison.Ordinal);
            var report = File.ReadAllText(Path.Combine(outDir, "report.html"));
            foreach (var file in new[] { "results.json", "hosts.csv", "panics-per-day.csv", "panics-per-day.png", "panics-per-day.svg", "occupancy-worst-hosts.png", "occupancy-worst-hosts.svg" })
            {
                Assert.True(new FileInfo(Path.Combine(outDir, file)).Length > 0, file);
                Assert.Contains(file, report, StringComparison.Ordinal);
            }
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
            var baseline = json.RootElement.GetProperty("baseline");
            var with = json.RootElement.GetProperty("with_interventions");
            Assert.Equal(5, json.RootElement.GetProperty("hosts").GetInt32());
            Assert.True(baseline.GetProperty("exhaustion_events").GetInt64() > with.GetProperty("exhaustion_events").GetInt64());
            Assert.Equal(3, with.GetProperty("interventions")[0].GetProperty("hosts_reached").GetInt32());
            Assert.Equal(1 + 5 * 2, File.ReadAllLines(Path.Combine(outDir, "hosts.csv")).Length); // header, 5 hosts x 2 runs
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_bad_scenario_exits_2_naming_the_file_position_and_field()
    {
        var dir = Directory.CreateTempSubdirectory("fleettwin-simulate-");
        try
        {
            var scenario = Path.Combine(dir.FullName, "bad.yaml");
            File.WriteAllText(scenario, Scenario.Replace("mtu: 1500", "mtu: big", StringComparison.Ordinal));

            var (exit, _, stderr) = Cli("simulate", scenario);

            Assert.Equal(2, exit);
            Assert.Contains("bad.yaml:18:", stderr, StringComparison.Ordinal);
            Assert.Contains("pools[1].nics[0].mtu: 'big' is not a whole number", stderr, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
