using FleetTwin.Ingest.Framing;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Repair;

/// <summary>
/// Finds the SWIOTLB messages the twin knows anywhere in a line, for lines the header parser could not place:
/// lib/swiotlb.c swiotlb_full()'s <c>[PCI-]DMA: Out of SW-IOMMU space for N bytes at device D</c> (and its dev_err
/// form), swiotlb_tbl_map_single()'s <c>swiotlb buffer is full (sz: N bytes)…</c>, the coherent-allocation warning and
/// <c>Kernel panic - not syncing:</c>. Also tells a message cut off at the end of a line (a mail client's fixed-width
/// wrap) from a complete one, and where a second record was flattened onto the first without a space.
/// </summary>
internal static class KernelMessageScan
{
    private static ReadOnlySpan<byte> OutOfSpace => "Out of SW-IOMMU space"u8;
    private static ReadOnlySpan<byte> BufferFull => "swiotlb buffer is full"u8;
    private static ReadOnlySpan<byte> Coherent => "coherent allocation failed"u8;
    private static ReadOnlySpan<byte> Panic => "Kernel panic - not syncing:"u8;

    /// <summary>lib/swiotlb.c swiotlb_full() panic texts (2.6.32 until the panic went in 4.x/5.x), by DMA direction.</summary>
    private static ReadOnlySpan<byte> RandomMemory => "DMA: Random memory could be DMA "u8;

    /// <summary>
    /// The cheap gate before any scanning: the two words every SWIOTLB message carries. Two vectorised searches over
    /// the line, no allocation; a line without either is left to the strict path's verdict.
    /// </summary>
    public static bool MayHoldSwiotlbMessage(ReadOnlySpan<byte> s) => s.IndexOf("SW-IOMMU"u8) >= 0 || s.IndexOf("swiotlb"u8) >= 0;

    /// <summary>As <see cref="MayHoldSwiotlbMessage"/>, or a panic line.</summary>
    public static bool MayHoldKnownMessage(ReadOnlySpan<byte> s) => MayHoldSwiotlbMessage(s) || s.IndexOf(Panic) >= 0;

    /// <summary>
    /// Offset where the earliest known message starts in <paramref name="s"/>, including a <c>driver device: </c>
    /// prefix before it; -1 when there is none.
    /// </summary>
    public static int FindMessage(ReadOnlySpan<byte> s)
    {
        int best = -1;
        int at = s.IndexOf(OutOfSpace);
        if (at >= 0)
        {
            int start = at >= 9 && s[(at - 9)..at].SequenceEqual("PCI-DMA: "u8) ? at - 9
                : at >= 5 && s[(at - 5)..at].SequenceEqual("DMA: "u8) ? at - 5 : -1;
            best = Earliest(best, start);
        }
        at = s.IndexOf(BufferFull);
        best = Earliest(best, at);
        at = s.IndexOf(Coherent);
        if (at >= 0)
        {
            best = Earliest(best, at >= 9 && s[(at - 9)..at].SequenceEqual("swiotlb: "u8) ? at - 9 : at);
        }
        best = Earliest(best, s.IndexOf(Panic));
        return best < 0 ? -1 : WithDevicePrefix(s, best);
    }

    private static int Earliest(int best, int candidate) => candidate < 0 ? best : best < 0 ? candidate : Math.Min(best, candidate);

    /// <summary>Moves <paramref name="start"/> back over <c>driver device: </c> when dev_printk put one there.</summary>
    private static int WithDevicePrefix(ReadOnlySpan<byte> s, int start)
    {
        var before = s[..start];
        if (before.Length < 4 || before[^1] != ' ' || before[^2] != ':')
        {
            return start;
        }
        var head = before[..^2];
        int deviceStart = head.LastIndexOf((byte)' ') + 1;
        if (deviceStart == 0 || !DeviceNames.IsDevice(head[deviceStart..]))
        {
            return start;
        }
        var driverPart = head[..(deviceStart - 1)];
        int driverStart = driverPart.LastIndexOf((byte)' ') + 1;
        return DeviceNames.IsDriver(driverPart[driverStart..]) ? driverStart : start;
    }

    /// <summary>
    /// True when the last known message in <paramref name="s"/> stops before its end: the rest (size, device, the
    /// panic's direction) was wrapped onto the next line.
    /// </summary>
    public static bool IsCut(ReadOnlySpan<byte> s)
    {
        s = LogBytes.TrimEnd(s);
        int at = s.LastIndexOf(OutOfSpace);
        if (at >= 0)
        {
            var rest = s[(at + OutOfSpace.Length)..];
            if (rest.IsEmpty || rest.SequenceEqual(" for"u8))
            {
                return true;
            }
            if (!rest.StartsWith(" for "u8) || !LogBytes.TryParseDecimal(rest[5..], out _, out int digits))
            {
                return false;
            }
            rest = rest[(5 + digits)..];
            return rest.IsEmpty || rest.SequenceEqual(" bytes at"u8) || rest.SequenceEqual(" bytes at device"u8);
        }
        at = s.LastIndexOf(BufferFull);
        if (at >= 0)
        {
            var rest = s[(at + BufferFull.Length)..];
            if (rest.SequenceEqual(" (sz:"u8) || (rest.StartsWith(" (sz: "u8) && rest.IndexOf(" bytes)"u8) < 0))
            {
                return true;
            }
            return rest.EndsWith(","u8) || rest.EndsWith(" total"u8) || rest.EndsWith("used"u8) || rest.EndsWith("(slots),"u8);
        }
        at = s.LastIndexOf(Coherent);
        if (at >= 0)
        {
            var rest = s[(at + Coherent.Length)..];
            return rest.IndexOf("size="u8) < 0 || rest.EndsWith("size="u8);
        }
        at = s.LastIndexOf(Panic);
        if (at >= 0)
        {
            return IsCutPanicText(LogBytes.Trim(s[(at + Panic.Length)..]));
        }
        return EndsWithDevicePrefix(s);
    }

    /// <summary>
    /// The line stops right after dev_printk()'s <c>driver device:</c> (<c>… rtl8821ae 0000:02:00.0:</c>): a mail
    /// client wrapped the message itself onto the next line.
    /// </summary>
    private static bool EndsWithDevicePrefix(ReadOnlySpan<byte> s)
    {
        if (s.Length < 4 || s[^1] != ':')
        {
            return false;
        }
        var head = s[..^1];
        int deviceStart = head.LastIndexOf((byte)' ') + 1;
        if (deviceStart == 0 || !DeviceNames.IsDevice(head[deviceStart..]))
        {
            return false;
        }
        var driverPart = head[..(deviceStart - 1)];
        return DeviceNames.IsDriver(driverPart[(driverPart.LastIndexOf((byte)' ') + 1)..]);
    }

    /// <summary>The panic's text stops inside one of swiotlb_full()'s texts (<c>DMA: Random memory could be</c> + next line <c>DMA read</c>).</summary>
    private static bool IsCutPanicText(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            return true;
        }
        if (text.StartsWith("PCI-"u8))
        {
            text = text[4..];
        }
        if (text.Length < RandomMemory.Length)
        {
            return RandomMemory.StartsWith(text);
        }
        if (!text.StartsWith(RandomMemory))
        {
            return false;
        }
        var direction = text[RandomMemory.Length..];
        return !(direction.StartsWith("read"u8) || direction.StartsWith("written"u8) || direction.StartsWith("accessed"u8));
    }

    /// <summary>
    /// Offset where a second record was glued onto the end of <paramref name="message"/>, a record the strict reading
    /// knows (<c>…used 32768 (slots)Oct 28 21:00:55 frycedes kernel: […] DMA: …</c>, or an uptime-only
    /// <c>…(slots)[162876.240431] DMA: …</c>), or -1. <paramref name="uptimeOnly"/> tells the second form: the glued
    /// record carries no host of its own. Gated so an ordinary line pays two vectorised searches and nothing else:
    /// only a second <c>kernel: </c> tag, or a <c>] </c> after the message's own printk stamp, leads to a scan; an
    /// uptime stamp counts only when a known kernel message follows it, so a <c>[drm] </c> or <c>[mem …] </c> in a
    /// message never splits it.
    /// </summary>
    public static int FindGlued(ReadOnlySpan<byte> message, out bool uptimeOnly)
    {
        uptimeOnly = false;
        // Past the record's own "[uptime] " stamp, found rather than parsed: this runs for every line that may hold a
        // swiotlb message, and parsing the number cost an exhaustion line more than the rest of the check (docs/perf.md).
        int from = 0;
        if (!message.IsEmpty && message[0] == '[')
        {
            int own = message.IndexOf("] "u8);
            from = own > 0 ? own + 2 : 0;
        }
        var body = message[from..];
        if (body.IndexOf("kernel: "u8) > 0)
        {
            int at = FindFlattened(body);
            if (at > 0)
            {
                return from + at;
            }
        }
        int offset = 0;
        while (true)
        {
            int close = body[offset..].IndexOf("] "u8);
            if (close < 0)
            {
                return -1;
            }
            close += offset;
            int open = body[..close].LastIndexOf((byte)'[');
            // A record stands before the stamp (a known message), not only a tag: "kernel: [300000.0] DMA: ..." is one
            // record whose uptime follows its syslog tag (HTTP NDJSON whose message keeps the tag), not two.
            if (open > 0 && LogBytes.TryParseUptime(body[open..], out _) == close - open + 1 && FindMessage(body[(close + 2)..]) == 0
                && FindMessage(body[..open]) >= 0)
            {
                uptimeOnly = true;
                return from + open;
            }
            offset = close + 2;
        }
    }

    /// <summary>
    /// Offset after 0 where a second record was flattened onto this one with no space between
    /// (<c>…swiotlb buffer is fullOct 28 21:00:55 frycedes kernel: […] DMA: …</c>), or -1. A candidate must parse as a
    /// whole syslog, RFC 3339 or console prefix, as when splitting pasted text.
    /// </summary>
    public static int FindFlattened(ReadOnlySpan<byte> s)
    {
        for (int i = 1; i < s.Length; i++)
        {
            byte b = s[i];
            if (b is >= (byte)'A' and <= (byte)'Z' && LogBytes.MonthNumber(s[i..]) != 0 && HeaderParser.StartsRecord(s[i..], RecordFamily.Bsd))
            {
                return i;
            }
            if (LogBytes.IsDigit(b) && i + 10 < s.Length && s[i + 4] == '-' && s[i + 10] == 'T' && HeaderParser.StartsRecord(s[i..], RecordFamily.Iso))
            {
                return i;
            }
            if (b == '<' && HeaderParser.StartsRecord(s[i..], RecordFamily.Console))
            {
                return i;
            }
        }
        return -1;
    }
}
