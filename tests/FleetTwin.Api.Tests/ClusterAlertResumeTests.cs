using FleetTwin.Api.V1;
using FleetTwin.Tests.Shared;

namespace FleetTwin.Api.Tests;

/// <summary>
/// AlertService.Watch in cluster mode on a real Redis: the alert log persists before it publishes
/// (<c>AlertLogGrain</c>), so a client that saw an alert can resume after the silo restarts and is given exactly the
/// alerts it missed: none twice, none left out, no gap reported.
/// </summary>
public class ClusterAlertResumeTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private const string ForeignToken = "0.0";

    private static bool PanicOf(Alert a, string host) => a.Kind == AlertKind.Panic && a.Host == host;

    private static (long, string, AlertKind, RiskLevel, RiskLevel, string) Key(Alert a) => (a.Sequence, a.Host, a.Kind, a.PreviousRisk, a.Risk, a.Reason);

    [SkippableFact]
    public async Task After_a_restart_on_Redis_a_watch_resumed_from_the_last_alert_seen_gets_exactly_the_alerts_missed_without_a_gap()
    {
        var connection = redis.Require();
        var cluster = "alert-resume-" + Guid.NewGuid().ToString("N")[..8];
        List<Alert> seen, missed;
        await using (var first = await ApiSilo.StartAsync(redis: connection, clusterId: cluster))
        {
            await AlertWatchTests.IngestIncidentAsAsync(first, "resume-a");
            using (var watch = first.Alerts.Watch(new WatchRequest { ResumeToken = ForeignToken }))
                seen = await AlertWatchTests.ReadUntilAsync(watch, a => PanicOf(a, "resume-a"));
            // The client goes away. What is raised meanwhile is recorded by a second watcher, from the same point on.
            using var witness = first.Alerts.Watch(new WatchRequest { ResumeToken = seen[^1].ResumeToken });
            await AlertWatchTests.IngestIncidentAsAsync(first, "resume-b");
            missed = await AlertWatchTests.ReadUntilAsync(witness, a => PanicOf(a, "resume-b"));
        }

        // The silo restarts (same cluster, same Redis); more alerts come after the restart.
        await using var second = await ApiSilo.StartAsync(redis: connection, clusterId: cluster);
        await AlertWatchTests.IngestIncidentAsAsync(second, "resume-c");
        using var resumed = second.Alerts.Watch(new WatchRequest { ResumeToken = seen[^1].ResumeToken });
        var after = await AlertWatchTests.ReadUntilAsync(resumed, a => PanicOf(a, "resume-c"));

        Assert.Contains(missed, a => a.Host == "resume-b" && a.Risk == RiskLevel.Critical);
        // The missed alerts first, exactly as they were raised (numbers included), then the new ones; numbered on from
        // the last alert seen with no number skipped or repeated, and no gap reported.
        Assert.Equal(missed.Select(Key), after.Take(missed.Count).Select(Key));
        Assert.Equal(Enumerable.Range(1, after.Count).Select(i => seen[^1].Sequence + i), after.Select(a => a.Sequence));
        Assert.All(after, a => Assert.False(a.Gap));
        Assert.Contains(after.Skip(missed.Count), a => a.Host == "resume-c" && a.Risk == RiskLevel.Critical);
        Assert.DoesNotContain(after, a => a.Host == "resume-a");
    }
}
