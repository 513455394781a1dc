using System.Collections.Concurrent;
using System.Diagnostics;
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
/// (appendonly yes), senders posting every host's exhaustion records and retrying a batch on another silo until it is
/// acknowledged, while a random silo is killed with SIGKILL twice mid-ingest and restarted, and one is stopped with
/// SIGTERM (a rolling update). Afterwards every host has applied each acknowledged record exactly once.
/// </summary>
public sealed class ChaosTests(RedisServer redis, ITestOutputHelper output) : IClassFixture<RedisServer>
{
    private const int Hosts = 200;
    private const int RecordsPerHost = 250;
    private const int BatchRecords = 400;
    private const int Senders = 8;
    /// <summary>
    /// The offered rate: batches are due at this pace (a 2-core machine runs the three silos, Redis and the senders),
    /// so the ingest lasts ~33 s and the kills land mid-ingest.
    /// </summary>
    private const int RecordsPerSecond = 1_500;

    [SkippableFact]
    public async Task Every_acknowledged_record_is_applied_exactly_once_while_silos_are_killed_and_restarted()
    {
        var connection = redis.Require();
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
        var silos = new SiloProcess?[3];
        var retired = new List<SiloProcess>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(8) };
        IChaosSender sender = new HttpNdjsonSender(http);
        var clock = Stopwatch.StartNew();
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 3).Select(async i => silos[i] = await SiloProcess.StartAsync(environment)));
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: 3 silos ready");

            // Record k of every host, then k+1: each batch holds many hosts, as a shipper's buffer does.
            var records = (from k in Enumerable.Range(0, RecordsPerHost) from h in Enumerable.Range(0, Hosts) select new ChaosRecord($"chaos-{h:000}", k)).ToList();
            var batches = new ConcurrentQueue<(int Index, ChaosRecord[] Records)>(records.Chunk(BatchRecords).Select((b, i) => (i, b)));
            var total = batches.Count;
            var acknowledged = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
            var acknowledgedBatches = 0;
            var attempts = 0;
            var random = new Random(19);
            var ingestClock = Stopwatch.StartNew();

            async Task Send()
            {
                while (batches.TryDequeue(out var next))
                {
                    var (index, batch) = next;
                    var due = TimeSpan.FromSeconds((double)index * BatchRecords / RecordsPerSecond) - ingestClock.Elapsed;
                    if (due > TimeSpan.Zero)
                        await Task.Delay(due);
                    while (true)
                    {
                        Interlocked.Increment(ref attempts);
                        var live = silos.Where(s => s is { Process.HasExited: false }).ToArray();
                        var target = live.Length == 0 ? null : live[Random.Shared.Next(live.Length)];
                        if (target is not null && await sender.SendAsync(target, batch, CancellationToken.None))
                            break;
                        await Task.Delay(100);
                    }
                    foreach (var record in batch)
                        acknowledged.AddOrUpdate(record.Host, 1, (_, n) => n + 1);
                    Interlocked.Increment(ref acknowledgedBatches);
                }
            }

            async Task Chaos()
            {
                // Two SIGKILLs of a random silo (each takes requests: senders pick silos at random), then a SIGTERM (a
                // rolling update's stop). Each restart is awaited before the next event: with two of three silos gone
                // at once the survivor could not gather the votes that declare them dead (Orleans' membership).
                foreach (var (at, graceful) in new[] { (total / 10, false), (total / 2, false), (4 * total / 5, true) })
                {
                    while (Volatile.Read(ref acknowledgedBatches) < at)
                        await Task.Delay(20);
                    var victim = random.Next(3);
                    var silo = silos[victim]!;
                    if (graceful)
                        await silo.StopAsync();
                    else
                        silo.Process.Kill(); // SIGKILL: no shutdown, no flush, no XACK
                    output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: silo {victim} {(graceful ? "stopped (SIGTERM)" : "killed (SIGKILL)")} with {Volatile.Read(ref acknowledgedBatches)} of {total} batches acknowledged");
                    retired.Add(silo);
                    silos[victim] = null;
                    if (graceful)
                        break; // the last event: the two others take its queues over (a rolling update's next pod would)
                    silos[victim] = await SiloProcess.StartAsync(environment);
                    output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: silo {victim} restarted, {Volatile.Read(ref acknowledgedBatches)} of {total} batches acknowledged");
                }
            }

            var chaos = Chaos();
            await Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => Task.Run(Send)));
            var ingestSeconds = ingestClock.Elapsed.TotalSeconds;
            await chaos;
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {records.Count} records acknowledged in {ingestSeconds:0.0} s ({records.Count / ingestSeconds:0} records/s, {attempts} posts for {total} batches)");

            // Consistent: every host has applied exactly what was acknowledged, once.
            var settle = Stopwatch.StartNew();
            var counts = await SettledCountsAsync(connection, cluster, acknowledged, TimeSpan.FromSeconds(60));
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: twin consistent {settle.Elapsed.TotalSeconds:0.0} s after the last acknowledgement");
            var wrong = acknowledged.Where(a => counts.GetValueOrDefault(a.Key) != a.Value).Select(a => $"{a.Key}: {counts.GetValueOrDefault(a.Key)} applied, {a.Value} acknowledged").ToList();
            Assert.True(wrong.Count == 0, $"{wrong.Count} hosts differ from what was acknowledged:\n{string.Join('\n', wrong.Take(20))}");
            Assert.Equal(Hosts, acknowledged.Count);
            Assert.All(acknowledged.Values, n => Assert.Equal(RecordsPerHost, n));
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
            foreach (var silo in silos.Concat(retired))
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
