using System.Diagnostics;
using System.Globalization;
using FleetTwin.Tests.Shared;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace FleetTwin.Deployment.Tests.Chaos;

/// <summary>
/// Acknowledged means durable, tried as an operator would: three silo processes in cluster mode on one redis-server
/// (appendonly yes) and three kinds of real senders at the same time, each with its own hosts: HTTP NDJSON posts
/// (retried on another silo until a 2xx), the bidirectional gRPC IngestStream (acks per batch; a broken stream is opened
/// again on another silo and what it did not acknowledge is sent again), and rsyslog with omrelp tailing a kern.log
/// (retrying until its silo answers). Meanwhile a silo is killed with SIGKILL twice mid-ingest and restarted: first
/// rsyslog's RELP target (restarted on the same RELP port, rsyslog retries until it is back), then a silo a gRPC stream
/// is open on; HTTP posts go to all silos. Then a silo other than the RELP target is stopped with SIGTERM (a rolling
/// update). Afterwards, per sender kind, every host has applied each acknowledged record (for rsyslog: each record
/// handed to it) exactly once: counts per host equal what was acknowledged, every host's whole series, none twice.
/// Resent records the twin already held (acks lost with a killed silo, librelp's unanswered frames) are recognised by
/// their fingerprints (docs/durability.md, "Exactly-once effect").
/// </summary>
public sealed class ChaosTests(RedisServer redis, ITestOutputHelper output) : IClassFixture<RedisServer>
{
    private const int HostsPerKind = 100;
    private const int RecordsPerHost = 150;
    private const int BatchRecords = 250;
    private const int HttpWorkers = 4;
    private const int GrpcStreams = 3;
    private const int GrpcWindow = 4;
    /// <summary>
    /// The offered rate of each sender kind: batches are due at this pace (a 2-core machine runs the three silos, Redis,
    /// rsyslogd and the senders), so the ingest lasts ~43 s: long enough for two kills, their restarts (~15 s each) and
    /// the SIGTERM to land mid-ingest.
    /// </summary>
    private const int RecordsPerSecondPerKind = 350;

    /// <summary>How long the silos' starts, the kills and the ingest may take before the test fails (about a minute on 2 cores).</summary>
    private static readonly TimeSpan IngestBound = TimeSpan.FromMinutes(5);

    [SkippableFact]
    public async Task Every_acknowledged_record_is_applied_exactly_once_while_silos_are_killed_and_restarted()
    {
        var connection = redis.Require();
        var rsyslogd = RsyslogRelpSender.FindRsyslogd();
        if (rsyslogd is null)
        {
            const string missing = "rsyslogd with its omrelp module is not installed (apt-get install -y rsyslog rsyslog-relp)";
            if (Environment.GetEnvironmentVariable("FLEETTWIN_REQUIRE_TOOLS") == "1")
                throw new InvalidOperationException(missing + " and FLEETTWIN_REQUIRE_TOOLS=1");
            Skip.If(true, missing);
        }
        var cluster = "chaos-" + Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string?>
        {
            ["FleetTwin__RedisConnectionString"] = connection,
            ["FleetTwin__ClusterId"] = cluster,
            ["FleetTwin__ServiceId"] = cluster,
            ["FleetTwin__AdvertisedAddress"] = "127.0.0.1",
            ["FleetTwin__FrontDoors__HandOverTimeoutSeconds"] = "10",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        // Each silo keeps its RELP port across restarts (rsyslog has one target and reconnects to it).
        var relpPorts = Enumerable.Range(0, 3).Select(_ => RedisServer.FreePort()).ToArray();
        Dictionary<string, string?> EnvironmentOf(int silo) => new(environment) { ["FleetTwin__FrontDoors__RelpPort"] = relpPorts[silo].ToString(CultureInfo.InvariantCulture) };
        var silos = new SiloProcess?[3];
        var retired = new List<SiloProcess>();
        IReadOnlyList<SiloProcess> Live() => [.. silos.OfType<SiloProcess>()];
        var random = new Random(19);
        var relpTarget = random.Next(3);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(8) };
        var grpc = new GrpcIngestStreamSender(GrpcStreams, GrpcWindow);
        RsyslogRelpSender? rsyslog = null;
        var clock = Stopwatch.StartNew();
        using var bound = new CancellationTokenSource(IngestBound);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 3).Select(async i => silos[i] = await SiloProcess.StartAsync(EnvironmentOf(i))));
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: 3 silos ready; rsyslog forwards to silo {relpTarget}'s RELP door");
            rsyslog = RsyslogRelpSender.Start(rsyslogd!, relpPorts[relpTarget]);

            ChaosWork Work(string kind) => new($"chaos-{kind}", HostsPerKind, RecordsPerHost, BatchRecords, RecordsPerSecondPerKind, Live);
            var senders = new (IChaosSender Sender, ChaosWork Work)[] { (new HttpNdjsonSender(http, HttpWorkers), Work("http")), (grpc, Work("grpc")), (rsyslog, Work("relp")) };
            var records = senders.Sum(s => s.Work.Records);
            int Acknowledged() => senders.Sum(s => s.Work.AcknowledgedRecords);
            string Progress() => string.Join(", ", senders.Select(s => $"{s.Sender.Name} {s.Work.AcknowledgedRecords}/{s.Work.Records}"));

            // The silo a gRPC stream is open on now (its index), else any.
            int GrpcReceiver() => grpc.Connected.OfType<SiloProcess>().Select(c => Array.IndexOf(silos, c)).Where(i => i >= 0).DefaultIfEmpty(random.Next(3)).First();

            async Task Chaos()
            {
                // Two SIGKILLs, each mid-ingest and followed by a restart: first rsyslog's RELP target, then a silo a gRPC
                // stream is open on (every silo takes HTTP posts: those pick silos at random). Then a SIGTERM (a rolling
                // update's stop) of a silo other than the RELP target (rsyslog has that one target), not restarted.
                // Each restart is awaited before the next event: with two of three silos gone at once the survivor
                // could not gather the votes that declare them dead (Orleans' membership).
                var events = new (int At, Func<int> Victim, bool Graceful)[]
                {
                    (records / 20, () => relpTarget, false),
                    (records * 7 / 20, GrpcReceiver, false),
                    (records * 7 / 10, () => grpc.Connected.OfType<SiloProcess>().Select(c => Array.IndexOf(silos, c)).Where(i => i >= 0 && i != relpTarget).DefaultIfEmpty((relpTarget + 1 + random.Next(2)) % 3).First(), true),
                };
                foreach (var (at, choose, graceful) in events)
                {
                    while (Acknowledged() < at)
                        await Task.Delay(20, bound.Token);
                    var victim = choose();
                    var silo = silos[victim]!;
                    silos[victim] = null;
                    if (graceful)
                        await silo.StopAsync();
                    else
                        silo.Process.Kill(); // SIGKILL: no shutdown, no flush, no XACK
                    output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: silo {victim} {(graceful ? "stopped (SIGTERM)" : "killed (SIGKILL)")}; acknowledged: {Progress()}");
                    retired.Add(silo);
                    if (graceful)
                        break; // the last event: the two others take its queues over (a rolling update's next pod would)
                    silos[victim] = await SiloProcess.StartAsync(EnvironmentOf(victim));
                    output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: silo {victim} restarted; acknowledged: {Progress()}");
                }
            }

            foreach (var (_, work) in senders)
                work.Start();
            var ingestStart = clock.Elapsed;
            var chaos = Chaos();
            try
            {
                await Task.WhenAll(senders.Select(s => Task.Run(() => s.Sender.RunAsync(s.Work, bound.Token))));
                await chaos;
            }
            catch (OperationCanceledException) when (bound.IsCancellationRequested)
            {
                // The senders retry until a silo answers; a cluster that never recovers would hold them (and CI) for ever.
                throw new Xunit.Sdk.XunitException($"the ingest did not finish within {IngestBound.TotalMinutes:0} min (a minute is normal): acknowledged {Progress()}; live silos: {Live().Count}");
            }
            foreach (var (sender, work) in senders)
                output.WriteLine($"{sender.Name}: {work.Records} records acknowledged in {work.Seconds:0.0} s ({work.Records / work.Seconds:0} records/s, {work.Attempts} sends for {work.Batches} batches)");
            output.WriteLine($"{grpc.Name}: {grpc.Reconnects} streams opened again after a break");

            // Consistent: every host has applied exactly what was acknowledged, once.
            var expected = senders.SelectMany(s => s.Work.Acknowledged).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
            var counts = await SettledCountsAsync(connection, cluster, expected, TimeSpan.FromSeconds(90));
            var lastAcknowledged = ingestStart + TimeSpan.FromSeconds(senders.Max(s => s.Work.Seconds));
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: twin consistent {(clock.Elapsed - lastAcknowledged).TotalSeconds:0.0} s after the last acknowledgement (or hand-over to rsyslog)");
            // The gRPC sender's streams were broken by the kills and opened again elsewhere: the resend path was exercised.
            Assert.True(grpc.Reconnects > 0, "no gRPC stream was broken: the kills missed every silo a stream was open on");
            foreach (var (sender, work) in senders)
            {
                var wrong = work.Acknowledged.Where(a => counts.GetValueOrDefault(a.Key) != a.Value).Select(a => $"{a.Key}: {counts.GetValueOrDefault(a.Key)} applied, {a.Value} acknowledged").ToList();
                var status = sender is RsyslogRelpSender relp ? $" (rsyslogd: {await relp.StatusAsync()})" : "";
                Assert.True(wrong.Count == 0, $"{sender.Name}: {wrong.Count} hosts differ from what was acknowledged{status}:\n{string.Join('\n', wrong.Take(20))}");
                // Every batch was sent until acknowledged: each host's whole series, none twice.
                Assert.Equal(work.Hosts.Order(StringComparer.Ordinal), work.Acknowledged.Keys.Order(StringComparer.Ordinal));
                Assert.All(work.Acknowledged.Values, n => Assert.Equal(RecordsPerHost, n));
            }
        }
        catch
        {
            foreach (var silo in silos.Concat(retired))
            {
                if (silo is not null)
                    output.WriteLine($"--- silo {silo.Http}:\n{string.Join('\n', silo.Output.Split('\n').TakeLast(40))}");
            }
            throw;
        }
        finally
        {
            if (rsyslog is not null)
                await rsyslog.DisposeAsync();
            foreach (var silo in silos.Concat(retired).Distinct())
            {
                if (silo is not null)
                    await silo.DisposeAsync();
            }
        }
    }

    /// <summary>Each host's applied exhaustion count once they all equal what was acknowledged, or as they are after <paramref name="timeout"/>.</summary>
    private static async Task<Dictionary<string, long>> SettledCountsAsync(string redis, string cluster, IReadOnlyDictionary<string, int> expected, TimeSpan timeout)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        builder.UseOrleansClient(client => client.AddFleetTwinClient(new TwinClusterOptions { RedisConnectionString = redis, ClusterId = cluster, ServiceId = cluster }));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var client = host.Services.GetRequiredService<IClusterClient>();
            var waited = Stopwatch.StartNew();
            while (true)
            {
                var counts = new Dictionary<string, long>(StringComparer.Ordinal);
                try
                {
                    var views = await Task.WhenAll(expected.Keys.Select(h => client.GetGrain<IHostGrain>(h).GetView()));
                    foreach (var view in views)
                        counts[view.Name] = view.ExhaustionEvents;
                    if (expected.All(e => counts.GetValueOrDefault(e.Key) == e.Value) || waited.Elapsed > timeout)
                        return counts;
                }
                catch (Exception) when (waited.Elapsed < timeout)
                {
                    // A grain call to a silo the cluster has not yet declared dead: ask again.
                }
                await Task.Delay(250);
            }
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
