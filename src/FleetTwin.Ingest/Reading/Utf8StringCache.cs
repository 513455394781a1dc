using System.Text;

namespace FleetTwin.Ingest.Reading;

/// <summary>
/// Interns short UTF-8 tokens (host names, PCI bus ids, driver names) so a recognised event's only allocation is
/// the event itself: the same bytes give the same string instance. Bounded: past the limit it still answers,
/// just without caching. Invalid UTF-8 becomes U+FFFD, as Encoding.UTF8 does.
/// </summary>
internal sealed class Utf8StringCache
{
    private struct Entry
    {
        public byte[]? Key;
        public string Value;
        public int Hash;
    }

    private readonly int _maxEntries;
    private Entry[] _entries = new Entry[64];
    private int _count;

    public Utf8StringCache(int maxEntries) => _maxEntries = maxEntries;

    public string Get(ReadOnlySpan<byte> bytes)
    {
        int hash = Hash(bytes);
        int mask = _entries.Length - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            ref var e = ref _entries[i];
            if (e.Key is null)
            {
                break;
            }
            if (e.Hash == hash && e.Key.AsSpan().SequenceEqual(bytes))
            {
                return e.Value;
            }
        }
        string value = Encoding.UTF8.GetString(bytes);
        if (_count < _maxEntries)
        {
            if ((_count + 1) * 2 > _entries.Length)
            {
                Grow();
            }
            Insert(bytes.ToArray(), value, hash);
            _count++;
        }
        return value;
    }

    private void Insert(byte[] key, string value, int hash)
    {
        int mask = _entries.Length - 1;
        int i = hash & mask;
        while (_entries[i].Key is not null)
        {
            i = (i + 1) & mask;
        }
        _entries[i] = new Entry { Key = key, Value = value, Hash = hash };
    }

    private void Grow()
    {
        var old = _entries;
        _entries = new Entry[old.Length * 2];
        foreach (var e in old)
        {
            if (e.Key is not null)
            {
                Insert(e.Key, e.Value, e.Hash);
            }
        }
    }

    private static int Hash(ReadOnlySpan<byte> bytes)
    {
        var hc = new HashCode();
        hc.AddBytes(bytes);
        return hc.ToHashCode();
    }
}
