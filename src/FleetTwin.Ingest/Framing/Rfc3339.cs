using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Framing;

/// <summary>RFC 3339 / ISO 8601 time stamps as syslog forwarders and journalctl -o short-iso print them.</summary>
internal static class Rfc3339
{
    /// <summary>
    /// Parses <c>yyyy-MM-ddTHH:mm:ss[.f…](Z|±hh:mm|±hhmm)</c> at the start of <paramref name="s"/>; a missing zone is
    /// read as UTC. Returns the bytes consumed, or 0 when it is not one (or names an impossible date).
    /// </summary>
    public static int TryParse(ReadOnlySpan<byte> s, out DateTimeOffset value)
    {
        value = default;
        if (s.Length < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' '))
        {
            return 0;
        }
        if (!LogBytes.TryParseDecimal(s[..4], out long year, out int yd) || yd != 4
            || !LogBytes.TryTwoDigits(s, 5, out int month) || !LogBytes.TryTwoDigits(s, 8, out int day)
            || !LogBytes.TryClock(s, 11, out int hour, out int minute, out int second))
        {
            return 0;
        }
        int i = 19;
        i += LogBytes.TryFraction(s, i, out long ticks);
        var offset = TimeSpan.Zero;
        if (i < s.Length && (s[i] == 'Z' || s[i] == 'z'))
        {
            i++;
        }
        else if (i < s.Length && (s[i] == '+' || s[i] == '-'))
        {
            int sign = s[i] == '-' ? -1 : 1;
            if (!LogBytes.TryTwoDigits(s, i + 1, out int oh))
            {
                return 0;
            }
            int j = i + 3;
            if (j < s.Length && s[j] == ':')
            {
                j++;
            }
            if (!LogBytes.TryTwoDigits(s, j, out int om) || oh > 14 || om > 59)
            {
                return 0;
            }
            offset = new TimeSpan(sign * oh, sign * om, 0);
            i = j + 2;
        }
        if (!IsValidDate((int)year, month, day) || second > 59)
        {
            return 0;
        }
        value = new DateTimeOffset((int)year, month, day, hour, minute, second, offset).AddTicks(ticks);
        return i;
    }

    public static bool IsValidDate(int year, int month, int day)
        => year is >= 1 and <= 9999 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month);
}
