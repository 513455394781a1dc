using Microsoft.Extensions.Logging;
using Orleans.Streams;
using StackExchange.Redis;
using StreamPosition = StackExchange.Redis.StreamPosition;

namespace FleetTwin.Twin.Journal;

/// <summary>
/// A pulling agent's reader of one queue (one Redis stream key) through the journal's consumer group. On taking the
/// queue, and every <see cref="JournalOptions.ClaimInterval"/>, it takes over entries other consumers left pending
/// (XAUTOCLAIM: a dead or departed silo's) and delivers them before new ones; new entries come with XREADGROUP.
/// An entry is acknowledged (XACK) only in <see cref="MessagesDeliveredAsync"/>, which Orleans' SimpleQueueCache
/// calls for entries every consumer cursor has moved past, i.e. after their handler completed
/// (docs/durability.md, "When an entry is acknowledged"). Trimming (XTRIM MINID) never passes the oldest pending entry.
/// </summary>
internal sealed class JournalReceiver : IQueueAdapterReceiver
{
    private const int ClaimBatch = 512;

    private readonly JournalAdapterFactory _journal;
    private readonly JournalOptions _options;
    private readonly RedisKey _key;
    private readonly string _consumer;
    private readonly ILogger _log;
    private readonly Queue<JournalBatchContainer> _claimed = new();
    /// <summary>Entries handed to the cache and not yet acknowledged: a periodic claim must not deliver them twice.</summary>
    private readonly HashSet<string> _outstanding = new(StringComparer.Ordinal);
    private readonly Lock _outstandingLock = new();
    private long _lastClaim;
    private long _lastTrim;
    private JournalToken? _highestAcknowledged;

    public JournalReceiver(JournalAdapterFactory journal, int queue)
    {
        _journal = journal;
        _options = journal.Options;
        Queue = queue;
        _key = _options.QueueKey(queue);
        // One consumer per receiver instance: a queue that comes back to this silo later is a new owner that claims.
        _consumer = $"{Environment.MachineName}-{Environment.ProcessId}-q{queue}-{Guid.NewGuid().ToString("N")[..8]}";
        _log = journal.CreateLogger(typeof(JournalReceiver).FullName!);
    }

    public int Queue { get; }

    // Orleans 10 calls the overloads with a cancellation token; the Redis calls are bounded by the connection's timeouts.
    public Task Initialize(TimeSpan timeout, CancellationToken cancellationToken) => Initialize(timeout);

    public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount, CancellationToken cancellationToken) => GetQueueMessagesAsync(maxCount);

    public Task MessagesDeliveredAsync(IList<IBatchContainer> messages, CancellationToken cancellationToken) => MessagesDeliveredAsync(messages);

    public Task Shutdown(TimeSpan timeout, CancellationToken cancellationToken) => Shutdown(timeout);

    /// <summary>The consumer name in the group (tests inspect the pending list by it).</summary>
    internal string Consumer => _consumer;

    public async Task Initialize(TimeSpan timeout)
    {
        var database = await _journal.DatabaseAsync();
        try
        {
            await database.StreamCreateConsumerGroupAsync(_key, _options.ConsumerGroup, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException error) when (error.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // The group exists: another silo created it.
        }
        // Whatever the queue's previous owner read and did not acknowledge is ours now, delivered first.
        await ClaimAsync(database, TimeSpan.Zero);
        _lastClaim = Environment.TickCount64;
        await ForgetIdleConsumersAsync(database);
    }

    public async Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount)
    {
        var database = await _journal.DatabaseAsync();
        if (Environment.TickCount64 - _lastClaim >= _options.ClaimInterval.TotalMilliseconds)
        {
            _lastClaim = Environment.TickCount64;
            await ClaimAsync(database, _options.ClaimIdleTime);
        }
        var count = maxCount is <= 0 or > 1024 ? 1024 : maxCount;
        var messages = new List<IBatchContainer>();
        while (_claimed.Count > 0 && messages.Count < count)
            messages.Add(_claimed.Dequeue());
        if (messages.Count < count && _claimed.Count == 0)
        {
            var entries = await database.StreamReadGroupAsync(_key, _options.ConsumerGroup, _consumer, StreamPosition.NewMessages, count - messages.Count);
            foreach (var entry in entries)
            {
                if (await DecodeAsync(entry) is { } batch)
                    messages.Add(batch);
            }
        }
        lock (_outstandingLock)
        {
            foreach (JournalBatchContainer batch in messages)
                _outstanding.Add(batch.Token!.EntryId);
        }
        return messages;
    }

    public async Task MessagesDeliveredAsync(IList<IBatchContainer> messages)
    {
        if (messages.Count == 0)
            return;
        var ids = new RedisValue[messages.Count];
        var n = 0;
        foreach (var message in messages)
        {
            if (message is JournalBatchContainer { Token: { } token })
            {
                ids[n++] = token.EntryId;
                if (_highestAcknowledged is null || token.CompareTo(_highestAcknowledged) > 0)
                    _highestAcknowledged = token;
            }
        }
        var database = await _journal.DatabaseAsync();
        await database.StreamAcknowledgeAsync(_key, _options.ConsumerGroup, n == ids.Length ? ids : ids[..n]);
        lock (_outstandingLock)
        {
            for (var i = 0; i < n; i++)
                _outstanding.Remove(ids[i]!);
        }
        if (Environment.TickCount64 - _lastTrim >= _options.TrimInterval.TotalMilliseconds)
        {
            _lastTrim = Environment.TickCount64;
            await TrimAsync(database);
        }
    }

    /// <summary>
    /// Removes entries below the oldest one still pending in the group (any consumer's), or, with none pending, below
    /// the newest this receiver acknowledged: everything below is acknowledged (the group reads in id order), so the
    /// journal keeps exactly what may still need delivering (XTRIM MINID, Redis 6.2+).
    /// </summary>
    internal async Task TrimAsync(IDatabase database)
    {
        var pending = await database.StreamPendingAsync(_key, _options.ConsumerGroup);
        RedisValue below;
        if (pending.PendingMessageCount > 0)
            below = pending.LowestPendingMessageId;
        else if (_highestAcknowledged is { } acknowledged)
            below = acknowledged.EntryId;
        else
            return;
        await database.StreamTrimByMinIdAsync(_key, below, useApproximateMaxLength: false);
    }

    public Task Shutdown(TimeSpan timeout)
    {
        // Nothing to hand back: what this receiver read and did not acknowledge stays pending in the group under its
        // consumer name, and the queue's next owner claims it in Initialize (graceful hand-over and crash alike).
        _claimed.Clear();
        return Task.CompletedTask;
    }

    private bool IsOutstanding(string entryId)
    {
        lock (_outstandingLock)
            return _outstanding.Contains(entryId);
    }

    internal void Forget(string entryId)
    {
        lock (_outstandingLock)
            _outstanding.Remove(entryId);
    }

    /// <summary>
    /// Takes over entries pending with any consumer for at least <paramref name="idle"/> (XAUTOCLAIM, Redis 6.2+).
    /// On taking the queue (idle 0) the claim counts as a delivery (Redis increments the entry's delivery count, which
    /// <see cref="JournalOptions.MaxDeliveries"/> reads); the periodic claim uses JUSTID, which does not, so entries this
    /// receiver itself still holds (a slow consumer's) are not counted as delivered again while they wait.
    /// </summary>
    private async Task ClaimAsync(IDatabase database, TimeSpan idle)
    {
        RedisValue start = "0-0";
        var claimed = new List<StreamEntry>();
        var periodic = idle > TimeSpan.Zero;
        while (true)
        {
            RedisValue next;
            if (periodic)
            {
                var ids = await database.StreamAutoClaimIdsOnlyAsync(_key, _options.ConsumerGroup, _consumer, (long)idle.TotalMilliseconds, start, ClaimBatch);
                foreach (var id in ids.ClaimedIds)
                {
                    if (IsOutstanding(id!))
                        continue;
                    var entries = await database.StreamRangeAsync(_key, id, id, 1);
                    if (entries.Length == 1)
                        claimed.Add(entries[0]);
                }
                next = ids.NextStartId;
            }
            else
            {
                var result = await database.StreamAutoClaimAsync(_key, _options.ConsumerGroup, _consumer, 0, start, ClaimBatch);
                foreach (var entry in result.ClaimedEntries)
                {
                    if (!entry.IsNull && !IsOutstanding(entry.Id!))
                        claimed.Add(entry);
                }
                next = result.NextStartId;
            }
            start = next;
            if (start.IsNull || start == "0-0")
                break;
        }
        if (claimed.Count == 0)
            return;
        _log.LogWarning("journal: {Consumer} took over {Count} pending entries of {Queue}", _consumer, claimed.Count, _key.ToString());
        // Redis counts every delivery of a pending entry (XREADGROUP, XCLAIM): one delivered this often kept killing
        // whoever applied it.
        var deliveries = new Dictionary<string, long>(StringComparer.Ordinal);
        var details = await database.StreamPendingMessagesAsync(_key, _options.ConsumerGroup, claimed.Count + _outstanding.Count + 16, _consumer, claimed[0].Id, claimed[^1].Id);
        foreach (var d in details)
            deliveries[d.MessageId!] = d.DeliveryCount;
        foreach (var entry in claimed)
        {
            var times = deliveries.GetValueOrDefault(entry.Id!);
            if (times > _options.MaxDeliveries)
            {
                await _journal.DeadLetterAsync(Queue, entry.Id!, entry[JournalEntry.Body],
                    $"delivered {times} times without being acknowledged (more than MaxDeliveries {_options.MaxDeliveries})");
                continue;
            }
            if (await DecodeAsync(entry) is { } batch)
                _claimed.Enqueue(batch);
        }
    }

    /// <summary>Reads an entry back; one that does not decode is poison and goes to the dead letters with the reason.</summary>
    private async Task<JournalBatchContainer?> DecodeAsync(StreamEntry entry)
    {
        var body = entry[JournalEntry.Body];
        string reason;
        try
        {
            if (!body.IsNull)
            {
                var batch = _journal.Serializer.Deserialize((byte[])body!) ?? throw new FormatException("the entry decodes as nothing");
                batch.Token = JournalToken.Parse(entry.Id!);
                batch.Queue = Queue;
                return batch;
            }
            reason = $"entry has no '{JournalEntry.Body}' field";
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            reason = $"entry does not decode as a journal batch: {error.GetType().Name}: {error.Message}";
        }
        await _journal.DeadLetterAsync(Queue, entry.Id!, body, reason);
        return null;
    }

    /// <summary>Consumers of the group with nothing pending and idle for long are departed silos' receivers: removed.</summary>
    private async Task ForgetIdleConsumersAsync(IDatabase database)
    {
        var consumers = await database.StreamConsumerInfoAsync(_key, _options.ConsumerGroup);
        foreach (var consumer in consumers)
        {
            if (consumer.PendingMessageCount == 0 && consumer.Name != _consumer && consumer.IdleTimeInMilliseconds > _options.ClaimIdleTime.TotalMilliseconds)
                await database.StreamDeleteConsumerAsync(_key, _options.ConsumerGroup, consumer.Name);
        }
    }
}
