using FleetTwin.Ingest.Framing;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Repair;

/// <summary>
/// What stands before a kernel message on a line whose header the strict parser does not know:
/// <c>[time] [host] [tag:] [[uptime]]</c>, each part optional, in that order — a journal line in any locale
/// (<c>juil. 29 14:38:52 Nostromo-sd kernel: </c>), one whose time stamp was cut off (<c>dom0 kernel: </c>), a
/// shipper's message with its syslog tag (<c>kernel: [300000.000000] </c>), an uptime alone. Anything else before
/// the message (prose, a quote mark) means the line only talks about the message, so it is no record.
/// </summary>
internal ref struct LooseHeader
{
    public ReadOnlySpan<byte> Host;
    public double Uptime;
    public LooseClock Clock;

    /// <summary>Parses all of <paramref name="s"/> as a loose header; false when something else is in it.</summary>
    public static bool TryParse(ReadOnlySpan<byte> s, out LooseHeader h)
    {
        h = default;
        h.Uptime = double.NaN;
        s = LogBytes.TrimStart(s);
        s = s[SkipTime(s, ref h.Clock)..];
        bool sawTag = false;
        // host and tag: at most two words, the tag ending in ':' ("kernel:", "kernel[1]:").
        for (int word = 0; word < 2 && !s.IsEmpty && s[0] != '['; word++)
        {
            int end = LogBytes.TokenEnd(s);
            var token = s[..end];
            if (token[^1] == ':')
            {
                if (!IsTag(token[..^1]))
                {
                    return false;
                }
                s = LogBytes.TrimStart(s[end..]);
                sawTag = true;
                break;
            }
            if (word == 1 || !IsHostName(token))
            {
                return false;
            }
            h.Host = token;
            s = LogBytes.TrimStart(s[end..]);
        }
        if (!h.Host.IsEmpty && !sawTag && !h.Clock.HasClock && h.Clock.FullTime is null)
        {
            // A lone word before a message is prose ("The DMA: ..."), not a host: a host needs a time or a tag.
            return false;
        }
        if (!s.IsEmpty && s[0] == '[')
        {
            int used = LogBytes.TryParseUptime(s, out double uptime);
            if (used == 0)
            {
                return false;
            }
            h.Uptime = uptime;
            s = LogBytes.TrimStart(s[used..]);
        }
        return s.IsEmpty;
    }

    private static int SkipTime(ReadOnlySpan<byte> s, ref LooseClock h)
    {
        h = default;
        if (s.IsEmpty)
        {
            return 0;
        }
        if (LogBytes.IsDigit(s[0]))
        {
            int used = Rfc3339.TryParse(s, out var time);
            if (used > 0)
            {
                h.FullTime = time;
                return used + LeadingSpaces(s[used..]);
            }
            return 0;
        }
        int month = LocaleMonths.Match(s, out int monthLength);
        if (month == 0)
        {
            return 0;
        }
        var t = LogBytes.TrimStart(s[monthLength..]);
        if (!LogBytes.TryParseDecimal(t, out long day, out int dayDigits) || dayDigits > 2 || day is < 1 or > 31)
        {
            return 0;
        }
        t = t[dayDigits..];
        if (!t.IsEmpty && t[0] == '.')
        {
            t = t[1..];
        }
        t = LogBytes.TrimStart(t);
        if (!LogBytes.TryClock(t, 0, out int hour, out int minute, out int second))
        {
            return 0;
        }
        int i = 8 + LogBytes.TryFraction(t, 8, out long ticks);
        h.HasClock = true;
        h.Month = month;
        h.Day = (int)day;
        h.Hour = hour;
        h.Minute = minute;
        h.Second = Math.Min(second, 59);
        h.FractionTicks = ticks;
        return s.Length - t.Length + i + LeadingSpaces(t[i..]);
    }

        private static int LeadingSpaces(ReadOnlySpan<byte> s) => s.Length - LogBytes.TrimStart(s).Length;

private static bool IsTag(ReadOnlySpan<byte> tag)
    {
        if (tag.IsEmpty)
        {
            return false;
        }
        int bracket = tag.IndexOf((byte)'[');
        var name = bracket >= 0 ? tag[..bracket] : tag;
        return name.SequenceEqual("kernel"u8) || name.SequenceEqual("klogd"u8) || name.SequenceEqual("dmesg"u8);
    }

    private static bool IsHostName(ReadOnlySpan<byte> token)
    {
        if (token.Length > 253)
        {
            return false;
        }
        foreach (byte b in token)
        {
            if (!(b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
                  or (byte)'-' or (byte)'.' or (byte)'_'))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>The time a loose header carried: a journal-short clock without year, or a full RFC 3339 time.</summary>
internal struct LooseClock
{
    public bool HasClock;
    public int Month;
    public int Day;
    public int Hour;
    public int Minute;
    public int Second;
    public long FractionTicks;
    public DateTimeOffset? FullTime;
}
