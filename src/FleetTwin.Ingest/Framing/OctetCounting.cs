using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Framing;

/// <summary>
/// RFC 6587 §3.4.1 octet-counting: <c>MSG-LEN SP SYSLOG-MSG</c>, as rsyslog/syslog-ng forward over TCP. Frames may
/// follow each other on one line; a frame's declared length is trusted only up to the end of the line.
/// </summary>
internal static class OctetCounting
{
    /// <summary>Frames longer than this are not believed (RFC 5425 suggests receivers handle 8 KiB; we allow more).</summary>
    private const long MaxFrame = 1 << 20;

    /// <summary>Splits one frame off <paramref name="text"/> when it starts with <c>N &lt;PRI&gt;</c>.</summary>
    public static bool TrySplit(ReadOnlySpan<byte> text, out ReadOnlySpan<byte> frame, out ReadOnlySpan<byte> rest)
    {
        frame = rest = default;
        if (text.Length < 4 || !LogBytes.IsDigit(text[0]))
        {
            return false;
        }
        if (!LogBytes.TryParseDecimal(text, out long length, out int digits) || digits > 7 || length <= 0 || length > MaxFrame)
        {
            return false;
        }
        if (digits + 1 >= text.Length || text[digits] != ' ' || text[digits + 1] != '<')
        {
            return false;
        }
        var body = text[(digits + 1)..];
        int take = (int)Math.Min(length, body.Length);
        frame = body[..take];
        rest = body[take..];
        return true;
    }
}
