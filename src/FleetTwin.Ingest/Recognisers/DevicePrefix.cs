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
        if (!LogBytes.IsPciBusId(after) || after.Length < LogBytes.PciBusIdLength + 1 || after[LogBytes.PciBusIdLength] != ':')
        {
            return message;
        }
        prefix = new DevicePrefix(message[..space], after[..LogBytes.PciBusIdLength]);
        return LogBytes.TrimStart(after[(LogBytes.PciBusIdLength + 1)..]);
    }
}
