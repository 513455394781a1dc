using FleetTwin.Domain.Simulation;

namespace FleetTwin.Domain.Tests.Simulation;

public class ScenarioRunTests
{
    private static string Repo(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FleetTwin.sln")))
                return Path.Combine([dir.FullName, .. parts]);
        }
        throw new InvalidOperationException("FleetTwin.sln not found");
    }

    [Fact]
    public void The_same_file_and_seed_give_the_same_results_on_one_thread_or_many()
    {
        var scenario = ScenarioReader.ReadFile(Repo("docs", "scenarios", "mixed-fleet-200.yaml")) with { DurationSeconds = 6 * 3600 };

        var one = FleetSimulation.Run(scenario, new SimulationOptions { MaxDegreeOfParallelism = 1 });
        var many = FleetSimulation.Run(scenario, new SimulationOptions { MaxDegreeOfParallelism = 4 });

        Assert.Equal(one.Hosts.Select(h => h.Name), many.Hosts.Select(h => h.Name));
        Assert.Equal(one.Hosts.Select(h => (h.Exhaustions, h.Panics.Count, h.VmStarts)), many.Hosts.Select(h => (h.Exhaustions, h.Panics.Count, h.VmStarts)));
        Assert.Equal(one.Hosts.SelectMany(h => h.Records), many.Hosts.SelectMany(h => h.Records));
    }

    [Fact]
    public void A_host_seed_depends_on_the_scenario_seed_and_the_host_name_only()
    {
        Assert.Equal(HostSeed.For(7, "bn2-3c16-ix-4104"), HostSeed.For(7, "bn2-3c16-ix-4104"));
        Assert.NotEqual(HostSeed.For(7, "bn2-3c16-ix-4104"), HostSeed.For(8, "bn2-3c16-ix-4104"));
        Assert.NotEqual(HostSeed.For(7, "bn2-3c16-ix-4104"), HostSeed.For(7, "bn2-3c16-ix-4103"));
    }

    [Fact]
    public void Every_example_scenario_reads()
    {
        foreach (var file in Directory.GetFiles(Repo("docs", "scenarios"), "*.yaml").Concat(Directory.GetFiles(Repo("docs", "scenarios"), "*.json")))
        {
            var scenario = ScenarioReader.ReadFile(file);
            Assert.True(scenario.HostCount > 0, file);
        }
        Assert.True(ScenarioReader.ReadFile(Repo("docs", "scenarios", "fleet-10000.yaml")).HostCount >= 9_900);
    }

    [Fact]
    public void Enabling_GRO_on_a_pool_stops_its_exhaustion_after_the_rolling_reboots()
    {
        var scenario = StorageHost.Yaml(mib: 64, duration: "16h", extra: "interventions:\n  - { at: 1h, action: enableGro, pool: kb }\n");

        var with = Assert.Single(FleetSimulation.Run(scenario, new SimulationOptions { Engine = SimulationEngineKind.Fast }).Hosts);
        var without = Assert.Single(FleetSimulation.Run(scenario, new SimulationOptions { Engine = SimulationEngineKind.Fast, ApplyInterventions = false }).Hosts);

        Assert.NotEmpty(without.Panics);
        Assert.Empty(with.Panics);
        Assert.Equal(0, with.Exhaustions);
        Assert.Equal(["enableGro on kb"], with.Interventions);
    }
}
