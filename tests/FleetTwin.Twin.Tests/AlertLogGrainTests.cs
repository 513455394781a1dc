using FleetTwin.Domain.Fleet;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.Twin.Tests;

/// <summary>The fleet's alert log: numbering without gaps or reordering however many hosts append at once.</summary>
public class AlertLogGrainTests(TwinClusterFixture fixture) : IClassFixture<TwinClusterFixture>
{
    [Fact]
    public async Task Concurrent_appends_are_numbered_contiguously_and_each_append_keeps_its_order()
    {
        var log = fixture.Cluster.GrainFactory.GetGrain<IAlertLogGrain>($"alert-log-test-{Guid.NewGuid():N}");
        const int hosts = 60;

        // Sixty hosts announcing their first risk level at once, three alerts each (a risk change and two panics).
        await Task.WhenAll(Enumerable.Range(0, hosts).Select(h => log.Append(
        [
            Alert(h, AlertKind.RiskChanged, "risk"),
            Alert(h, AlertKind.Panic, "panic 1"),
            Alert(h, AlertKind.Panic, "panic 2"),
        ])));

        var backlog = await log.Since(null, 0);
        Assert.Equal(hosts * 3, backlog.LastSequence);
        Assert.Equal(Enumerable.Range(1, hosts * 3).Select(i => (long)i), backlog.Alerts.Select(a => a.Sequence));
        foreach (var host in backlog.Alerts.GroupBy(a => a.Host))
        {
            var alerts = host.ToArray();
            Assert.Equal(["risk", "panic 1", "panic 2"], alerts.Select(a => a.Reason));
            Assert.Equal(alerts[0].Sequence + 2, alerts[2].Sequence);
        }
    }

    [Fact]
    public async Task A_resume_token_gets_only_what_came_after_it()
    {
        var log = fixture.Cluster.GrainFactory.GetGrain<IAlertLogGrain>($"alert-log-test-{Guid.NewGuid():N}");
        await log.Append([Alert(1, AlertKind.RiskChanged, "first")]);
        var token = await log.Since(null, 0);
        await log.Append([Alert(2, AlertKind.RiskChanged, "second")]);

        var after = await log.Since(token.Epoch, token.LastSequence);

        Assert.False(after.Gap);
        Assert.Equal(["second"], after.Alerts.Select(a => a.Reason));
    }

    [Fact]
    public async Task A_flood_larger_than_the_log_keeps_the_newest_alerts_and_reports_the_gap()
    {
        var log = fixture.Cluster.GrainFactory.GetGrain<IAlertLogGrain>($"alert-log-test-{Guid.NewGuid():N}");
        var flood = AlertLogLimits.Kept + 904;

        await log.Append([.. Enumerable.Range(0, flood).Select(h => Alert(h, AlertKind.RiskChanged, $"host {h}"))]);
        var backlog = await log.Since(null, 0);

        Assert.Equal(flood, backlog.LastSequence);
        Assert.Equal(AlertLogLimits.Kept, backlog.Alerts.Length);
        Assert.Equal(905, backlog.Alerts[0].Sequence);
        Assert.Equal($"host {flood - 1}", backlog.Alerts[^1].Reason);
        Assert.True(backlog.Gap); // the first 904 are no longer kept
    }

    private static TwinAlert Alert(int host, AlertKind kind, string reason) => new()
    {
        Host = $"xs-{host:000}", Pool = "pool-a", Kind = kind, PreviousRisk = RiskLevel.Unknown, Risk = RiskLevel.Critical,
        Reason = reason, RaisedAt = DateTimeOffset.UtcNow,
    };
}
