using System.Diagnostics;
using System.Text;
using FleetTwin.Domain.Fleet;
using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Grains;
using FleetTwin.Twin.Hosting;
using FleetTwin.Twin.Ingest;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace FleetTwin.Twin.Tests;

/// <summary>
/// A host that stops failing comes down while it logs nothing: the live twin re-assesses a host at warning or
/// critical on its own clock (here one the test moves), so the critical hold (24 h) and the recent-failure window
/// (24 h) run out without a new line, with one alert per change.
/// </summary>
public class QuietHostTests(QuietHostTests.Fixture fixture) : IClassFixture<QuietHostTests.Fixture>
{
    private const string Host = "bn2-3c16-ix-4101";

    [Fact]
    public async Task A_critical_host_that_goes_quiet_stays_critical_for_the_day_hold_and_is_latent_after_it_with_one_alert_per_change()
    {
        var client = fixture.Cluster.Client;
        var ingestor = new TwinIngestor(client);
        await ingestor.IngestAsync(File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Golden", "kb-pool", "kb-pool-transcript.txt")),
            new LogParserOptions { SourceName = "kb-pool-transcript.txt", Year = 2014 });
        // The KB's first three failures, 143 s apart in all, at the host's eth4 (bnx2x, MTU 9000, GRO off).
        var log = new StringBuilder();
        foreach (var (uptime, bytes) in new[] { (10_000.0, 25158), (10_008.0, 16918), (10_143.0, 17574) })
            log.Append($"Sep 20 12:{uptime / 60 % 60:00}:{uptime % 60:00} {Host} kernel: [{uptime,12:0.000000}] PCI-DMA: Out of SW-IOMMU space for {bytes} bytes at device 0000:04:00.0\n");
        await ingestor.IngestAsync(new MemoryStream(Encoding.ASCII.GetBytes(log.ToString())), new LogParserOptions { SourceName = "kern.log", Year = 2014 });
        await ingestor.WaitUntilAppliedAsync(TimeSpan.FromSeconds(20));

        var grain = client.GetGrain<IHostGrain>(Host);
        await Eventually(grain, "critical");

        fixture.Clock.Advance(TimeSpan.FromHours(23));
        await Task.Delay(Fixture.CheckInterval * 5);
        var held = await grain.GetView();
        Assert.Equal("critical", held.Risk); // within the 24 h hold
        Assert.Contains("held 24 h after the last failure that made it so", held.RiskReason, StringComparison.Ordinal);

        fixture.Clock.Advance(TimeSpan.FromHours(2)); // 25 h quiet: configured like the incident, failures stopped
        await Eventually(grain, "latent");

        var index = await client.GetGrain<IHostIndexGrain>(TwinGrainKeys.Fleet).GetChanges(null, 0);
        Assert.Equal(RiskLevel.Latent, index.Changed.Single(s => s.Name == Host).Risk);
        var alerts = await client.GetGrain<IAlertLogGrain>(TwinGrainKeys.Fleet).Since(null, 0);
        Assert.Equal(
            [(RiskLevel.Latent, RiskLevel.Critical), (RiskLevel.Critical, RiskLevel.Latent)],
            alerts.Alerts.Where(a => a.Host == Host && a.Kind == AlertKind.RiskChanged && a.PreviousRisk >= RiskLevel.Latent)
                .Select(a => (a.PreviousRisk, a.Risk)));
    }

    /// <summary>Waits (bounded) until the grain's view is at <paramref name="risk"/>: the quiet check runs on a timer.</summary>
    private static async Task<HostView> Eventually(IHostGrain grain, string risk)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var view = await grain.GetView();
            if (view.Risk == risk)
                return view;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"still {view.Risk}, not {risk}: {view.RiskReason}");
            await Task.Delay(50);
        }
    }

    /// <summary>A clock the test moves; Orleans keeps its own (the timers run in real time, every <see cref="Fixture.CheckInterval"/>).</summary>
    public sealed class MovableClock : TimeProvider
    {
        private long _offsetTicks;

        public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
    }

    /// <summary>An embedded test cluster whose host grains check quiet hosts every 100 ms on <see cref="Clock"/>.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(100);

        // TestCluster builds its silos from configurator types, so they reach the clock through a static.
        private static readonly MovableClock SharedClock = new();

        public MovableClock Clock => SharedClock;

        public TestCluster Cluster { get; private set; } = null!;

        public async Task InitializeAsync() => Cluster = await TwinTestCluster.DeployAsync<SiloConfigurator>();

        public Task DisposeAsync() => TwinTestCluster.StopAsync(Cluster);

        private sealed class SiloConfigurator : ISiloConfigurator
        {
            public void Configure(ISiloBuilder siloBuilder)
            {
                siloBuilder.Services.AddSingleton(new HostQuietCheck(CheckInterval, SharedClock));
                siloBuilder.AddFleetTwinGrains(new TwinClusterOptions());
            }
        }
    }
}
