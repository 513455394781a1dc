using System.Diagnostics;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Prediction;
using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Grains;
using FleetTwin.Twin.Ingest;

namespace FleetTwin.Twin.Tests;

/// <summary>
/// Every view of a host's risk comes from one assessment with the same inputs: the host grain (its view, its summary
/// in the host index, its alerts) assesses with the configuration the fleet inventory holds for it, which is what the
/// planner and the backtest use. A host configured like the KB incident with no failure logged is latent everywhere.
/// </summary>
public class OneAssessmentTests(TwinClusterFixture fixture) : IClassFixture<TwinClusterFixture>
{
    private static readonly string[] KbPool = ["bn2-3c16-ix-4101", "bn2-3c16-ix-4102", "bn2-3c16-ix-4104"];

    [Fact]
    public async Task The_KB_pool_hosts_risk_in_the_host_grain_index_and_alerts_is_the_planners_assessment()
    {
        var client = fixture.Cluster.Client;
        var ingestor = new TwinIngestor(client);
        await ingestor.IngestAsync(File.OpenRead(Golden.KbIncident("kern.log")), new LogParserOptions { SourceName = "kern.log", Year = 2014 });
        await ingestor.IngestAsync(File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Golden", "kb-pool", "kb-pool-transcript.txt")),
            new LogParserOptions { SourceName = "kb-pool-transcript.txt", Year = 2014 });
        await ingestor.WaitUntilAppliedAsync(TimeSpan.FromSeconds(20));

        // The planner's inputs: the inventory's configuration and the host grain's evidence.
        var inventory = await client.GetGrain<IInventoryGrain>(TwinGrainKeys.Fleet).GetInventory();
        var planned = new Dictionary<string, PanicPrediction>(StringComparer.Ordinal);
        foreach (var host in KbPool)
        {
            var state = await client.GetGrain<IHostGrain>(host).GetState();
            planned[host] = PanicPredictor.Assess(state, HostConfiguration.From(inventory, inventory.Hosts[host]));
        }
        Assert.Equal([RiskLevel.Latent, RiskLevel.Latent, RiskLevel.Critical], KbPool.Select(h => planned[h].Level));

        // The inventory tells each host its configuration one-way: wait (bounded) until every host grain says the same.
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var views = await Task.WhenAll(KbPool.Select(h => client.GetGrain<IHostGrain>(h).GetView()));
            if (views.Select(v => (v.Risk, v.RiskReason ?? "")).SequenceEqual(KbPool.Select(h => (Level(planned[h].Level), planned[h].Reason))))
                break;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10),
                "host grains still disagree with the planner: " + string.Join(" | ", views.Select(v => $"{v.Name}: {v.Risk} {v.RiskReason}")));
            await Task.Delay(20);
        }

        var index = await client.GetGrain<IHostIndexGrain>(TwinGrainKeys.Fleet).GetChanges(null, 0);
        Assert.Equal(KbPool.Select(h => planned[h].Level), KbPool.Select(h => index.Changed.Single(s => s.Name == h).Risk));
        var alerts = await client.GetGrain<IAlertLogGrain>(TwinGrainKeys.Fleet).Since(null, 0);
        Assert.Contains(alerts.Alerts, a => a.Host == "bn2-3c16-ix-4101" && a.Kind == AlertKind.RiskChanged && a.Risk == RiskLevel.Latent);
    }

    private static string Level(RiskLevel level) => level.ToString().ToLowerInvariant();
}
