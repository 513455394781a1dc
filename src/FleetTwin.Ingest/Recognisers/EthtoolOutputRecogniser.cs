using System.Text;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>
/// ethtool's output, collected while its block lasts: <c>ethtool -k</c> (<c>Features for eth4:</c> and one
/// <c>name: on|off [fixed]</c> line per offload) becomes one <see cref="NicOffloads"/>, <c>ethtool -i</c>
/// (<c>driver: bnx2x</c>, <c>version:</c>, <c>firmware-version:</c>, <c>bus-info:</c>) one <see cref="NicDriver"/>.
/// </summary>
internal sealed class EthtoolOutputRecogniser(RecogniserServices services, Utf8StringCache names)
{
    private readonly List<NicOffload> _offloads = [];
    private readonly List<KeyValuePair<string, string>> _fields = [];
    private string? _device;
    private long _firstLine;

    /// <summary><c>Features for eth4:</c> (ethtool 3.x+) or <c>Offload parameters for eth4:</c> (ethtool 2.6.x, XenServer 6.2).</summary>
    public static bool TryFeaturesHeader(ReadOnlySpan<byte> t, out ReadOnlySpan<byte> device)
    {
        device = default;
        ReadOnlySpan<byte> rest;
        if (t.StartsWith("Features for "u8))
        {
            rest = t[13..];
        }
        else if (t.StartsWith("Offload parameters for "u8))
        {
            rest = t[23..];
        }
        else
        {
            return false;
        }
        if (rest.Length < 2 || rest[^1] != ':')
        {
            return false;
        }
        device = rest[..^1];
        return true;
    }

    /// <summary><c>generic-receive-offload: on</c>, <c>tx-checksum-ipv4: off [fixed]</c>, <c>rx-vlan-filter: on [requested off]</c>.</summary>
    public static bool IsOffload(ReadOnlySpan<byte> t) => TryParseOffload(t, out _, out _, out _);

    /// <summary><c>key: value</c> of <c>ethtool -i</c>.</summary>
    public static bool IsDriverField(ReadOnlySpan<byte> t) => TryDriverField(t, out _, out _);

    /// <summary>
    /// Starts a block of <paramref name="device"/>: the features header's, else the prompt's (ethtool -i does not
    /// repeat the interface).
    /// </summary>
    public void Begin(string? device, long line)
    {
        Clear();
        _device = device;
        _firstLine = line;
    }

    public bool TryAddOffload(ReadOnlySpan<byte> t)
    {
        if (!TryParseOffload(t, out var name, out bool enabled, out bool isFixed))
        {
            return false;
        }
        _offloads.Add(new NicOffload { Name = names.Get(name), Enabled = enabled, Fixed = isFixed });
        return true;
    }

    public bool TryAddDriverField(ReadOnlySpan<byte> t)
    {
        if (!TryDriverField(t, out var key, out var value))
        {
            return false;
        }
        _fields.Add(new(Encoding.UTF8.GetString(key), Encoding.UTF8.GetString(value)));
        return true;
    }

    public void EmitOffloads(string? host, string source)
    {
        bool? gro = null;
        foreach (var o in _offloads)
        {
            if (o.Name == "generic-receive-offload")
            {
                gro = o.Enabled;
            }
        }
        services.Outlet.Emit(new NicOffloads
        {
            Host = host, SourceFile = source, SourceLine = _firstLine,
            Device = _device, GenericReceiveOffload = gro, Offloads = [.. _offloads],
        });
    }

    public void EmitDriver(string? host, string source)
    {
        services.Outlet.Emit(new NicDriver
        {
            Host = host, SourceFile = source, SourceLine = _firstLine,
            Device = _device, Driver = Field("driver") ?? "", Version = Field("version"),
            FirmwareVersion = Field("firmware-version"), BusInfo = Field("bus-info"),
        });
    }

    public void Clear()
    {
        _offloads.Clear();
        _fields.Clear();
        _device = null;
    }

    private static bool TryParseOffload(ReadOnlySpan<byte> t, out ReadOnlySpan<byte> name, out bool enabled, out bool isFixed)
    {
        name = default;
        enabled = isFixed = false;
        int colon = t.IndexOf(": "u8);
        if (colon <= 0 || !LogBytes.IsFieldName(t[..colon]))
        {
            return false;
        }
        var value = t[(colon + 2)..];
        if (value.StartsWith("on"u8))
        {
            enabled = true;
            value = value[2..];
        }
        else if (value.StartsWith("off"u8))
        {
            value = value[3..];
        }
        else
        {
            return false;
        }
        value = LogBytes.Trim(value);
        if (!value.IsEmpty && value[0] != '[')
        {
            return false;
        }
        name = t[..colon];
        isFixed = value.StartsWith("[fixed]"u8);
        return true;
    }

    private static bool TryDriverField(ReadOnlySpan<byte> t, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        key = value = default;
        int colon = t.IndexOf((byte)':');
        if (colon <= 0 || !LogBytes.IsFieldName(t[..colon]))
        {
            return false;
        }
        key = t[..colon];
        value = LogBytes.Trim(t[(colon + 1)..]);
        return true;
    }

    /// <summary>A field's value; null when absent, empty or <c>&lt;not in database&gt;</c> (read as xe's fields are).</summary>
    private string? Field(string key)
    {
        foreach (var (k, v) in _fields)
        {
            if (k == key)
            {
                return string.IsNullOrEmpty(v) || v == XeRecordRecogniser.NotInDatabase ? null : v;
            }
        }
        return null;
    }
}
