using System.Text;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;
using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>
/// <c>lspci</c> output (pciutils, lspci(8)), one device per line: <c>[domain:]bus:device.function class: vendor
/// device [(rev r)]</c>, e.g. <c>04:00.0 Ethernet controller: Broadcom Inc. and subsidiaries NetXtreme II BCM57810 10
/// Gigabit Ethernet (rev 10)</c>. <c>-nn</c> adds the class code and the vendor:device ids in brackets
/// (<c>Ethernet controller [0200]: … [14e4:168e] (rev 10)</c>), <c>-n</c> prints the numbers alone
/// (<c>04:00.0 0200: 14e4:168e (rev 10)</c>), <c>-D</c> the domain (<c>0000:04:00.0</c>); <c>-k</c> and <c>-v</c>
/// indent details under the device (<c>Subsystem: …</c>, <c>Kernel driver in use: bnx2x</c>, <c>Kernel modules:
/// …</c>, and with -v flags, BARs and capabilities). A network controller (class 02: <c>Ethernet controller</c>,
/// <c>Network controller</c>) becomes one <see cref="PciNic"/> when its block ends; other devices and their details
/// are informational.
/// </summary>
internal sealed class LspciRecogniser(RecogniserServices services)
{
    private bool _network;
    private string _busId = "";
    private string _class = "";
    private string? _classId;
    private string? _model;
    private string? _vendorId;
    private string? _deviceId;
    private string? _revision;
    private string? _subsystem;
    private string? _kernelDriver;
    private long _firstLine;

    /// <summary>
    /// Starts the block of a device line; false when <paramref name="t"/> is none. The result says whether the device
    /// is a network controller (an event will come of it) or another device (informational).
    /// </summary>
    public bool TryBegin(ReadOnlySpan<byte> t, long line, out bool network)
    {
        network = false;
        if (!TryDeviceLine(t, out var slot, out var cls, out var rest))
        {
            return false;
        }
        Clear();
        _firstLine = line;
        _busId = PciBusId.Normalise(Encoding.UTF8.GetString(slot));
        ReadClass(cls);
        ReadDescription(rest);
        _network = IsNetworkClass();
        network = _network;
        return true;
    }

    /// <summary>An indented line under the device (<c>-k</c>/<c>-v</c>): its <c>Subsystem:</c> and <c>Kernel driver in use:</c> are kept.</summary>
    public static bool IsDetailLine(ReadOnlySpan<byte> line) => line.Length > 0 && LogBytes.IsSpace(line[0]) && !LogBytes.IsBlank(line);

    /// <summary>Takes a detail line of the current device; true when the device is a network controller (the line adds to its event).</summary>
    public bool AddDetail(ReadOnlySpan<byte> t)
    {
        if (!_network)
        {
            return false;
        }
        if (t.StartsWith("Kernel driver in use:"u8))
        {
            _kernelDriver = Text(LogBytes.Trim(t["Kernel driver in use:"u8.Length..]));
        }
        else if (t.StartsWith("Subsystem:"u8))
        {
            _subsystem = Text(LogBytes.Trim(t["Subsystem:"u8.Length..]));
        }
        return true;
    }

    /// <summary>Emits the network controller being collected, if the block is one.</summary>
    public void Emit(string? host, string source)
    {
        if (!_network)
        {
            return;
        }
        services.Outlet.Emit(new PciNic
        {
            Host = host, SourceFile = source, SourceLine = _firstLine,
            BusId = _busId, Class = _class, ClassId = _classId, Model = _model, VendorId = _vendorId, DeviceId = _deviceId,
            Revision = _revision, Subsystem = _subsystem, KernelDriver = _kernelDriver,
        });
    }

    public void Clear()
    {
        _network = false;
        _busId = _class = "";
        _classId = _model = _vendorId = _deviceId = _revision = _subsystem = _kernelDriver = null;
    }

    /// <summary>
    /// <c>04:00.0 Ethernet controller: …</c> or <c>0000:04:00.0 …</c>: the slot, the class text before the first
    /// <c>": "</c>, and the rest (<c>-n</c>: <c>04:00.0 0200: 14e4:168e</c>).
    /// </summary>
    private static bool TryDeviceLine(ReadOnlySpan<byte> t, out ReadOnlySpan<byte> slot, out ReadOnlySpan<byte> cls, out ReadOnlySpan<byte> rest)
    {
        slot = cls = rest = default;
        int at = 0;
        if (LogBytes.IsPciBusId(t))
        {
            at = 5; // domain (four hex digits, as -D prints it) and its colon
        }
        if (t.Length < at + 9 || !IsShortSlot(t[at..]) || t[at + 7] != ' ')
        {
            return false;
        }
        slot = t[..(at + 7)];
        var after = t[(at + 8)..];
        int colon = after.IndexOf(": "u8);
        if (colon <= 0)
        {
            return false;
        }
        cls = after[..colon];
        rest = LogBytes.Trim(after[(colon + 2)..]);
        return !rest.IsEmpty;
    }

    /// <summary><c>bb:dd.f</c>: bus, device (hex), function 0-7.</summary>
    private static bool IsShortSlot(ReadOnlySpan<byte> s) =>
        s.Length >= 7 && LogBytes.IsHexDigit(s[0]) && LogBytes.IsHexDigit(s[1]) && s[2] == ':' && LogBytes.IsHexDigit(s[3])
        && LogBytes.IsHexDigit(s[4]) && s[5] == '.' && s[6] >= '0' && s[6] <= '7';

    /// <summary><c>Ethernet controller</c>, <c>Ethernet controller [0200]</c> (-nn) or <c>0200</c> (-n).</summary>
    private void ReadClass(ReadOnlySpan<byte> cls)
    {
        if (IsHex(cls, 4))
        {
            _classId = Text(cls);
            _class = _classId;
            return;
        }
        if (cls.Length > 7 && cls[^1] == ']' && cls[^6] == '[' && cls[^7] == ' ' && IsHex(cls[^5..^1], 4))
        {
            _classId = Text(cls[^5..^1]);
            cls = cls[..^7];
        }
        _class = Text(LogBytes.Trim(cls));
    }

    /// <summary>
    /// <c>vendor device [vvvv:dddd] (rev rr) (prog-if pp [name])</c>, the bracketed parts as the options print them;
    /// <c>-n</c> alone: <c>vvvv:dddd (rev rr)</c>.
    /// </summary>
    private void ReadDescription(ReadOnlySpan<byte> rest)
    {
        while (rest.Length > 0 && rest[^1] == ')')
        {
            int open = rest.LastIndexOf(" ("u8);
            if (open < 0)
            {
                break;
            }
            var group = rest[(open + 2)..^1];
            if (group.StartsWith("rev "u8))
            {
                _revision = Text(group[4..]);
            }
            else if (!group.StartsWith("prog-if "u8))
            {
                break; // a parenthesis of the device's own name
            }
            rest = LogBytes.TrimEnd(rest[..open]);
        }
        if (IsIds(rest))
        {
            (_vendorId, _deviceId) = (Text(rest[..4]), Text(rest[5..9]));
            return;
        }
        if (rest.Length > 12 && rest[^1] == ']' && rest[^11] == '[' && rest[^12] == ' ' && IsIds(rest[^10..^1]))
        {
            (_vendorId, _deviceId) = (Text(rest[^10..^6]), Text(rest[^5..^1]));
            rest = LogBytes.TrimEnd(rest[..^11]);
        }
        _model = rest.IsEmpty ? null : Text(rest);
    }

    /// <summary>Class 02 (network controller): its code when printed, else the class names pci.ids gives 0200 and 0280.</summary>
    private bool IsNetworkClass() =>
        _classId is not null
            ? _classId.StartsWith("02", StringComparison.Ordinal)
            : _class is "Ethernet controller" or "Network controller";

    private static bool IsIds(ReadOnlySpan<byte> s) => s.Length == 9 && IsHex(s[..4], 4) && s[4] == ':' && IsHex(s[5..], 4);

    private static bool IsHex(ReadOnlySpan<byte> s, int length)
    {
        if (s.Length != length)
        {
            return false;
        }
        foreach (var b in s)
        {
            if (!LogBytes.IsHexDigit(b))
            {
                return false;
            }
        }
        return true;
    }

    private static string Text(ReadOnlySpan<byte> s) => Encoding.UTF8.GetString(s);
}
