using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Repair;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>
/// The <c>driver BDF: </c> prefix dev_printk() puts before a device's messages (<c>bnx2x 0000:04:00.0: …</c>),
/// as offsets into the message; the recognisers see the text after it.
/// </summary>
internal readonly ref struct DevicePrefix
{
    /// <summary>Drivers names are short; a longer first word is not a driver.</summary>
    private const int MaxDriverLength = 32;

    public DevicePrefix(ReadOnlySpan<byte> driver, ReadOnlySpan<byte> device)
    {
        Driver = driver;
        Device = device;
    }

    public ReadOnlySpan<byte> Driver { get; }
    public ReadOnlySpan<byte> Device { get; }
    public bool HasDevice => !Device.IsEmpty;

    /// <summary>Splits off <c>driver dddd:bb:dd.f: </c>; returns the message after it, or the whole message when there is none.</summary>
    public static ReadOnlySpan<byte> Split(ReadOnlySpan<byte> message, out DevicePrefix prefix)
    {
        prefix = default;
        int space = message.Length > MaxDriverLength ? message[..MaxDriverLength].IndexOf((byte)' ') : message.IndexOf((byte)' ');
        if (space <= 0)
        {
            return message;
        }
        var after = message[(space + 1)..];
        if (LogBytes.IsPciBusId(after) && after.Length > LogBytes.PciBusIdLength && after[LogBytes.PciBusIdLength] == ':')
        {
            prefix = new DevicePrefix(message[..space], after[..LogBytes.PciBusIdLength]);
            return LogBytes.TrimStart(after[(LogBytes.PciBusIdLength + 1)..]);
        }
        return SplitOtherDevice(message, space, after, out prefix);
    }

    /// <summary>
    /// dev_name() forms other than a full PCI bus id: <c>08:00.0</c> (no PCI domain), platform devices
    /// (<c>38200000.dwc3</c>, <c>udmabuf.0</c>). Only a token ending in ':' is looked at, so ordinary messages
    /// ("device vif1.0 entered …") pay one short scan.
    /// </summary>
    private static ReadOnlySpan<byte> SplitOtherDevice(ReadOnlySpan<byte> message, int space, ReadOnlySpan<byte> after, out DevicePrefix prefix)
    {
        prefix = default;
        int end = LogBytes.TokenEnd(after);
        if (end < 3 || after[end - 1] != ':')
        {
            return message;
        }
        var device = after[..(end - 1)];
        var driver = message[..space];
        if (!DeviceNames.IsDevice(device) || !DeviceNames.IsDriver(driver))
        {
            return message;
        }
        prefix = new DevicePrefix(driver, device);
        return LogBytes.TrimStart(after[end..]);
    }

    /// <summary>The interned canonical device name (<c>08:00.0</c> is <c>0000:08:00.0</c>).</summary>
    public static string DeviceName(Utf8StringCache names, ReadOnlySpan<byte> device)
    {
        Span<byte> buffer = stackalloc byte[LogBytes.PciBusIdLength];
        return names.Get(DeviceNames.Canonical(device, buffer));
    }
}
