namespace FleetTwin.Twin.Journal;

/// <summary>
/// The journal entries a host grain applied last, kept in its state and written in the same write as what they
/// changed: an entry delivered again (a silo died between the state write and the XACK; a queue's new owner claimed
/// it) is recognised and skipped whole, facts without a record fingerprint included (docs/durability.md).
/// Entry ids are packed as <c>milliseconds &lt;&lt; 22 | sequence</c>: Redis gives entries of one millisecond
/// sequence numbers from 0, far below 2^22 at any rate a stream key takes.
/// </summary>
public static class AppliedJournalEntries
{
    /// <summary>
    /// Entries remembered per host. A redelivered entry is one the previous owner read and did not acknowledge: at most
    /// the pulling agent's cache (SimpleQueueCache, 4,096 batches per queue) of all hosts; a host's own share is far
    /// smaller, and a record redelivered beyond this window is still caught by its fingerprint.
    /// </summary>
    public const int Remembered = 512;

    public static ulong Key(JournalToken token) => ((ulong)token.SequenceNumber << 22) | ((ulong)token.Sequence & 0x3F_FFFF);

    /// <summary>True when <paramref name="token"/>'s entry is in <paramref name="applied"/>.</summary>
    public static bool Contains(byte[] applied, JournalToken token)
    {
        var key = Key(token);
        foreach (var k in System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(applied))
        {
            if (k == key)
                return true;
        }
        return false;
    }

    /// <summary>The list with <paramref name="token"/>'s entry added (oldest dropped past <see cref="Remembered"/>).</summary>
    public static byte[] Add(byte[] applied, JournalToken token)
    {
        var keys = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(applied);
        var kept = Math.Min(keys.Length, Remembered - 1);
        var next = new ulong[kept + 1];
        keys[(keys.Length - kept)..].CopyTo(next);
        next[kept] = Key(token);
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(next.AsSpan()).ToArray();
    }
}
