using System.Globalization;
using Orleans.Streams;

namespace FleetTwin.Twin.Journal;

/// <summary>
/// Position of an event in the journal: the Redis stream entry id (<c>milliseconds-sequence</c>, strictly increasing
/// within a stream key, https://redis.io/docs/latest/develop/data-types/streams/#entry-ids) of its batch, and the
/// event's index in the batch. Ordered as Redis orders ids.
/// </summary>
[GenerateSerializer, Immutable, Alias("fleettwin.journal-token.v1")]
public sealed class JournalToken : StreamSequenceToken
{
    public JournalToken(long milliseconds, long sequence, int eventIndex = 0)
    {
        SequenceNumber = milliseconds;
        Sequence = sequence;
        EventIndex = eventIndex;
    }

    /// <summary>The entry id's milliseconds part.</summary>
    [Id(0)] public override long SequenceNumber { get; protected set; }

    /// <summary>The entry id's sequence part.</summary>
    [Id(1)] public long Sequence { get; private set; }

    [Id(2)] public override int EventIndex { get; protected set; }

    public string EntryId => string.Create(CultureInfo.InvariantCulture, $"{SequenceNumber}-{Sequence}");

    public static JournalToken Parse(string entryId)
    {
        var dash = entryId.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0
            || !long.TryParse(entryId.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            || !long.TryParse(entryId.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            throw new FormatException($"'{entryId}' is not a Redis stream entry id (milliseconds-sequence)");
        return new JournalToken(ms, seq);
    }

    public JournalToken WithEventIndex(int index) => new(SequenceNumber, Sequence, index);

    public override bool Equals(StreamSequenceToken? other) => other is JournalToken t && CompareTo(t) == 0;

    public override bool Equals(object? obj) => obj is StreamSequenceToken t && Equals(t);

    public override int GetHashCode() => HashCode.Combine(SequenceNumber, Sequence, EventIndex);

    public override int CompareTo(StreamSequenceToken? other)
    {
        if (other is null)
            return 1;
        if (other is not JournalToken t)
            throw new ArgumentException($"a journal token compares only with journal tokens, not {other.GetType().Name}", nameof(other));
        var c = SequenceNumber.CompareTo(t.SequenceNumber);
        if (c == 0)
            c = Sequence.CompareTo(t.Sequence);
        return c != 0 ? c : EventIndex.CompareTo(t.EventIndex);
    }

    public override string ToString() => $"{EntryId}#{EventIndex.ToString(CultureInfo.InvariantCulture)}";
}
