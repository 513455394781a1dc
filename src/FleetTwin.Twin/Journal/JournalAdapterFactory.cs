using System.Collections.Concurrent;
using FleetTwin.Twin.Telemetry;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Providers.Streams.Common;
using Orleans.Serialization;
using Orleans.Streams;
using StackExchange.Redis;

namespace FleetTwin.Twin.Journal;

/// <summary>
/// Orleans persistent streams over Redis Streams: the durable ingest journal (docs/durability.md). Publishing a batch
/// is an awaited XADD to its queue's stream key, so <c>OnNextAsync</c> returns only once Redis has the entry; pulling
/// agents read through one consumer group with XREADGROUP and XACK an entry only once Orleans' cache hands it back
/// as delivered (<see cref="IQueueAdapterReceiver.MessagesDeliveredAsync"/>, after the consumer's handler returned).
/// No Orleans Redis-streams provider is published; this is the four interfaces Orleans asks of one
/// (https://learn.microsoft.com/dotnet/orleans/implementation/streams-implementation/).
/// </summary>
public sealed class JournalAdapterFactory : IQueueAdapterFactory, IQueueAdapter, IDisposable
{
    private readonly JournalOptions _options;
    private readonly ConfigurationOptions _configuration;
    private readonly Serializer<JournalBatchContainer> _serializer;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly TwinMetrics? _metrics;
    private readonly HashRingBasedStreamQueueMapper _mapper;
    private readonly SimpleQueueAdapterCache _cache;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly ConcurrentDictionary<QueueId, JournalReceiver> _receivers = new();
    private ConnectionMultiplexer? _redis;

    /// <summary>A journal on the Redis of a plain StackExchange.Redis connection string (tests).</summary>
    public JournalAdapterFactory(string name, string connectionString, JournalOptions options, Serializer<JournalBatchContainer> serializer, ILoggerFactory loggers, TwinMetrics? metrics)
        : this(name, ConfigurationOptions.Parse(connectionString), options, serializer, loggers, metrics)
    {
    }

    /// <summary>A journal on the Redis <paramref name="configuration"/> reaches (TLS, ACL user: <c>TwinRedis.Configuration</c>).</summary>
    public JournalAdapterFactory(string name, ConfigurationOptions configuration, JournalOptions options, Serializer<JournalBatchContainer> serializer, ILoggerFactory loggers, TwinMetrics? metrics)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Partitions, 1);
        Name = name;
        _configuration = configuration;
        _options = options;
        _serializer = serializer;
        _loggers = loggers;
        _log = loggers.CreateLogger<JournalAdapterFactory>();
        _metrics = metrics;
        _mapper = new HashRingBasedStreamQueueMapper(new HashRingStreamQueueMapperOptions { TotalQueueCount = options.Partitions }, name);
        _cache = new SimpleQueueAdapterCache(new SimpleQueueCacheOptions(), name, loggers);
    }

    public string Name { get; }

    /// <summary>Entries are read back in order but a delivered entry is gone for Orleans (rewinding is Redis's job: XAUTOCLAIM).</summary>
    public bool IsRewindable => false;

    public StreamProviderDirection Direction => StreamProviderDirection.ReadWrite;

    internal JournalOptions Options => _options;

    internal Serializer<JournalBatchContainer> Serializer => _serializer;

    internal TwinMetrics? Metrics => _metrics;

    internal ILogger Log => _log;

    /// <summary>The queue (0..Partitions-1) a stream's batches go to; the same for every silo and client.</summary>
    public int QueueOf(StreamId streamId) => (int)_mapper.GetQueueForStream(streamId).GetNumericId();

    public Task<IQueueAdapter> CreateAdapter() => Task.FromResult<IQueueAdapter>(this);

    public IQueueAdapterCache GetQueueAdapterCache() => _cache;

    public IStreamQueueMapper GetStreamQueueMapper() => _mapper;

    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId)
        => Task.FromResult<IStreamFailureHandler>(new JournalFailureHandler(this, (int)queueId.GetNumericId()));

    public IQueueAdapterReceiver CreateReceiver(QueueId queueId)
    {
        var receiver = new JournalReceiver(this, (int)queueId.GetNumericId());
        _receivers[queueId] = receiver;
        return receiver;
    }

    public async Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext)
    {
        if (token is not null)
            throw new ArgumentException("the journal assigns positions itself (Redis entry ids); a producer cannot pass a sequence token", nameof(token));
        var entry = new JournalBatchContainer { StreamId = streamId, Events = events.Cast<object>().ToList() };
        var bytes = _serializer.SerializeToArray(entry);
        var key = _options.QueueKey(QueueOf(streamId));
        try
        {
            var database = await DatabaseAsync();
            // Awaited: the caller's OnNextAsync (and so the door's acknowledgement) completes only after Redis answered
            // the XADD; with appendonly yes the entry is in Redis's append-only file (fsynced per appendfsync).
            await database.StreamAddAsync(key, JournalEntry.Body, bytes).WaitAsync(_options.AppendTimeout);
        }
        catch (Exception error) when (error is RedisException or TimeoutException or ObjectDisposedException)
        {
            throw new JournalUnavailableException($"the ingest journal (Redis stream {key}) did not take the batch for {streamId}: {error.Message}", error);
        }
    }

    /// <summary>The connection, opened on first use (a client or silo that never publishes never connects).</summary>
    internal async ValueTask<IDatabase> DatabaseAsync()
    {
        if (_redis is { } open)
            return open.GetDatabase();
        await _connecting.WaitAsync();
        try
        {
            if (_redis is null)
            {
                var configuration = _configuration.Clone();
                // Keep trying in the background after a failed connect, and fail commands at once while disconnected
                // instead of queueing them for the command timeout: a door must answer 503 in seconds, not a minute.
                configuration.AbortOnConnectFail = false;
                configuration.BacklogPolicy = BacklogPolicy.FailFast;
                configuration.ConnectTimeout = Math.Min(configuration.ConnectTimeout, (int)_options.AppendTimeout.TotalMilliseconds);
                _redis = await ConnectionMultiplexer.ConnectAsync(configuration);
            }
            return _redis.GetDatabase();
        }
        finally
        {
            _connecting.Release();
        }
    }

    internal ILogger CreateLogger(string category) => _loggers.CreateLogger(category);

    internal void Forget(int queue, string entryId)
    {
        foreach (var receiver in _receivers.Values)
        {
            if (receiver.Queue == queue)
                receiver.Forget(entryId);
        }
    }

    /// <summary>
    /// Moves a journal entry to the dead letters (<see cref="JournalOptions.DeadLetterKey"/>) with the reason, then
    /// acknowledges it: never dropped, and counted (fleettwin_journal_dead_letters_total). Throws when Redis cannot
    /// take it, so the entry stays pending and is delivered again.
    /// </summary>
    internal async Task DeadLetterAsync(int queue, string entryId, RedisValue body, string reason)
    {
        var database = await DatabaseAsync();
        var key = _options.QueueKey(queue);
        await database.StreamAddAsync(_options.DeadLetterKey,
        [
            new NameValueEntry("queue", key),
            new NameValueEntry("entry", entryId),
            new NameValueEntry("reason", reason),
            new NameValueEntry("at", DateTimeOffset.UtcNow.ToString("O")),
            new NameValueEntry(JournalEntry.Body, body.IsNull ? RedisValue.EmptyString : body),
        ]);
        await database.StreamAcknowledgeAsync(key, _options.ConsumerGroup, entryId);
        Forget(queue, entryId);
        _metrics?.JournalDeadLetter();
        _log.LogError("journal: entry {Entry} of {Queue} moved to {DeadLetters}: {Reason}", entryId, key, _options.DeadLetterKey, reason);
    }

    public void Dispose()
    {
        _redis?.Dispose();
        _connecting.Dispose();
    }
}

/// <summary>Field names of a journal entry.</summary>
internal static class JournalEntry
{
    /// <summary>The batch in Orleans' binary form.</summary>
    public const string Body = "b";
}

/// <summary>
/// What Orleans calls when delivering an entry kept failing for <c>MaxEventDeliveryTime</c> (the pulling agent then
/// moves on to the stream's next entry and never reports this one as delivered): it goes to the dead letters.
/// </summary>
internal sealed class JournalFailureHandler(JournalAdapterFactory journal, int queue) : IStreamFailureHandler
{
    public bool ShouldFaultSubsriptionOnError => false;

    public async Task OnDeliveryFailure(GuidId subscriptionId, string streamProviderName, StreamId streamId, StreamSequenceToken? sequenceToken)
    {
        if (sequenceToken is not JournalToken token)
            return;
        var database = await journal.DatabaseAsync();
        var entries = await database.StreamRangeAsync(journal.Options.QueueKey(queue), token.EntryId, token.EntryId, 1);
        var body = entries.Length == 1 ? entries[0][JournalEntry.Body] : RedisValue.Null;
        await journal.DeadLetterAsync(queue, token.EntryId, body,
            $"delivery to {streamId} kept failing (Orleans gave up after MaxEventDeliveryTime)");
    }

    public Task OnSubscriptionFailure(GuidId subscriptionId, string streamProviderName, StreamId streamId, StreamSequenceToken? sequenceToken)
        => Task.CompletedTask;
}
