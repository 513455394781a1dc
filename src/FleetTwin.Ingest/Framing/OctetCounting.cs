namespace FleetTwin.Ingest.Framing;

/// <summary>
/// RFC 6587 §3.4.1 octet-counting, <c>MSG-LEN SP SYSLOG-MSG</c>, as rsyslog/syslog-ng forward over TCP and as RFC 5425
/// §4.3 requires inside TLS. The one reading of the MSG-LEN header for every reader: the syslog stream doors (TCP and
/// TLS, where the header may be split across reads: <see cref="ReadHeader"/>) and the file parser (an octet-counted
/// capture on one line: <see cref="TrySplit"/>). Allocation-free.
/// </summary>
public static class OctetCounting
{
    /// <summary>MSG-LEN is a decimal; nine digits is already far past any record limit, so a longer run is not a count.</summary>
    public const int MaxLengthDigits = 9;

    /// <summary>Frames longer than this are not believed in a file (RFC 5425 §4.3.1 suggests receivers handle 8 KiB; we allow more).</summary>
    private const long MaxFileFrame = 1 << 20;

    /// <summary>What <see cref="ReadHeader"/> found.</summary>
    public enum Header
    {
        /// <summary>Only digits so far: the header may go on in the next read.</summary>
        NeedMore,
        /// <summary><c>MSG-LEN SP</c> read: the frame's <c>length</c> octets follow.</summary>
        Counted,
        /// <summary>Not an octet count (no digits, too many, zero, or digits not followed by SP): the bytes read so far begin an LF-framed record (RFC 6587 §3.4.2).</summary>
        NotCounted,
    }

    /// <summary>
    /// Reads the MSG-LEN header from the front of <paramref name="data"/>, continuing the count in
    /// <paramref name="length"/> and <paramref name="digits"/> (both 0 at a frame's start) across reads.
    /// <paramref name="consumed"/> is how many bytes of <paramref name="data"/> it took: the digits, plus the SP when
    /// <see cref="Header.Counted"/>. Zero is not a length (RFC 6587 MSG-LEN = NONZERO-DIGIT *DIGIT).
    /// </summary>
    public static Header ReadHeader(ReadOnlySpan<byte> data, ref long length, ref int digits, out int consumed)
    {
        consumed = 0;
        while (consumed < data.Length && data[consumed] is >= (byte)'0' and <= (byte)'9' && digits <= MaxLengthDigits)
        {
            length = length * 10 + (data[consumed] - '0');
            digits++;
            consumed++;
        }
        if (consumed == data.Length)
            return digits is > 0 and <= MaxLengthDigits ? Header.NeedMore : Header.NotCounted;
        if (data[consumed] == ' ' && digits is > 0 and <= MaxLengthDigits && length > 0)
        {
            consumed++;
            return Header.Counted;
        }
        return Header.NotCounted;
    }

    /// <summary>
    /// Splits one frame off <paramref name="text"/> (a line of a file) when it starts with <c>N &lt;PRI&gt;</c>: frames
    /// may follow each other on one line, and a frame's declared length is trusted only up to the line's end.
    /// </summary>
    public static bool TrySplit(ReadOnlySpan<byte> text, out ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> rest)
    {
        frame = rest = default;
        if (text.Length < 4)
            return false;
        long length = 0;
        var digits = 0;
        if (ReadHeader(text, ref length, ref digits, out var header) != Header.Counted || digits > 7 || length > MaxFileFrame)
            return false;
        if (header >= text.Length || text[header] != '<')
            return false;
        var body = text[header..];
        int take = (int)Math.Min(length, body.Length);
        frame = body[..take];
        rest = body[take..];
        return true;
    }
}
