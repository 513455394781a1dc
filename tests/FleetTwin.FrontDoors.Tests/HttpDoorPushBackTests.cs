using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using FleetTwin.Twin.Telemetry;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>
/// How the HTTP doors push back: 429 while the twin is behind or the source is over its rate, 503 while the ingest
/// is stopped or a hand-over takes too long; each with Retry-After, a body naming the reason and the turned-away
/// records counted by door and reason. A closed <see cref="TwinGate"/> makes the twin behind for as long as a test
/// needs, so no answer depends on timing. HttpClient is the client: these are the door's answers, not a shipper's.
/// </summary>
public class HttpDoorPushBackTests
{
    /// <summary>Console lines of exhaustions at distinct uptimes, as the crash console prints them.</summary>
    private static string Exhaustions(int count, double firstUptime = 2777545.972710) => string.Concat(Enumerable.Range(0, count).Select(i =>
        string.Create(CultureInfo.InvariantCulture, $"<3>[{firstUptime + i:F6}] PCI-DMA: Out of SW-IOMMU space for {16384 + i} bytes at device 0000:04:00.1\n")));

    private static async Task<string> Body(HttpResponseMessage answer) => await answer.Content.ReadAsStringAsync();

    private static string? RetryAfter(HttpResponseMessage answer) => answer.Headers.TryGetValues("Retry-After", out var values) ? string.Join(",", values) : null;

    [Fact]
    public async Task While_the_twin_is_behind_a_request_gets_429_with_Retry_After_and_the_backlog_and_every_record_is_counted()
    {
        var gate = new TwinGate();
        await using var silo = await LiveSilo.StartAsync(new Dictionary<string, string?>
        {
            ["FleetTwin:FrontDoors:MaxUnpublishedRecords"] = "100",
            ["FleetTwin:FrontDoors:RetryAfterSeconds"] = "7",
            ["FleetTwin:FrontDoors:HandOverTimeoutSeconds"] = "600",
        }, gate);
        using var http = new HttpClient { BaseAddress = new Uri(silo.Http) };
        using var exported = new RejectedMeasurements();

        // An empty pipeline takes any one request whole: 150 records, more than the bound, held by the closed gate.
        var first = http.PostAsync("/ingest/text?host=behind-a", new StringContent(Exhaustions(150)));
        await Await.Until("the first request's 150 records admitted", () => silo.Metrics.AcceptedCount(Door.HttpText) == 150);
        var second = await http.PostAsync("/ingest/text?host=behind-b", new StringContent(Exhaustions(3)));

        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal("7", RetryAfter(second));
        Assert.Equal("http-text: the twin is behind (150 records not yet applied); retry after 7 s\n", await Body(second));
        Assert.Equal(3, silo.Metrics.RejectedCount(Door.HttpText, RejectReason.TwinBusy));
        Assert.Equal(3, exported.Sum(Door.HttpText, RejectReason.TwinBusy));
        Assert.Equal(150, silo.Metrics.AcceptedCount(Door.HttpText));
        Assert.False(first.IsCompleted, "the first request is answered only once its records are on the host streams");

        gate.Open();
        var firstAnswer = await first;
        Assert.Equal(HttpStatusCode.OK, firstAnswer.StatusCode);
        Assert.Equal("""{"accepted":150,"recognised":150,"unrecognised":0,"malformed":0}""", await Body(firstAnswer));
        var retried = await http.PostAsync("/ingest/text?host=behind-b", new StringContent(Exhaustions(3)));
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal(150, (await silo.HostWhen("behind-a", h => h.ExhaustionEvents >= 150)).ExhaustionEvents);
        Assert.Equal(3, (await silo.HostWhen("behind-b", h => h.ExhaustionEvents >= 3)).ExhaustionEvents);
        Assert.Equal(3, silo.Metrics.RejectedCount(Door.HttpText, RejectReason.TwinBusy));
    }

    [Fact]
    public async Task A_source_over_its_rate_gets_429_with_Retry_After_naming_the_limit_and_a_batch_larger_than_the_rate_still_passes_once()
    {
        await using var silo = await LiveSilo.StartAsync(new Dictionary<string, string?> { ["FleetTwin:FrontDoors:MaxRecordsPerSecondPerSource"] = "1" });
        using var http = new HttpClient { BaseAddress = new Uri(silo.Http) };

        // A full bucket takes one batch of any size; 3,600 records at 1/s leave an hour's debt, so the next
        // requests from 127.0.0.1 are over the rate whenever they come within the test.
        var batch = await http.PostAsync("/ingest/text?host=rate-host", new StringContent(Exhaustions(3600)));
        var one = await http.PostAsync("/ingest/text?host=rate-host", new StringContent(Exhaustions(1, firstUptime: 1.0)));
        var five = await http.PostAsync("/ingest/ndjson", new StringContent(string.Concat(Enumerable.Repeat("{\"message\":\"x\",\"host\":\"rate-host\"}\n", 5))));

        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        Assert.Equal("""{"accepted":3600,"recognised":3600,"unrecognised":0,"malformed":0}""", await Body(batch));
        Assert.Equal(HttpStatusCode.TooManyRequests, one.StatusCode);
        Assert.Equal("1", RetryAfter(one));
        Assert.Equal("http-text: 127.0.0.1 is over its 1 records/s (FleetTwin:FrontDoors:MaxRecordsPerSecondPerSource)\n", await Body(one));
        Assert.Equal(HttpStatusCode.TooManyRequests, five.StatusCode);
        Assert.Equal("1", RetryAfter(five));
        Assert.StartsWith("http-ndjson: 127.0.0.1 is over its 1 records/s", await Body(five));
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.HttpText, RejectReason.RateLimited));
        Assert.Equal(5, silo.Metrics.RejectedCount(Door.HttpNdjson, RejectReason.RateLimited));
        Assert.Equal(3600, silo.Metrics.AcceptedCount(Door.HttpText));
        Assert.Equal(0, silo.Metrics.AcceptedCount(Door.HttpNdjson));
        Assert.Equal(3600, (await silo.HostWhen("rate-host", h => h.ExhaustionEvents >= 3600)).ExhaustionEvents);
    }

    [Fact]
    public async Task While_the_ingest_is_stopped_both_doors_answer_503_with_Retry_After_naming_the_reason()
    {
        await using var silo = await LiveSilo.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(silo.Http) };
        // As at shutdown: the ingest stops (and drains) while the HTTP server still answers.
        await silo.Ingest.StopAsync(CancellationToken.None);

        var ndjson = await http.PostAsync("/ingest/ndjson", new StringContent("{\"message\":\"x\",\"host\":\"h\"}\n"));
        var text = await http.PostAsync("/ingest/text?host=h", new StringContent(Exhaustions(2)));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ndjson.StatusCode);
        Assert.Equal("1", RetryAfter(ndjson));
        Assert.Equal("http-ndjson: the twin is starting or stopping\n", await Body(ndjson));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, text.StatusCode);
        Assert.Equal("1", RetryAfter(text));
        Assert.Equal("http-text: the twin is starting or stopping\n", await Body(text));
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.HttpNdjson, RejectReason.NotRunning));
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.HttpText, RejectReason.NotRunning));
        Assert.Equal(0, silo.Metrics.AcceptedCount(Door.HttpText) + silo.Metrics.AcceptedCount(Door.HttpNdjson));
    }

    [Fact]
    public async Task A_hand_over_slower_than_its_timeout_gets_503_its_records_are_still_applied_and_a_retry_duplicates_only_unstamped_lines()
    {
        var gate = new TwinGate();
        await using var silo = await LiveSilo.StartAsync(new Dictionary<string, string?> { ["FleetTwin:FrontDoors:HandOverTimeoutSeconds"] = "0.2" }, gate);
        using var http = new HttpClient { BaseAddress = new Uri(silo.Http) };
        // Three console lines with their printk uptime and one bare line with neither uptime nor time.
        var body = Exhaustions(3) + "PCI-DMA: Out of SW-IOMMU space for 30714 bytes at device 0000:04:00.1\n";

        var late = await http.PostAsync("/ingest/text?host=late-host", new StringContent(body));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, late.StatusCode);
        Assert.Equal("1", RetryAfter(late));
        Assert.Equal("http-text: the records were accepted but not handed to the twin within 0.2 s; they will still be applied. " +
            "A retry is counted once for records with a printk uptime or a time stamp (the twin recognises those it already has); records with neither are applied again\n", await Body(late));
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.HttpText, RejectReason.HandOverTimeout));
        Assert.Equal(4, silo.Metrics.AcceptedCount(Door.HttpText));

        gate.Open();
        var host = await silo.HostWhen("late-host", h => h.ExhaustionEvents >= 4);
        Assert.Equal(4, host.ExhaustionEvents);
        // The retry meets an open gate, but its hand-over still has only 0.2 s: on a loaded machine it may be answered
        // 503 again. Either way its records are applied, and what follows does not depend on which answer it got.
        var retry = await http.PostAsync("/ingest/text?host=late-host", new StringContent(body));
        Assert.True(retry.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"retry answered {retry.StatusCode}");

        // What the 503 says: the three stamped records are recognised, the bare one is applied a second time.
        host = await silo.HostWhen("late-host", h => h.ExhaustionEvents + h.DuplicateRecords >= 8);
        Assert.Equal(3, host.DuplicateRecords);
        Assert.Equal(5, host.ExhaustionEvents);
    }

    /// <summary>What the doors export on the FleetTwin meter as <c>fleettwin.frontdoor.rejected</c> (/metrics: <c>fleettwin_frontdoor_rejected_total</c>).</summary>
    private sealed class RejectedMeasurements : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<(string?, string?), long> _sums = [];

        public RejectedMeasurements()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == TwinMetrics.MeterName && instrument.Name == "fleettwin.frontdoor.rejected")
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                string? door = null, reason = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == "door")
                        door = tag.Value as string;
                    else if (tag.Key == "reason")
                        reason = tag.Value as string;
                }
                lock (_sums)
                    _sums[(door, reason)] = _sums.GetValueOrDefault((door, reason)) + value;
            });
            _listener.Start();
        }

        public long Sum(string door, string reason)
        {
            lock (_sums)
                return _sums.GetValueOrDefault((door, reason));
        }

        public void Dispose() => _listener.Dispose();
    }
}
