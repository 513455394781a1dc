using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Hosting;
using FleetTwin.Twin.Ingest;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using FleetTwin.Tests.Shared;

namespace FleetTwin.Twin.Tests;

/// <summary>Cluster mode against a real Redis: membership and grain state in Redis, silos come and go.</summary>
public class ClusterModeTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private const string KbHost = "bn2-3c16-ix-4104";

    /// <summary>A cluster-mode silo on free ports, again on new ones while a port was taken between probe and bind.</summary>
    private static Task<IHost> StartSilo(string redis, string clusterId) =>
        InProcessTwin.OnFreePortsAsync(async () =>
        {
            var options = new TwinClusterOptions
            {
                RedisConnectionString = redis,
                ClusterId = clusterId,
                ServiceId = clusterId, // Redis storage keys include the service id: each test its own fleet
                SiloPort = InProcessTwin.FreeLoopbackPort(),
                GatewayPort = InProcessTwin.FreeLoopbackPort(),
                AdvertisedAddress = "127.0.0.1",
            };
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.UseOrleans(silo => silo.AddFleetTwin(options));
            var host = builder.Build();
            await InProcessTwin.StartOrDisposeAsync(host);
            return host;
        });

    private static async Task WaitForActiveSilos(IClusterClient client, int count)
    {
        var management = client.GetGrain<IManagementGrain>(0);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((await management.GetHosts(onlyActive: true)).Count < count)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), $"{count} silos did not become active within 30 s");
            await Task.Delay(100);
        }
    }

    private static IClusterClient Client(IHost silo) => silo.Services.GetRequiredService<IClusterClient>();

    private static async Task ReplayKb(IClusterClient client)
    {
        var ingestor = new TwinIngestor(client);
        await ingestor.IngestFilesAsync([Golden.KbIncident("kern.log"), Golden.KbIncident("dom0.log")],
            new LogParserOptions { DefaultHost = KbHost, Year = 2014 });
        await ingestor.WaitUntilAppliedAsync(TimeSpan.FromSeconds(60));
    }

    [SkippableFact]
    public async Task State_written_by_one_silo_is_read_back_by_a_new_silo_after_a_restart()
    {
        var connection = redis.Require();
        var cluster = "restart-" + Guid.NewGuid().ToString("N")[..8];

        var first = await StartSilo(connection, cluster);
        await ReplayKb(Client(first));
        var before = await Client(first).GetGrain<IHostGrain>(KbHost).GetView();
        await first.StopAsync();
        first.Dispose();

        using var second = await StartSilo(connection, cluster);
        var after = await Client(second).GetGrain<IHostGrain>(KbHost).GetView();
        await second.StopAsync();

        Assert.Equal(18, before.ExhaustionEvents);
        Assert.Equal(before.ExhaustionEvents, after.ExhaustionEvents);
        Assert.Equal(before.Devices, after.Devices);
        Assert.Equal("DMA: Random memory could be DMA read", Assert.Single(after.Panics).Message);
        Assert.Equal("6.2", after.XenServerRelease);
    }

    [SkippableFact]
    public async Task Two_silos_share_the_fleet_and_stopping_one_moves_its_hosts_to_the_other_with_state_intact()
    {
        var connection = redis.Require();
        var cluster = "pair-" + Guid.NewGuid().ToString("N")[..8];
        using var a = await StartSilo(connection, cluster);
        var b = await StartSilo(connection, cluster);
        await WaitForActiveSilos(Client(a), 2);

        // 24 hosts, each with a few exhaustion records of its own, published through silo b's client.
        var hosts = Enumerable.Range(1, 24).Select(i => $"xs62-c{i:00}").ToArray();
        var log = string.Join('\n', hosts.SelectMany((h, i) => Enumerable.Range(0, 1 + i % 3).Select(k =>
            $"Sep 17 05:0{k}:06 {h} kernel: [27775{k}5.97{i:00}10] PCI-DMA: Out of SW-IOMMU space for {16_000 + 100 * i + k} bytes at device 0000:04:00.{k % 2}"))) + "\n";
        var ingestor = new TwinIngestor(Client(b));
        await ingestor.IngestAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(log)), new LogParserOptions { SourceName = "pair.log", Year = 2014 });
        await ingestor.WaitUntilAppliedAsync(TimeSpan.FromSeconds(60));

        var before = await Task.WhenAll(hosts.Select(h => Client(a).GetGrain<IHostGrain>(h).GetView()));
        await b.StopAsync();
        b.Dispose();
        var after = await Task.WhenAll(hosts.Select(h => Client(a).GetGrain<IHostGrain>(h).GetView()));
        var listed = await Client(a).GetGrain<IFleetGrain>(TwinGrainKeys.Fleet).ListHosts();
        await a.StopAsync();

        for (var i = 0; i < hosts.Length; i++)
        {
            Assert.Equal(1 + i % 3, before[i].ExhaustionEvents);
            Assert.Equal(before[i].ExhaustionEvents, after[i].ExhaustionEvents);
            Assert.Equal(before[i].LargestFailedMappingBytes, after[i].LargestFailedMappingBytes);
        }
        Assert.Equal(hosts.Order(StringComparer.Ordinal), listed);
    }
}
