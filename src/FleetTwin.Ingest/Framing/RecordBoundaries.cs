using System.Buffers;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Framing;

/// <summary>
/// Finds where the next record starts inside a message, for text where many records were pasted onto one line
/// (as in the KB article). Records pasted together share one shape, so only prefixes of the current record's
/// family count, and only at the start of the message or after a space; each candidate must parse as a whole
/// prefix (for syslog: time, host and tag), which keeps a date or bracket inside a message from splitting it.
/// </summary>
internal static class RecordBoundaries
{
    /// <summary>First letters of the month abbreviations: the only bytes where a BSD syslog prefix can start.</summary>
    private static readonly SearchValues<byte> MonthInitials = SearchValues.Create("JFMASOND"u8);

    /// <summary>Offset of the next record within <paramref name="message"/>, or -1.</summary>
    public static int FindNext(ReadOnlySpan<byte> message, RecordFamily family)
    {
        return family switch
        {
            RecordFamily.Console => Scan(message, family, (byte)'<'),
            RecordFamily.Dmesg or RecordFamily.DmesgHuman => Scan(message, family, (byte)'['),
            RecordFamily.Bsd => ScanBsd(message),
            RecordFamily.Iso => ScanIso(message),
            // RFC 5424 frames are delimited by octet counting or line ends; journal JSON is one object per line.
            _ => -1,
        };
    }

    private static int Scan(ReadOnlySpan<byte> message, RecordFamily family, byte opener)
    {
        int offset = 0;
        while (true)
        {
            int idx = message[offset..].IndexOf(opener);
            if (idx < 0)
            {
                return -1;
            }
            int at = offset + idx;
            if ((at == 0 || LogBytes.IsSpace(message[at - 1])) && HeaderParser.StartsRecord(message[at..], family))
            {
                return at;
            }
            offset = at + 1;
        }
    }

    private static int ScanBsd(ReadOnlySpan<byte> message)
    {
        int offset = 0;
        while (true)
        {
            int idx = message[offset..].IndexOfAny(MonthInitials);
            if (idx < 0)
            {
                return -1;
            }
            int at = offset + idx;
            if ((at == 0 || LogBytes.IsSpace(message[at - 1])) && LogBytes.MonthNumber(message[at..]) != 0
                && HeaderParser.StartsRecord(message[at..], RecordFamily.Bsd))
            {
                return at;
            }
            offset = at + 1;
        }
    }

    private static int ScanIso(ReadOnlySpan<byte> message)
    {
        // A record starts "yyyy-mm-ddT…": look for the 'T' and check the ten bytes before it.
        int offset = 0;
        while (true)
        {
            int idx = message[offset..].IndexOf((byte)'T');
            if (idx < 0)
            {
                return -1;
            }
            int t = offset + idx;
            int at = t - 10;
            if (at >= 0 && (at == 0 || LogBytes.IsSpace(message[at - 1])) && message[at + 4] == '-'
                && HeaderParser.StartsRecord(message[at..], RecordFamily.Iso))
            {
                return at;
            }
            offset = t + 1;
        }
    }
}
