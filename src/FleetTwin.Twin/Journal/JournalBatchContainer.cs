using Orleans.Streams;

namespace FleetTwin.Twin.Journal;

/// <summary>
/// One journal entry: the events one <c>OnNextAsync</c> published on one stream (for host streams, one
/// <see cref="Streams.HostEventBatch"/>). Stored in Redis as this object in Orleans' binary form (field <c>b</c> of the
/// entry); the token is the entry's id, set when it is read back.
/// </summary>
[GenerateSerializer, Alias("fleettwin.journal-batch.v1")]
public sealed class JournalBatchContainer : IBatchContainer
{
    [Id(0)] public StreamId StreamId { get; set; }

    [Id(1)] public List<object> Events { get; set; } = [];

    [Id(2)] public JournalToken? Token { get; set; }

    /// <summary>The queue (stream key number) it was read from; set when read back, not stored.</summary>
    [Id(3)] public int Queue { get; set; }

    public StreamSequenceToken SequenceToken => Token ?? throw new InvalidOperationException("a journal entry has no position until it is read back from Redis");

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>()
    {
        var token = Token ?? throw new InvalidOperationException("a journal entry has no position until it is read back from Redis");
        for (var i = 0; i < Events.Count; i++)
        {
            if (Events[i] is T typed)
                yield return Tuple.Create(typed, (StreamSequenceToken)(i == 0 ? token : token.WithEventIndex(i)));
        }
    }

    /// <summary>Request context does not travel through the journal (traces end at the append).</summary>
    public bool ImportRequestContext() => false;

    public override string ToString() => $"journal entry {Token} of queue {Queue} ({Events.Count} events on {StreamId})";
}
