using System.Buffers;
using System.Diagnostics;

namespace FleetTwin.FrontDoors;

/// <summary>
/// Records from one source on their way to the twin: each record one LF-terminated line in a pooled buffer (a
/// record's own CR/LF are blanked, so a multi-line octet-counted frame stays one record of its host). One chunk per
/// socket read or HTTP request keeps the channel's cost per chunk, not per record.
/// </summary>
internal sealed class RecordChunk
{
    private byte[] _buffer;

    public RecordChunk(string door, string source, string? defaultHost, int capacity = 4096)
    {
        Door = door;
        Source = source;
        DefaultHost = defaultHost;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 256));
        ArrivedAt = Stopwatch.GetTimestamp();
    }

    /// <summary>The door it came in by (metric tag).</summary>
    public string Door { get; }

    /// <summary>The source it belongs to: one parser per source (a TCP connection, a UDP peer, an HTTP host), as one file is one parser in replay.</summary>
    public string Source { get; }

    /// <summary>Host of records that carry none in a header (HTTP host field or parameter).</summary>
    public string? DefaultHost { get; }

    public int Records { get; private set; }

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(0, Length);

    /// <summary>The source ends after this chunk (TCP connection closed): its parser is completed.</summary>
    public bool EndOfSource { get; init; }

    /// <summary>Set by HTTP: completed once every event of the chunk is on its host stream.</summary>
    public TaskCompletionSource? HandedOver { get; set; }

    public long ArrivedAt { get; }

    /// <summary>Records of this chunk the parser knew (an event or an informational line), once it has read them.</summary>
    public long Recognised { get; set; }

    /// <summary>Records of this chunk the parser did not know, once it has read them.</summary>
    public long Unrecognised { get; set; }

    /// <summary>Records of this chunk holding a known message whose fields did not parse.</summary>
    public long Malformed { get; set; }

    /// <summary>Records admitted against <see cref="FrontDoorOptions.MaxUnpublishedRecords"/> for this chunk.</summary>
    public int Admitted { get; set; }

    public void Add(ReadOnlySpan<byte> record)
    {
        if (Length + record.Length + 1 > _buffer.Length)
            Grow(Length + record.Length + 1);
        var target = _buffer.AsSpan(Length, record.Length);
        record.CopyTo(target);
        // A record is one line for the parser: embedded line breaks (multi-line frames) become spaces.
        int at;
        while ((at = target.IndexOfAny((byte)'\n', (byte)'\r')) >= 0)
        {
            target[at] = (byte)' ';
            target = target[(at + 1)..];
        }
        Length += record.Length;
        _buffer[Length++] = (byte)'\n';
        Records++;
    }

    public void Release()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(buffer);
        Length = 0;
    }

    private void Grow(int needed)
    {
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _buffer.Length * 2));
        _buffer.AsSpan(0, Length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
