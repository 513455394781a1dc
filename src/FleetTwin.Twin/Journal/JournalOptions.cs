namespace FleetTwin.Twin.Journal;

/// <summary>
/// The durable ingest journal (cluster mode): host batches are appended to Redis Streams, one stream key per queue,
/// before any door acknowledges them, and host grains consume them through a consumer group (docs/durability.md).
/// Configuration section <c>FleetTwin:Journal</c>.
/// </summary>
public sealed record JournalOptions
{
    public const string Section = "FleetTwin:Journal";

    /// <summary>Queues (Redis stream keys). A host's stream always maps to the same queue: its batches stay in order.</summary>
    public int Partitions { get; init; } = 8;

    /// <summary>
    /// Prefix of the stream keys: <c>{prefix}:{n}</c> per queue, <c>{prefix}:dead-letters</c> for poison entries.
    /// Default <c>fleettwin:{ServiceId}:journal</c>.
    /// </summary>
    public string? KeyPrefix { get; init; }

    /// <summary>The consumer group every silo reads through.</summary>
    public string ConsumerGroup { get; init; } = "host-grains";

    /// <summary>
    /// Deliveries of one entry (Redis counts them in the pending list) before it goes to the dead letters: an entry
    /// whose delivery killed its silo this often is poison, not bad luck.
    /// </summary>
    public int MaxDeliveries { get; init; } = 10;

    /// <summary>
    /// How long Orleans keeps retrying the delivery of one entry to its host grain before the entry goes to the dead
    /// letters (StreamPullingAgentOptions.MaxEventDeliveryTime). Longer than the cluster takes to declare a killed
    /// silo dead (its grains come back elsewhere only then), so a silo's loss is not mistaken for poison.
    /// </summary>
    public TimeSpan MaxDeliveryTime { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How often a queue's owner looks for entries other consumers left pending (a dead silo's).</summary>
    public TimeSpan ClaimInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Entries idle this long in another consumer's pending list are taken over by the queue's owner.</summary>
    public TimeSpan ClaimIdleTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an append may take before the door is told the journal is unavailable (503).</summary>
    public TimeSpan AppendTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>At most this often a queue is trimmed (XTRIM MINID, below its oldest pending entry).</summary>
    public TimeSpan TrimInterval { get; init; } = TimeSpan.FromSeconds(1);

    public string QueueKey(int queue) => $"{KeyPrefix}:{queue}";

    public string DeadLetterKey => $"{KeyPrefix}:dead-letters";
}

/// <summary>
/// The journal could not take a batch (Redis down, unreachable, or slower than <see cref="JournalOptions.AppendTimeout"/>):
/// nothing was acknowledged; doors answer 503 with Retry-After and the sender retries.
/// </summary>
public sealed class JournalUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
