using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Repair;

/// <summary>
/// What people do to a log line when they paste it into a ticket, a mail or a forum post, undone: mail quote
/// markers at any depth (<c>&gt; &gt; </c>), list bullets (<c>•</c>, <c>-</c>, <c>*</c>), Markdown backticks,
/// a vendor KB's <c>ERROR: </c>-style label, a serial console's <c>(qemu) </c> and a shell's <c>$ </c>/<c># </c>.
/// Only the start and end of the line are touched; the message itself is left as the kernel wrote it.
/// </summary>
internal static class PasteDamage
{
    private static ReadOnlySpan<byte> Bullet => "\u2022"u8;

    /// <summary>The line without its paste damage; <paramref name="quoteDepth"/> counts the mail quote markers removed.</summary>
    public static ReadOnlySpan<byte> Strip(ReadOnlySpan<byte> line, out int quoteDepth)
    {
        quoteDepth = 0;
        var s = LogBytes.TrimStart(line);
        while (!s.IsEmpty)
        {
            var before = s;
            if (s[0] == '>')
            {
                quoteDepth++;
                s = s[1..];
            }
            else if (s[0] == '`')
            {
                s = s[1..];
            }
            else if (s.StartsWith(Bullet))
            {
                s = s[Bullet.Length..];
            }
            else if (s.Length > 1 && s[0] is (byte)'-' or (byte)'*' or (byte)'$' or (byte)'#' && s[1] == ' ')
            {
                s = s[2..];
            }
            else if (s.StartsWith("(qemu) "u8))
            {
                s = s[7..];
            }
            else if (LabelLength(s) is > 0 and int label)
            {
                s = s[label..];
            }
            if (s.Length == before.Length)
            {
                break;
            }
            s = LogBytes.TrimStart(s);
        }
        s = LogBytes.TrimEnd(s);
        while (!s.IsEmpty && s[^1] == '`')
        {
            s = LogBytes.TrimEnd(s[..^1]);
        }
        return s;
    }

    /// <summary>A Markdown code fence (<c>```</c>, <c>```text</c>): layout, not a record.</summary>
    public static bool IsCodeFence(ReadOnlySpan<byte> line) => LogBytes.TrimStart(line).StartsWith("```"u8);

    /// <summary>
    /// <c>ERROR: </c>, <c>WARNING: </c>, <c>NOTE: </c>: an upper-case word and a colon that a KB article or a
    /// monitoring tool put before the kernel's line. The kernel's own upper-case prefixes (<c>DMA: </c>, and
    /// <c>PCI-DMA: </c>, which has a hyphen) are not labels.
    /// </summary>
    private static int LabelLength(ReadOnlySpan<byte> s)
    {
        int i = 0;
        while (i < s.Length && i <= 10 && s[i] is >= (byte)'A' and <= (byte)'Z')
        {
            i++;
        }
        if (i < 3 || i > 10 || i + 1 >= s.Length || s[i] != ':' || s[i + 1] != ' ')
        {
            return 0;
        }
        var word = s[..i];
        return word.SequenceEqual("DMA"u8) || word.SequenceEqual("CPU"u8) || word.SequenceEqual("RIP"u8) ? 0 : i + 2;
    }
}
