using System.Net;
using System.Text;
using FleetTwin.Tests.Shared;
using StackExchange.Redis;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>
/// HTTP acknowledges what is durable: in cluster mode a 200 means the records are entries of the Redis journal, and
/// while the journal is unavailable the door answers 503 with Retry-After in seconds (a shipper retries), not after a
/// minute of retries.
/// </summary>
public sealed class DurableAckTests
{
    private static StringContent Records(string host, int count, int from = 0)
    {
        var lines = new StringBuilder();
        for (var i = 0; i < count; i++)
            lines.Append("{\"message\":\"kernel: [").Append(1000 + from + i).Append(".000000] PCI-DMA: Out of SW-IOMMU space for 16384 bytes at device 0000:04:00.1\",\"host\":\"").Append(host).Append("\"}\n");
        return new StringContent(lines.ToString(), Encoding.UTF8, "application/x-ndjson");
    }

    private static async Task<long> JournalEntriesAsync(IDatabase db)
    {
        long entries = 0;
        foreach (var key in db.Multiplexer.GetServers()[0].Keys(pattern: "fleettwin:*:journal:*"))
        {
            if (!key.ToString().EndsWith("dead-letters", StringComparison.Ordinal))
                entries += await db.StreamLengthAsync(key);
        }
        return entries;
    }

    [SkippableFact]
    public async Task A_200_comes_after_the_journal_has_the_records_and_a_journal_that_is_down_gets_503_with_Retry_After()
    {
        var redis = new RedisServer();
        await redis.InitializeAsync();
        LiveSilo? silo = null;
        try
        {
            var connection = redis.Require();
            silo = await LiveSilo.StartAsync(new Dictionary<string, string?> { ["FleetTwin:FrontDoors:FlushIntervalMilliseconds"] = "10" }, redis: connection);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            using var redisClient = await ConnectionMultiplexer.ConnectAsync(connection);
            var db = redisClient.GetDatabase();

            var first = await http.PostAsync($"{silo.Http}/ingest/ndjson", Records("durable-a", 50));
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            // Acknowledged means appended: the entries are in Redis when the answer arrives (applied or not yet).
            Assert.True(await JournalEntriesAsync(db) >= 1, "no journal entry in Redis after the 200");
            var view = await silo.HostWhen("durable-a", v => v.ExhaustionEvents == 50);
            Assert.Equal(50, view.ExhaustionEvents);

            await redis.DisposeAsync(); // the journal's Redis goes away
            var refused = await http.PostAsync($"{silo.Http}/ingest/ndjson", Records("durable-b", 50));

            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Contains("journal", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(50, silo.Metrics.RejectedCount(Door.HttpNdjson, RejectReason.JournalUnavailable));
        }
        finally
        {
            if (silo is not null)
            {
                // A cluster-mode silo whose Redis is gone cannot leave the membership table cleanly: bounded stop.
                try { await silo.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)); } catch (TimeoutException) { }
            }
            await redis.DisposeAsync();
        }
    }
}
