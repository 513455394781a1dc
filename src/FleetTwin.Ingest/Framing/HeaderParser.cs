using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Framing;

/// <summary>
/// Recognises the prefix of one record, whatever wrote it: syslog (BSD/RFC 3164, RFC 5424), journalctl's text
/// forms, the kernel console (crash-dump dom0.log) and dmesg. Works on bytes; never allocates.
/// </summary>
internal static class HeaderParser
{
    /// <summary>Longest syslog PRI is <c>&lt;191&gt;</c>; longer digit runs are not a PRI.</summary>
    private const int MaxPriDigits = 3;

    public static HeaderStatus TryParse(ReadOnlySpan<byte> s, out RecordHeader h)
    {
        h = RecordHeader.Empty;
        if (s.IsEmpty)
        {
            return HeaderStatus.NotAHeader;
        }
        byte first = s[0];
        if (first == '<')
        {
            return TryParseAfterPri(s, ref h);
        }
        if (first == '[')
        {
            return TryParseBracketed(s, ref h);
        }
        if (first is >= (byte)'A' and <= (byte)'Z')
        {
            return TryParseBsd(s, 0, ref h, requireTag: false) ? HeaderStatus.Parsed : HeaderStatus.NotAHeader;
        }
        if (LogBytes.IsDigit(first))
        {
            return TryParseIso(s, 0, ref h, requireTag: false) ? HeaderStatus.Parsed : HeaderStatus.NotAHeader;
        }
        if (first == '-' && s.StartsWith("-- "u8) && LogBytes.TrimEnd(s).EndsWith(" --"u8))
        {
            h.Family = RecordFamily.JournalSeparator;
            h.MessageStart = 0;
            return HeaderStatus.Parsed;
        }
        return HeaderStatus.NotAHeader;
    }

    /// <summary>
    /// True when a record of <paramref name="family"/> starts exactly at <paramref name="s"/> — the strict check used
    /// to split pasted text, so it demands more (a tag after the host) than reading a line does.
    /// </summary>
    public static bool StartsRecord(ReadOnlySpan<byte> s, RecordFamily family)
    {
        var h = RecordHeader.Empty;
        return family switch
        {
            RecordFamily.Console => s.Length > 0 && s[0] == '<' && TryParseAfterPri(s, ref h) == HeaderStatus.Parsed && !double.IsNaN(h.Uptime),
            RecordFamily.Dmesg => LogBytes.TryParseUptime(s, out _) > 0,
            RecordFamily.DmesgHuman => s.Length > 0 && s[0] == '[' && TryParseHumanDmesg(s, ref h),
            RecordFamily.Bsd => TryParseBsd(s, 0, ref h, requireTag: true),
            RecordFamily.Iso => TryParseIso(s, 0, ref h, requireTag: true),
            _ => false,
        };
    }

    private static HeaderStatus TryParseAfterPri(ReadOnlySpan<byte> s, ref RecordHeader h)
    {
        int close = s.Slice(1, Math.Min(s.Length - 1, MaxPriDigits + 1)).IndexOf((byte)'>');
        if (close < 1 || !LogBytes.TryParseDecimal(s[1..], out _, out int digits) || digits != close)
        {
            // "<IRQ>", "<EOI>" and other angle-bracketed text is not a PRI.
            return HeaderStatus.NotAHeader;
        }
        int i = close + 2;
        if (i >= s.Length)
        {
            return HeaderStatus.Malformed;
        }
        if (s[i] == '[')
        {
            int used = LogBytes.TryParseUptime(s[i..], out double uptime);
            if (used == 0)
            {
                return LooksLikeCutUptime(s[i..]) ? HeaderStatus.Malformed : ConsoleWithoutUptime(s, i, ref h);
            }
            h.Family = RecordFamily.Console;
            h.Uptime = uptime;
            h.MessageStart = SkipOneSpace(s, i + used);
            return HeaderStatus.Parsed;
        }
        if (s[i] == '1' && i + 1 < s.Length && s[i + 1] == ' ')
        {
            return TryParseRfc5424(s, i + 2, ref h) ? HeaderStatus.Parsed : HeaderStatus.Malformed;
        }
        if (TryParseBsd(s, i, ref h, requireTag: false) || TryParseIso(s, i, ref h, requireTag: false))
        {
            return HeaderStatus.Parsed;
        }
        return ConsoleWithoutUptime(s, i, ref h);
    }

    /// <summary><c>&lt;6&gt;msg</c>: what /proc/kmsg and printk without time stamps give.</summary>
    private static HeaderStatus ConsoleWithoutUptime(ReadOnlySpan<byte> s, int messageStart, ref RecordHeader h)
    {
        h.Family = RecordFamily.Console;
        h.MessageStart = messageStart;
        return HeaderStatus.Parsed;
    }

    /// <summary>A <c>[</c> then digits/spaces up to the end of the text: an uptime stamp cut off by a truncated line.</summary>
    private static bool LooksLikeCutUptime(ReadOnlySpan<byte> s)
    {
        for (int i = 1; i < s.Length; i++)
        {
            if (!(LogBytes.IsDigit(s[i]) || s[i] == ' ' || s[i] == '.'))
            {
                return false;
            }
        }
        return true;
    }

    private static HeaderStatus TryParseBracketed(ReadOnlySpan<byte> s, ref RecordHeader h)
    {
        int used = LogBytes.TryParseUptime(s, out double uptime);
        if (used > 0)
        {
            h.Family = RecordFamily.Dmesg;
            h.Uptime = uptime;
            h.MessageStart = SkipOneSpace(s, used);
            return HeaderStatus.Parsed;
        }
        if (TryParseHumanDmesg(s, ref h))
        {
            return HeaderStatus.Parsed;
        }
        return s.Length > 1 && (LogBytes.IsDigit(s[1]) || s[1] == ' ') && LooksLikeCutUptime(s) ? HeaderStatus.Malformed : HeaderStatus.NotAHeader;
    }

    /// <summary>dmesg -T: <c>[Tue Sep 17 05:05:06 2019] msg</c> (ctime format, local time).</summary>
    private static bool TryParseHumanDmesg(ReadOnlySpan<byte> s, ref RecordHeader h)
    {
        // "[Www Mmm dd hh:mm:ss yyyy]" is 26 bytes; the day may be space-padded.
        if (s.Length < 26 || s[4] != ' ' || s[8] != ' ')
        {
            return false;
        }
        int month = LogBytes.MonthNumber(s[5..]);
        if (month == 0)
        {
            return false;
        }
        int day;
        if (s[9] == ' ' && LogBytes.IsDigit(s[10]))
        {
            day = s[10] - '0';
        }
        else if (!LogBytes.TryTwoDigits(s, 9, out day))
        {
            return false;
        }
        if (s[11] != ' ' || !LogBytes.TryClock(s, 12, out int hour, out int minute, out int second) || s[20] != ' ')
        {
            return false;
        }
        if (!LogBytes.TryParseDecimal(s[21..], out long year, out int yd) || yd != 4 || s.Length <= 25 || s[25] != ']')
        {
            return false;
        }
        if (!Rfc3339.IsValidDate((int)year, month, day) || second > 59)
        {
            return false;
        }
        h.Family = RecordFamily.DmesgHuman;
        h.HasFullTime = true;
        h.FullTime = new DateTimeOffset((int)year, month, day, hour, minute, second, TimeSpan.Zero);
        h.MessageStart = SkipOneSpace(s, 26);
        return true;
    }

    /// <summary>
    /// <c>Sep 17 05:05:06[.ffffff] host tag: msg</c> (RFC 3164 §4.1.2: the day is space-padded; journalctl
    /// short-precise adds microseconds). A forwarder may leave the host out, so a first token ending in ':' is the tag.
    /// </summary>
    private static bool TryParseBsd(ReadOnlySpan<byte> s, int at, ref RecordHeader h, bool requireTag)
    {
        var t = s[at..];
        if (t.Length < 16 || t[3] != ' ')
        {
            return false;
        }
        int month = LogBytes.MonthNumber(t);
        if (month == 0)
        {
            return false;
        }
        int day;
        int clockAt;
        if (t[4] == ' ' && LogBytes.IsDigit(t[5]))
        {
            day = t[5] - '0';
            clockAt = 7;
        }
        else if (LogBytes.TryTwoDigits(t, 4, out day))
        {
            clockAt = 7;
        }
        else if (LogBytes.IsDigit(t[4]) && t[5] == ' ')
        {
            day = t[4] - '0';
            clockAt = 6;
        }
        else
        {
            return false;
        }
        if (t[clockAt - 1] != ' ' || day is < 1 or > 31 || !LogBytes.TryClock(t, clockAt, out int hour, out int minute, out int second))
        {
            return false;
        }
        int i = clockAt + 8;
        i += LogBytes.TryFraction(t, i, out long ticks);
        if (i >= t.Length || t[i] != ' ')
        {
            return false;
        }
        if (!TryParseHostAndTag(t, i + 1, ref h, requireTag))
        {
            return false;
        }
        h.Family = RecordFamily.Bsd;
        h.HasYearlessTime = true;
        h.Month = month;
        h.Day = day;
        h.Hour = hour;
        h.Minute = minute;
        h.Second = Math.Min(second, 59);
        h.FractionTicks = ticks;
        h.HostStart += at;
        h.MessageStart += at;
        return true;
    }

    private static bool TryParseIso(ReadOnlySpan<byte> s, int at, ref RecordHeader h, bool requireTag)
    {
        var t = s[at..];
        int used = Rfc3339.TryParse(t, out var time);
        if (used == 0 || used >= t.Length || t[used] != ' ')
        {
            return false;
        }
        if (!TryParseHostAndTag(t, used + 1, ref h, requireTag))
        {
            return false;
        }
        h.Family = RecordFamily.Iso;
        h.HasFullTime = true;
        h.FullTime = time;
        h.HostStart += at;
        h.MessageStart += at;
        return true;
    }

    /// <summary><c>host tag: msg</c> after the time stamp. The tag is optional in RFC 3164 (then the message follows the host).</summary>
    private static bool TryParseHostAndTag(ReadOnlySpan<byte> t, int i, ref RecordHeader h, bool requireTag)
    {
        if (i >= t.Length || LogBytes.IsSpace(t[i]))
        {
            return false;
        }
        int hostLength = LogBytes.TokenEnd(t[i..]);
        var host = t.Slice(i, hostLength);
        if (host[^1] == ':')
        {
            // "<13>Sep 17 05:05:06 kernel: msg": no host, the token is the tag.
            if (requireTag)
            {
                return false;
            }
            h.HostLength = 0;
            h.MessageStart = SkipOneSpace(t, i + hostLength);
            return true;
        }
        if (requireTag && IsAllDigits(host))
        {
            // "... at Sep 17 05:05:06 2019 ..." inside a message is not a record boundary.
            return false;
        }
        h.HostStart = i;
        h.HostLength = hostLength;
        int tagStart = i + hostLength + 1;
        if (tagStart >= t.Length)
        {
            h.MessageStart = t.Length;
            return !requireTag;
        }
        int tagLength = LogBytes.TokenEnd(t[tagStart..]);
        var tag = t.Slice(tagStart, tagLength);
        if (tag.Length > 0 && tag[^1] == ':')
        {
            h.MessageStart = SkipOneSpace(t, tagStart + tagLength);
            return true;
        }
        h.MessageStart = tagStart;
        return !requireTag;
    }

    /// <summary>RFC 5424 §6: <c>TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]</c>, '-' for nil.</summary>
    private static bool TryParseRfc5424(ReadOnlySpan<byte> s, int i, ref RecordHeader h)
    {
        if (i >= s.Length)
        {
            return false;
        }
        if (s[i] == '-')
        {
            i++;
        }
        else
        {
            int used = Rfc3339.TryParse(s[i..], out var time);
            if (used == 0)
            {
                return false;
            }
            h.HasFullTime = true;
            h.FullTime = time;
            i += used;
        }
        if (!Field(s, ref i, out int hostStart, out int hostLength))
        {
            return false;
        }
        if (!(hostLength == 1 && s[hostStart] == '-'))
        {
            h.HostStart = hostStart;
            h.HostLength = hostLength;
        }
        // APP-NAME, PROCID, MSGID
        for (int f = 0; f < 3; f++)
        {
            if (!Field(s, ref i, out _, out _))
            {
                return false;
            }
        }
        if (i >= s.Length || s[i] != ' ')
        {
            return false;
        }
        i++;
        if (i >= s.Length)
        {
            return false;
        }
        if (s[i] == '-')
        {
            i++;
        }
        else if (!SkipStructuredData(s, ref i))
        {
            return false;
        }
        if (i < s.Length && s[i] == ' ')
        {
            i++;
        }
        // A UTF-8 BOM marks a UTF-8 MSG (RFC 5424 §6.4).
        if (s[i..].StartsWith(Utf8Bom))
        {
            i += 3;
        }
        h.Family = RecordFamily.Rfc5424;
        h.MessageStart = i;
        return true;
    }

    private static bool Field(ReadOnlySpan<byte> s, ref int i, out int start, out int length)
    {
        start = length = 0;
        if (i >= s.Length || s[i] != ' ')
        {
            return false;
        }
        i++;
        start = i;
        length = LogBytes.TokenEnd(s[i..]);
        i += length;
        return length > 0;
    }

    /// <summary>One or more <c>[id param="value" …]</c> elements; <c>\]</c> inside a value does not close it.</summary>
    private static bool SkipStructuredData(ReadOnlySpan<byte> s, ref int i)
    {
        while (i < s.Length && s[i] == '[')
        {
            bool inQuotes = false;
            int j = i + 1;
            for (; j < s.Length; j++)
            {
                byte b = s[j];
                if (b == '\\')
                {
                    j++;
                    continue;
                }
                if (b == '"')
                {
                    inQuotes = !inQuotes;
                }
                else if (b == ']' && !inQuotes)
                {
                    break;
                }
            }
            if (j >= s.Length)
            {
                return false;
            }
            i = j + 1;
        }
        return true;
    }

    private static bool IsAllDigits(ReadOnlySpan<byte> s)
    {
        foreach (byte b in s)
        {
            if (!LogBytes.IsDigit(b))
            {
                return false;
            }
        }
        return true;
    }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private static int SkipOneSpace(ReadOnlySpan<byte> s, int i) => i < s.Length && s[i] == ' ' ? i + 1 : i;
}
