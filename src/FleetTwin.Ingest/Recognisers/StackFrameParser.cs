using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>One call-trace line as offsets: <c>[&lt;c026c228&gt;] ? swiotlb_full+0x68/0x80 [module]</c>.</summary>
internal ref struct StackFrameSpans
{
    public ReadOnlySpan<byte> Address;
    public ReadOnlySpan<byte> Function;
    public long Offset;
    public long Length;
    public ReadOnlySpan<byte> Module;
    public bool Reliable;
}

/// <summary>
/// Call-trace frames as x86 dump_trace/print_trace_address print them: 2.6.32 <c>[&lt;addr&gt;] [? ]sym+0xoff/0xlen [mod]</c>
/// (the <c>?</c> marks an address found on the stack that the unwinder could not prove is a return address);
/// kernels from about 4.x drop the address: <c> [? ]sym+0xoff/0xlen [mod]</c>.
/// </summary>
internal static class StackFrameParser
{
    public static bool TryParse(ReadOnlySpan<byte> message, out StackFrameSpans frame)
    {
        frame = default;
        var s = LogBytes.TrimStart(message);
        if (s.StartsWith("[<"u8))
        {
            int close = s.IndexOf(">]"u8);
            if (close < 3)
            {
                return false;
            }
            frame.Address = s[2..close];
            foreach (byte b in frame.Address)
            {
                if (!LogBytes.IsHexDigit(b))
                {
                    return false;
                }
            }
            s = LogBytes.TrimStart(s[(close + 2)..]);
        }
        frame.Reliable = true;
        if (s.StartsWith("? "u8))
        {
            frame.Reliable = false;
            s = s[2..];
        }
        int plus = s.IndexOf("+0x"u8);
        if (plus <= 0)
        {
            return false;
        }
        var function = s[..plus];
        foreach (byte b in function)
        {
            if (!(b == '_' || b == '.' || LogBytes.IsDigit(b) || (uint)((b | 0x20) - 'a') <= 'z' - 'a'))
            {
                return false;
            }
        }
        frame.Function = function;
        s = s[(plus + 3)..];
        if (!LogBytes.TryParseHex(s, out frame.Offset, out int offsetDigits) || !s[offsetDigits..].StartsWith("/0x"u8))
        {
            return false;
        }
        s = s[(offsetDigits + 3)..];
        if (!LogBytes.TryParseHex(s, out frame.Length, out int lengthDigits))
        {
            return false;
        }
        s = LogBytes.Trim(s[lengthDigits..]);
        if (s.Length > 2 && s[0] == '[' && s[^1] == ']')
        {
            frame.Module = s[1..^1];
        }
        else if (!s.IsEmpty)
        {
            return false;
        }
        return true;
    }
}
