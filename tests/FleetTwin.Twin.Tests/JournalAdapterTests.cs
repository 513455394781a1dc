using FleetTwin.Domain.Events;
using FleetTwin.Tests.Shared;
using FleetTwin.Twin.Hosting;
using FleetTwin.Twin.Journal;
using FleetTwin.Twin.Streams;
using FleetTwin.Twin.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using Orleans.Streams;
using StackExchange.Redis;

namespace FleetTwin.Twin.Tests;

/// <summary>
/// The journal's Orleans queue adapter against a real redis-server (appendonly yes): what a pulling agent sees when it
/// reads, acknowledges, dies, takes over, trims and meets poison. Each test its own key prefix.
/// </summary>
public sealed class JournalAdapterTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private readonly List<IDisposable> _owned = [];

    private static readonly Serializer<JournalBatchContainer> Serializer = new ServiceCollection()
        .AddSerializer(s => s.AddAssembly(typeof(JournalBatchContainer).Assembly))
        .AddTwinSerialization()
        .BuildServiceProvider()
        .GetRequiredService<Serializer<JournalBatchContainer>>();

    private (JournalAdapterFactory Journal, JournalOptions Options, TwinMetrics Metrics) NewJournal(string connection, JournalOptions? options = null)
    {
        options = (options ?? new JournalOptions()) with { KeyPrefix = "test:" + Guid.NewGuid().ToString("N")[..8], Partitions = 1 };
        var metrics = new TwinMetrics();
        var journal = new JournalAdapterFactory("twin", connection, options, Serializer, NullLoggerFactory.Instance, metrics);
        _owned.Add(journal);
        _owned.Add(metrics);
        return (journal, options, metrics);
    }

    private IDatabase Redis(string connection)
    {
        var multiplexer = ConnectionMultiplexer.Connect(connection);
        _owned.Add(multiplexer);
        return multiplexer.GetDatabase();
    }

    private static QueueId OnlyQueue(JournalAdapterFactory journal) => Assert.Single(journal.GetStreamQueueMapper().GetAllQueues());

    private static HostEventBatch Batch(string host, double uptime) =>
        new(host, [new SwiotlbExhausted { Host = host, Uptime = uptime, Bytes = 65536, Device = "0000:04:00.1" }], DateTimeOffset.UtcNow);

    private static Task Publish(JournalAdapterFactory journal, string host, double uptime) =>
        journal.QueueMessageBatchAsync(TwinStreams.ForHost(host), [Batch(host, uptime)], null, null);

    private static (string Host, double Uptime) What(IBatchContainer container)
    {
        var (batch, _) = Assert.Single(container.GetEvents<HostEventBatch>());
        return (batch.Host, Assert.Single(batch.Events).Uptime!.Value);
    }

    [SkippableFact]
    public async Task A_publish_returns_once_Redis_holds_the_entry_and_each_host_reads_back_in_the_order_it_was_published()
    {
        var connection = redis.Require();
        var (journal, options, _) = NewJournal(connection);
        var receiver = journal.CreateReceiver(OnlyQueue(journal));
        await receiver.Initialize(TimeSpan.FromSeconds(5), default);

        for (var i = 0; i < 30; i++)
            await Publish(journal, $"host-{i % 3}", i);
        Assert.Equal(30, await Redis(connection).StreamLengthAsync(options.QueueKey(0)));

        var read = await receiver.GetQueueMessagesAsync(100, default);
        Assert.Equal(30, read.Count);
        Assert.Equal(read.Select(r => r.SequenceToken).Order(), read.Select(r => r.SequenceToken));
        foreach (var host in new[] { "host-0", "host-1", "host-2" })
        {
            var uptimes = read.Select(What).Where(w => w.Host == host).Select(w => w.Uptime).ToList();
            Assert.Equal(10, uptimes.Count);
            Assert.Equal(uptimes.Order(), uptimes);
        }
    }

    [SkippableFact]
    public async Task An_entry_is_pending_until_delivered_and_gone_from_the_pending_list_once_acknowledged()
    {
        var connection = redis.Require();
        var (journal, options, _) = NewJournal(connection);
        var receiver = journal.CreateReceiver(OnlyQueue(journal));
        await receiver.Initialize(TimeSpan.FromSeconds(5), default);
        await Publish(journal, "a", 1);
        await Publish(journal, "a", 2);
        var read = await receiver.GetQueueMessagesAsync(10, default);
        var db = Redis(connection);

        Assert.Equal(2, (await db.StreamPendingAsync(options.QueueKey(0), options.ConsumerGroup)).PendingMessageCount);
        await receiver.MessagesDeliveredAsync([read[0]], default);
        var pending = await db.StreamPendingAsync(options.QueueKey(0), options.ConsumerGroup);
        Assert.Equal(1, pending.PendingMessageCount);
        Assert.Equal(((JournalToken)read[1].SequenceToken).EntryId, pending.LowestPendingMessageId.ToString());
    }

    [SkippableFact]
    public async Task The_next_owner_of_a_queue_takes_over_what_a_dead_consumer_read_and_did_not_acknowledge_before_new_entries()
    {
        var connection = redis.Require();
        var (journal, options, _) = NewJournal(connection);
        var dead = journal.CreateReceiver(OnlyQueue(journal));
        await dead.Initialize(TimeSpan.FromSeconds(5), default);
        for (var i = 0; i < 10; i++)
            await Publish(journal, "a", i);
        var read = await dead.GetQueueMessagesAsync(100, default);
        await dead.MessagesDeliveredAsync(read.Take(4).ToList(), default);
        // The silo dies here: no Shutdown, six entries stay pending under its consumer name.
        await Publish(journal, "a", 10);

        var second = NewJournalSharing(journal, connection, options);
        var next = second.CreateReceiver(OnlyQueue(second));
        await next.Initialize(TimeSpan.FromSeconds(5), default);
        var redelivered = await next.GetQueueMessagesAsync(100, default);
        var uptimes = new List<double>(redelivered.Select(r => What(r).Uptime));
        uptimes.AddRange((await next.GetQueueMessagesAsync(100, default)).Select(r => What(r).Uptime));

        Assert.Equal([4, 5, 6, 7, 8, 9, 10], uptimes);
        var consumers = await Redis(connection).StreamConsumerInfoAsync(options.QueueKey(0), options.ConsumerGroup);
        Assert.Equal(0, consumers.Single(c => c.Name == ((JournalReceiver)dead).Consumer).PendingMessageCount);
    }

    [SkippableFact]
    public async Task A_queue_owner_takes_over_entries_another_consumer_left_idle_past_ClaimIdleTime_without_taking_its_own_twice()
    {
        var connection = redis.Require();
        var (journal, options, _) = NewJournal(connection, new JournalOptions { ClaimInterval = TimeSpan.Zero, ClaimIdleTime = TimeSpan.FromMilliseconds(200) });
        var owner = journal.CreateReceiver(OnlyQueue(journal));
        await owner.Initialize(TimeSpan.FromSeconds(5), default);
        await Publish(journal, "a", 1);
        Assert.Single(await owner.GetQueueMessagesAsync(10, default)); // held by the owner, not acknowledged
        // A consumer that died after the owner had taken the queue (a rebalance's overlap) left entry 2 pending.
        await Publish(journal, "a", 2);
        await Redis(connection).StreamReadGroupAsync(options.QueueKey(0), options.ConsumerGroup, "departed-consumer", ">", 10);
        await Task.Delay(400);

        var taken = await owner.GetQueueMessagesAsync(10, default);

        Assert.Equal([2.0], taken.Select(t => What(t).Uptime));
        var pending = await Redis(connection).StreamPendingMessagesAsync(options.QueueKey(0), options.ConsumerGroup, 10, ((JournalReceiver)owner).Consumer);
        Assert.Equal(2, pending.Length);
        Assert.All(pending, p => Assert.Equal(1, p.DeliveryCount)); // the periodic claim did not count as a delivery
    }

    private JournalAdapterFactory NewJournalSharing(JournalAdapterFactory _, string connection, JournalOptions options)
    {
        var metrics = new TwinMetrics();
        var journal = new JournalAdapterFactory("twin", connection, options, Serializer, NullLoggerFactory.Instance, metrics);
        _owned.Add(journal);
        _owned.Add(metrics);
        return journal;
    }

    [SkippableFact]
    public async Task Trimming_removes_acknowledged_entries_and_never_one_still_pending()
    {
        var connection = redis.Require();
        var (journal, options, _) = NewJournal(connection, new JournalOptions { TrimInterval = TimeSpan.Zero });
        var receiver = journal.CreateReceiver(OnlyQueue(journal));
        await receiver.Initialize(TimeSpan.FromSeconds(5), default);
        for (var i = 0; i < 10; i++)
            await Publish(journal, "a", i);
        var read = await receiver.GetQueueMessagesAsync(100, default);
        var db = Redis(connection);
        var key = options.QueueKey(0);

        // Acknowledged out of order: 0-3 and 6; 4 and 5 still pending, so nothing from 4 on may go.
        await receiver.MessagesDeliveredAsync([read[0], read[1], read[2], read[3], read[6]], default);
        var kept = await db.StreamRangeAsync(key);
        Assert.Equal(((JournalToken)read[4].SequenceToken).EntryId, kept[0].Id.ToString());
        Assert.Equal(6, kept.Length);

        await receiver.MessagesDeliveredAsync(read.Skip(4).ToList(), default);
        // Nothing pending: everything below the newest acknowledged entry goes (the newest stays as the trim mark).
        Assert.Equal(1, await db.StreamLengthAsync(key));
    }

    [SkippableFact]
    public async Task An_entry_that_does_not_decode_goes_to_the_dead_letters_with_the_reason_and_is_counted()
    {
        var connection = redis.Require();
        var (journal, options, metrics) = NewJournal(connection);
        var receiver = journal.CreateReceiver(OnlyQueue(journal));
        await receiver.Initialize(TimeSpan.FromSeconds(5), default);
        var db = Redis(connection);
        await db.StreamAddAsync(options.QueueKey(0), "b", new byte[] { 1, 2, 3, 4, 5 });
        await Publish(journal, "a", 7);

        var read = await receiver.GetQueueMessagesAsync(10, default);

        Assert.Equal(7, What(Assert.Single(read)).Uptime);
        var dead = Assert.Single(await db.StreamRangeAsync(options.DeadLetterKey));
        Assert.Contains("does not decode", dead["reason"].ToString(), StringComparison.Ordinal);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, (byte[])dead["b"]!);
        Assert.Equal(1, metrics.JournalDeadLetters);
        Assert.Equal(1, (await db.StreamPendingAsync(options.QueueKey(0), options.ConsumerGroup)).PendingMessageCount); // only entry 7
    }

    [SkippableFact]
    public async Task An_entry_whose_delivery_keeps_killing_its_consumer_goes_to_the_dead_letters_after_MaxDeliveries()
    {
        var connection = redis.Require();
        var (journal, options, metrics) = NewJournal(connection, new JournalOptions { MaxDeliveries = 2 });
        await Publish(journal, "poison", 1);
        var deliveries = 0;
        // Each owner reads the entry and dies before acknowledging it; the third takeover finds it delivered 3 times.
        for (var owner = 0; owner < 4; owner++)
        {
            var receiver = NewJournalSharing(journal, connection, options).CreateReceiver(OnlyQueue(journal));
            await receiver.Initialize(TimeSpan.FromSeconds(5), default);
            deliveries += (await receiver.GetQueueMessagesAsync(10, default)).Count;
        }

        Assert.Equal(2, deliveries);
        var db = Redis(connection);
        var dead = Assert.Single(await db.StreamRangeAsync(options.DeadLetterKey));
        Assert.Contains("delivered 3 times", dead["reason"].ToString(), StringComparison.Ordinal);
        Assert.Equal(0, (await db.StreamPendingAsync(options.QueueKey(0), options.ConsumerGroup)).PendingMessageCount);
    }

    [SkippableFact]
    public async Task An_entry_Orleans_gave_up_delivering_goes_to_the_dead_letters_and_leaves_the_pending_list()
    {
        var connection = redis.Require();
        var (journal, options, metrics) = NewJournal(connection);
        var queue = OnlyQueue(journal);
        var receiver = journal.CreateReceiver(queue);
        await receiver.Initialize(TimeSpan.FromSeconds(5), default);
        await Publish(journal, "a", 3);
        var entry = Assert.Single(await receiver.GetQueueMessagesAsync(10, default));

        var handler = await journal.GetDeliveryFailureHandler(queue);
        await handler.OnDeliveryFailure(GuidId.GetNewGuidId(), "twin", entry.StreamId, entry.SequenceToken);

        var db = Redis(connection);
        var dead = Assert.Single(await db.StreamRangeAsync(options.DeadLetterKey));
        Assert.Equal(((JournalToken)entry.SequenceToken).EntryId, dead["entry"].ToString());
        Assert.Contains("kept failing", dead["reason"].ToString(), StringComparison.Ordinal);
        Assert.Equal(0, (await db.StreamPendingAsync(options.QueueKey(0), options.ConsumerGroup)).PendingMessageCount);
        Assert.Equal(1, metrics.JournalDeadLetters);
        Assert.False(handler.ShouldFaultSubsriptionOnError);
    }

    [Fact]
    public async Task A_publish_the_journal_cannot_take_fails_with_JournalUnavailableException()
    {
        // Nothing listens on port 1 of the loopback: the connection is refused.
        var options = new JournalOptions { KeyPrefix = "test:down", AppendTimeout = TimeSpan.FromSeconds(1) };
        using var metrics = new TwinMetrics();
        using var journal = new JournalAdapterFactory("twin", "127.0.0.1:1,connectRetry=0", options, Serializer, NullLoggerFactory.Instance, metrics);

        var error = await Assert.ThrowsAsync<JournalUnavailableException>(() => Publish(journal, "a", 1));
        Assert.Contains("did not take the batch", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        foreach (var owned in _owned)
            owned.Dispose();
    }
}
