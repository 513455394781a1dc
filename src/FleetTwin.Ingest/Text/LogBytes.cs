using System.Buffers;

namespace FleetTwin.Ingest.Text;

/// <summary>Byte-level helpers for ASCII-structured log text (the payload may be any bytes; structure is ASCII).</summary>
internal static class LogBytes
{
    private static readonly SearchValues<byte> HorizontalSpace = SearchValues.Create(" \t"u8);
    private static readonly double[] Pow10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12];

    public static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    public static bool IsHexDigit(byte b) => IsDigit(b) || (uint)((b | 0x20) - 'a') <= 5;

    public static bool IsSpace(byte b) => b == ' ' || b == '\t';

    /// <summary>A key of command output (<c>bus-info</c>, <c>rx_vlan</c>, <c>MTU</c>): letters, digits, '-' and '_', not empty.</summary>
    public static bool IsFieldName(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
        {
            if (!(b == '-' || b == '_' || IsDigit(b) || (uint)((b | 0x20) - 'a') <= 'z' - 'a'))
            {
                return false;
            }
        }
        return name.Length > 0;
    }

    public static ReadOnlySpan<byte> TrimStart(ReadOnlySpan<byte> s)
    {
        int i = s.IndexOfAnyExcept(HorizontalSpace);
        return i < 0 ? [] : s[i..];
    }

    public static ReadOnlySpan<byte> TrimEnd(ReadOnlySpan<byte> s)
    {
        int i = s.LastIndexOfAnyExcept(HorizontalSpace);
        return s[..(i + 1)];
    }

    public static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> s) => TrimEnd(TrimStart(s));

    public static bool IsBlank(ReadOnlySpan<byte> s) => s.IndexOfAnyExcept(HorizontalSpace) < 0;

    /// <summary>Index of the first space or tab, or the length when there is none.</summary>
    public static int TokenEnd(ReadOnlySpan<byte> s)
    {
        int i = s.IndexOfAny(HorizontalSpace);
        return i < 0 ? s.Length : i;
    }

    /// <summary>Parses unsigned decimal digits at the start of <paramref name="s"/> (at most 18, so no overflow).</summary>
    public static bool TryParseDecimal(ReadOnlySpan<byte> s, out long value, out int consumed)
    {
        value = 0;
        consumed = 0;
        while (consumed < s.Length && consumed < 18 && IsDigit(s[consumed]))
        {
            value = value * 10 + (s[consumed] - '0');
            consumed++;
        }
        return consumed > 0;
    }

    /// <summary>Parses hex digits (at most 16, so no overflow) at the start of <paramref name="s"/>.</summary>
    public static bool TryParseHex(ReadOnlySpan<byte> s, out long value, out int consumed)
    {
        value = 0;
        consumed = 0;
        while (consumed < s.Length && consumed < 16 && IsHexDigit(s[consumed]))
        {
            byte b = s[consumed];
            int digit = IsDigit(b) ? b - '0' : (b | 0x20) - 'a' + 10;
            value = (value << 4) | (uint)digit;
            consumed++;
        }
        return consumed > 0;
    }

    /// <summary>Parses a decimal number that must fill <paramref name="s"/> exactly (after trimming spaces).</summary>
    public static bool TryParseWhole(ReadOnlySpan<byte> s, out long value)
    {
        s = Trim(s);
        bool negative = s.Length > 0 && s[0] == '-';
        if (negative)
        {
            s = s[1..];
        }
        if (TryParseDecimal(s, out value, out int consumed) && consumed == s.Length)
        {
            value = negative ? -value : value;
            return true;
        }
        return false;
    }

    /// <summary>
    /// Parses the kernel's printk time stamp <c>[2777545.972710]</c> (seconds.microseconds since boot, the integer
    /// part right-aligned in 5 columns, so it may start with spaces). Returns the bytes consumed including the
    /// closing bracket, or 0 when <paramref name="s"/> does not start with one.
    /// </summary>
    public static int TryParseUptime(ReadOnlySpan<byte> s, out double seconds)
    {
        seconds = 0;
        if (s.Length < 4 || s[0] != '[')
        {
            return 0;
        }
        int i = 1;
        while (i < s.Length && s[i] == ' ')
        {
            i++;
        }
        if (!TryParseDecimal(s[i..], out long whole, out int wholeDigits))
        {
            return 0;
        }
        i += wholeDigits;
        double fraction = 0;
        if (i < s.Length && s[i] == '.')
        {
            i++;
            var fractionDigits = s[i..];
            if (fractionDigits.Length > 12)
            {
                fractionDigits = fractionDigits[..12];
            }
            if (!TryParseDecimal(fractionDigits, out long frac, out int digits))
            {
                return 0;
            }
            fraction = frac / Pow10[digits];
            i += digits;
        }
        if (i >= s.Length || s[i] != ']')
        {
            return 0;
        }
        seconds = whole + fraction;
        return i + 1;
    }

    /// <summary>True when <paramref name="s"/> starts with a PCI bus id <c>dddd:bb:dd.f</c> (domain:bus:device.function, hex).</summary>
    public static bool IsPciBusId(ReadOnlySpan<byte> s)
    {
        if (s.Length < PciBusIdLength)
        {
            return false;
        }
        return IsHexDigit(s[0]) && IsHexDigit(s[1]) && IsHexDigit(s[2]) && IsHexDigit(s[3]) && s[4] == ':'
            && IsHexDigit(s[5]) && IsHexDigit(s[6]) && s[7] == ':'
            && IsHexDigit(s[8]) && IsHexDigit(s[9]) && s[10] == '.' && IsHexDigit(s[11]);
    }

    public const int PciBusIdLength = 12;

    /// <summary>Month number 1-12 for an English three-letter abbreviation (as syslog and dmesg -T print), else 0.</summary>
    public static int MonthNumber(ReadOnlySpan<byte> s)
    {
        if (s.Length < 3)
        {
            return 0;
        }
        // Pack the three bytes; case-sensitive because syslog prints them capitalised and a lower-case match would
        // make every "may"/"mar" in a message a candidate record boundary.
        int key = (s[0] << 16) | (s[1] << 8) | s[2];
        return key switch
        {
            ('J' << 16) | ('a' << 8) | 'n' => 1,
            ('F' << 16) | ('e' << 8) | 'b' => 2,
            ('M' << 16) | ('a' << 8) | 'r' => 3,
            ('A' << 16) | ('p' << 8) | 'r' => 4,
            ('M' << 16) | ('a' << 8) | 'y' => 5,
            ('J' << 16) | ('u' << 8) | 'n' => 6,
            ('J' << 16) | ('u' << 8) | 'l' => 7,
            ('A' << 16) | ('u' << 8) | 'g' => 8,
            ('S' << 16) | ('e' << 8) | 'p' => 9,
            ('O' << 16) | ('c' << 8) | 't' => 10,
            ('N' << 16) | ('o' << 8) | 'v' => 11,
            ('D' << 16) | ('e' << 8) | 'c' => 12,
            _ => 0,
        };
    }

    /// <summary>Parses two ASCII digits.</summary>
    public static bool TryTwoDigits(ReadOnlySpan<byte> s, int at, out int value)
    {
        value = 0;
        if (at + 2 > s.Length || !IsDigit(s[at]) || !IsDigit(s[at + 1]))
        {
            return false;
        }
        value = (s[at] - '0') * 10 + (s[at + 1] - '0');
        return true;
    }

    /// <summary>Parses <c>hh:mm:ss</c> at <paramref name="at"/>.</summary>
    public static bool TryClock(ReadOnlySpan<byte> s, int at, out int hour, out int minute, out int second)
    {
        minute = second = 0;
        return TryTwoDigits(s, at, out hour) && at + 8 <= s.Length && s[at + 2] == ':' && TryTwoDigits(s, at + 3, out minute)
            && s[at + 5] == ':' && TryTwoDigits(s, at + 6, out second) && hour < 24 && minute < 60 && second < 61;
    }

    /// <summary>Parses a fraction of a second <c>.ffffff</c> at <paramref name="at"/> into ticks; returns bytes consumed (0 if none).</summary>
    public static int TryFraction(ReadOnlySpan<byte> s, int at, out long ticks)
    {
        ticks = 0;
        if (at >= s.Length || s[at] != '.')
        {
            return 0;
        }
        int i = at + 1;
        int digits = 0;
        long value = 0;
        while (i < s.Length && IsDigit(s[i]))
        {
            if (digits < 7)
            {
                value = value * 10 + (s[i] - '0');
                digits++;
            }
            i++;
        }
        if (i == at + 1)
        {
            return 0;
        }
        for (int d = digits; d < 7; d++)
        {
            value *= 10;
        }
        ticks = value;
        return i - at;
    }
}
