using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Repair;

/// <summary>
/// Devices as dev_printk() names them (dev_name()): a PCI function with its domain (<c>0000:08:00.0</c>) or, on
/// older kernels and in pasted excerpts, without it (<c>08:00.0</c>); a platform device (<c>fea2f000.fcp</c>,
/// <c>38200000.dwc3</c>, <c>udmabuf.0</c>); a plain name (<c>gadget</c>).
/// </summary>
internal static class DeviceNames
{
    /// <summary><c>bb:dd.f</c>: a PCI function without its domain.</summary>
    public const int ShortPciBusIdLength = 7;

    public static bool IsShortPciBusId(ReadOnlySpan<byte> s)
        => s.Length >= ShortPciBusIdLength && LogBytes.IsHexDigit(s[0]) && LogBytes.IsHexDigit(s[1]) && s[2] == ':'
            && LogBytes.IsHexDigit(s[3]) && LogBytes.IsHexDigit(s[4]) && s[5] == '.' && LogBytes.IsHexDigit(s[6])
            && (s.Length == ShortPciBusIdLength || !LogBytes.IsHexDigit(s[7]) && s[7] != ':');

    /// <summary>A device token of a <c>driver device: </c> prefix: a PCI bus id (with or without domain) or a platform device.</summary>
    public static bool IsDevice(ReadOnlySpan<byte> s)
    {
        if (s.Length == LogBytes.PciBusIdLength && LogBytes.IsPciBusId(s))
        {
            return true;
        }
        if (s.Length == ShortPciBusIdLength && IsShortPciBusId(s))
        {
            return true;
        }
        return IsPlatformDevice(s);
    }

    /// <summary><c>unit-address.name</c> or <c>name.id</c> (drivers/base/platform.c names devices so).</summary>
    public static bool IsPlatformDevice(ReadOnlySpan<byte> s)
    {
        int dot = s.IndexOf((byte)'.');
        if (dot <= 0 || dot == s.Length - 1 || s.Length > 48)
        {
            return false;
        }
        foreach (byte b in s)
        {
            if (!IsNameByte(b))
            {
                return false;
            }
        }
        return true;
    }

    public static bool IsDriver(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty || s.Length > 32)
        {
            return false;
        }
        foreach (byte b in s)
        {
            if (!IsNameByte(b) || b == '.')
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsNameByte(byte b)
        => b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'_' or (byte)'-' or (byte)'.';

    /// <summary>Writes the canonical name into <paramref name="buffer"/> when it differs (<c>08:00.0</c> -> <c>0000:08:00.0</c>).</summary>
    public static ReadOnlySpan<byte> Canonical(ReadOnlySpan<byte> device, Span<byte> buffer)
    {
        if (device.Length != ShortPciBusIdLength || !IsShortPciBusId(device))
        {
            return device;
        }
        "0000:"u8.CopyTo(buffer);
        device.CopyTo(buffer[5..]);
        return buffer[..LogBytes.PciBusIdLength];
    }
}
