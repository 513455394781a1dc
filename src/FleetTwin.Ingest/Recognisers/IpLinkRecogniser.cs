using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>
/// <c>ip link</c> / <c>ip addr</c> output: each interface line (<c>2: eth4: &lt;…&gt; mtu 9000 … master xenbr4
/// state UP</c>) is one <see cref="LinkMtu"/> at once; the indented lines below it are its details.
/// </summary>
internal sealed class IpLinkRecogniser(RecogniserServices services, Utf8StringCache names)
{
    /// <summary><c>2: eth4: &lt;BROADCAST,MULTICAST,UP,LOWER_UP&gt; mtu 9000 qdisc mq master xenbr4 state UP qlen 1000</c>.</summary>
    public bool TryInterfaceLine(ReadOnlySpan<byte> t, string? host, in RecordContext ctx)
    {
        if (!LogBytes.TryParseDecimal(t, out _, out int digits) || !t[digits..].StartsWith(": "u8))
        {
            return false;
        }
        var rest = t[(digits + 2)..];
        int colon = rest.IndexOf(": <"u8);
        if (colon <= 0)
        {
            return false;
        }
        var device = rest[..colon];
        int at = device.IndexOf((byte)'@');
        if (at > 0)
        {
            device = device[..at];
        }
        int mtuAt = rest.IndexOf(" mtu "u8);
        if (mtuAt < 0 || !LogBytes.TryParseDecimal(rest[(mtuAt + 5)..], out long mtu, out _) || mtu > int.MaxValue)
        {
            return false;
        }
        services.Outlet.Emit(new LinkMtu
        {
            Host = host, SourceFile = ctx.Source, SourceLine = ctx.Line,
            Device = names.Get(device), Mtu = (int)mtu, State = WordAfter(rest, " state "u8), Master = WordAfter(rest, " master "u8),
        });
        return true;
    }

    /// <summary><c>    link/ether 00:10:18:…</c>, <c>    altname …</c>, <c>    inet …</c>: details of the interface above.</summary>
    public static bool IsDetailLine(ReadOnlySpan<byte> line) => line.Length > 0 && LogBytes.IsSpace(line[0]);

    private string? WordAfter(ReadOnlySpan<byte> s, ReadOnlySpan<byte> key)
    {
        int at = s.IndexOf(key);
        if (at < 0)
        {
            return null;
        }
        var rest = s[(at + key.Length)..];
        int end = LogBytes.TokenEnd(rest);
        return end == 0 ? null : names.Get(rest[..end]);
    }
}
