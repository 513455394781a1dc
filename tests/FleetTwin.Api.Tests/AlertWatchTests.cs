using FleetTwin.Api.V1;
using FleetTwin.Twin.Hosting;
using Grpc.Core;

namespace FleetTwin.Api.Tests;

/// <summary>AlertService.Watch: live alerts, filters, resume tokens, the clean end at shutdown and a restarted silo.</summary>
public class AlertWatchTests(KbSiloFixture kb) : IClassFixture<KbSiloFixture>
{
    /// <summary>A token of another alert log: the server answers with every alert it keeps, the first marked as a gap.</summary>
    private const string ForeignToken = "0.0";

    /// <summary>The KB incident as it would be logged by another host: the same records under another name.</summary>
    internal static async Task IngestIncidentAsAsync(ApiSilo silo, string host)
    {
        foreach (var file in new[] { "kb-incident/kern.log", "kb-incident/dom0.log" })
        {
            var lines = File.ReadAllLines(Golden.Path(file)).Select(l => l.Replace(KbSiloFixture.KbHost, host, StringComparison.Ordinal));
            var answer = await silo.IngestLinesAsync(lines, host, file);
            Assert.True(answer.Applied);
        }
    }

    internal static async Task<List<Alert>> ReadUntilAsync(AsyncServerStreamingCall<Alert> call, Func<Alert, bool> last)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var alerts = new List<Alert>();
        while (await call.ResponseStream.MoveNext(timeout.Token))
        {
            alerts.Add(call.ResponseStream.Current);
            if (last(call.ResponseStream.Current))
                return alerts;
        }
        throw new Xunit.Sdk.XunitException($"the stream ended after {alerts.Count} alerts without the one expected");
    }

    private static bool PanicOf(Alert a, string host) => a.Kind == AlertKind.Panic && a.Host == host;

    [Fact]
    public async Task A_token_from_another_alert_log_gets_every_kept_alert_and_the_first_says_alerts_may_be_missing()
    {
        using var call = kb.Silo.Alerts.Watch(new WatchRequest { ResumeToken = ForeignToken });
        var alerts = await ReadUntilAsync(call, a => PanicOf(a, KbSiloFixture.KbHost));

        Assert.True(alerts[0].Gap);
        Assert.All(alerts.Skip(1), a => Assert.False(a.Gap));
        Assert.Equal(Enumerable.Range((int)alerts[0].Sequence, alerts.Count).Select(i => (long)i), alerts.Select(a => a.Sequence));
        var panic = alerts[^1];
        Assert.Equal("DMA: Random memory could be DMA read", panic.PanicMessage);
        Assert.Contains(alerts, a => a.Host == KbSiloFixture.KbHost && a.Kind == AlertKind.RiskChanged && a.Risk == RiskLevel.Critical);
    }

    [Fact]
    public async Task Resuming_with_a_token_delivers_exactly_the_alerts_after_it()
    {
        List<Alert> all;
        using (var call = kb.Silo.Alerts.Watch(new WatchRequest { ResumeToken = ForeignToken }))
            all = await ReadUntilAsync(call, a => PanicOf(a, KbSiloFixture.KbHost));

        using var resumed = kb.Silo.Alerts.Watch(new WatchRequest { ResumeToken = all[0].ResumeToken });
        var after = await ReadUntilAsync(resumed, a => a.Sequence == all[^1].Sequence);

        Assert.Equal(all.Skip(1).Select(a => a.Sequence), after.Select(a => a.Sequence));
        Assert.All(after, a => Assert.False(a.Gap));
    }

    [Fact]
    public async Task A_watcher_sees_a_new_host_go_critical_and_panic_live_and_the_risk_filter_holds()
    {
        List<Alert> kept;
        using (var call = kb.Silo.Alerts.Watch(new WatchRequest { ResumeToken = ForeignToken }))
            kept = await ReadUntilAsync(call, a => PanicOf(a, KbSiloFixture.KbHost));
        var host = "live-" + Guid.NewGuid().ToString("N")[..8];

        // From the last alert seen on: nothing raised between the two calls can be missed.
        using var watch = kb.Silo.Alerts.Watch(new WatchRequest { ResumeToken = kept[^1].ResumeToken, MinRisk = RiskLevel.Critical });
        await IngestIncidentAsAsync(kb.Silo, host);
        var alerts = await ReadUntilAsync(watch, a => PanicOf(a, host));

        Assert.Contains(alerts, a => a.Host == host && a.Kind == AlertKind.RiskChanged && a.Risk == RiskLevel.Critical);
        Assert.All(alerts, a => Assert.True(a.Risk >= RiskLevel.Critical || a.PreviousRisk >= RiskLevel.Critical, $"alert {a.Sequence} is below the filter"));
        Assert.DoesNotContain(alerts, a => a.Kind == AlertKind.RiskChanged && a.Risk == RiskLevel.Warning && a.PreviousRisk < RiskLevel.Critical);
    }

    [Theory]
    [InlineData("garbage", "resume_token")]
    [InlineData("abc.-1", "resume_token")]
    public async Task A_bad_resume_token_is_INVALID_ARGUMENT(string token, string field)
    {
        var status = await Rpc.FailureOf(async () =>
        {
            using var call = kb.Silo.Alerts.Watch(new WatchRequest { ResumeToken = token });
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });

        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.StartsWith(field + ":", status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_watch_ends_with_DEADLINE_EXCEEDED_at_its_deadline()
    {
        var status = await Rpc.FailureOf(async () =>
        {
            using var call = kb.Silo.Alerts.Watch(new WatchRequest { Pool = "no-alerts-here" }, deadline: DateTime.UtcNow.AddMilliseconds(500));
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
        });

        Assert.Equal(StatusCode.DeadlineExceeded, status.StatusCode);
    }

    [Fact]
    public async Task When_the_silo_stops_the_watch_ends_cleanly_and_after_a_restart_the_old_token_resumes_with_a_gap()
    {
        var port = InProcessTwin.FreeLoopbackPort();
        string token;
        var first = await ApiSilo.StartAsync(port);
        try
        {
            await IngestIncidentAsAsync(first, "restart-a");
            using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(first.Endpoint); // the client's own, outliving the silo
            using var call = new AlertService.AlertServiceClient(channel).Watch(new WatchRequest { ResumeToken = ForeignToken });
            token = (await ReadUntilAsync(call, a => PanicOf(a, "restart-a")))[^1].ResumeToken;

            await first.DisposeAsync();
            using var ended = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            // The open call ends with OK: the client's cue to reconnect with its token, not an error.
            Assert.False(await call.ResponseStream.MoveNext(ended.Token));
            Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        }
        finally
        {
            await first.DisposeAsync();
        }

        await using var second = await ApiSilo.StartAsync(port);
        await IngestIncidentAsAsync(second, "restart-b");
        using var resumed = second.Alerts.Watch(new WatchRequest { ResumeToken = token });
        var alerts = await ReadUntilAsync(resumed, a => PanicOf(a, "restart-b"));

        Assert.True(alerts[0].Gap, "the embedded silo's alert log started anew: the client must be told it may have missed alerts");
        Assert.Contains(alerts, a => a.Host == "restart-b" && a.Risk == RiskLevel.Critical);
    }
}
