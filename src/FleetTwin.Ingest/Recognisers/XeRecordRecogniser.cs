using System.Globalization;
using System.Text;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>
/// xe CLI records (<c>uuid ( RO): …</c> first, one <c>key ( RW): value</c> line per field, a blank line between
/// records), collected while the record lasts and emitted as the fact of its class: PIF, bond, host, pool, patch
/// or update, VM. The class is the prompt's verb when there was one, else told by the fields only that class has.
/// </summary>
internal sealed class XeRecordRecogniser(RecogniserServices services)
{
    /// <summary>xe's null reference.</summary>
    public const string NotInDatabase = "<not in database>";

    private readonly List<KeyValuePair<string, string>> _fields = [];
    private long _firstLine;

    /// <summary>xe's record lines: <c>name-label ( RW): value</c>, <c>other-config (MRW): k: v; k2: v2</c>.</summary>
    public static bool TryField(ReadOnlySpan<byte> t, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        key = value = default;
        int paren = t.IndexOf(" ("u8);
        if (paren <= 0 || !LogBytes.IsFieldName(t[..paren]))
        {
            return false;
        }
        var rest = t[(paren + 2)..];
        int close = rest.IndexOf((byte)')');
        if (close is < 2 or > 3)
        {
            return false;
        }
        foreach (byte b in rest[..close])
        {
            if (b is not ((byte)' ' or (byte)'R' or (byte)'W' or (byte)'O' or (byte)'M' or (byte)'S'))
            {
                return false;
            }
        }
        rest = LogBytes.TrimStart(rest[(close + 1)..]);
        if (rest.IsEmpty || rest[0] != ':')
        {
            return false;
        }
        key = t[..paren];
        value = LogBytes.Trim(rest[1..]);
        return true;
    }

    public static bool IsUuid(ReadOnlySpan<byte> key) => key.SequenceEqual("uuid"u8);

    /// <summary>Starts a record at its <c>uuid</c> line.</summary>
    public void Begin(long line)
    {
        _fields.Clear();
        _firstLine = line;
    }

    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) =>
        _fields.Add(new(Encoding.UTF8.GetString(key), Encoding.UTF8.GetString(value)));

    public void Clear() => _fields.Clear();

    /// <summary>
    /// The record's fact, or a word in the summary: a record whose class could not be told is named there (its
    /// fields say what it was), one of a class the twin does not model (sr-list, network-list…) is counted.
    /// </summary>
    public void Emit(ShellPrompt prompt, string? host, string source)
    {
        string uuid = Field("uuid") ?? "";
        var kind = prompt.XeClass != XeClass.Unknown ? prompt.XeClass : Classify();
        TwinEvent? fact = kind switch
        {
            XeClass.Pif => new PifFact
            {
                Uuid = uuid, Device = Field("device"), Mtu = IntField("MTU"), Vlan = IntField("VLAN") is int v && v >= 0 ? v : null,
                HostUuid = Field("host-uuid"), HostName = Field("host-name-label"),
                BondMasterOf = Field("bond-master-of"), BondSlaveOf = Field("bond-slave-of"),
                Management = BoolField("management"), Physical = BoolField("physical"),
                OtherConfig = MapField("other-config"), EthtoolGro = MapValue("other-config", "ethtool-gro"),
            },
            XeClass.Bond => new BondFact { Uuid = uuid, Master = Field("master"), Slaves = SetField("slaves"), Mode = Field("mode") },
            XeClass.Host => new XenHostFact
            {
                Uuid = uuid, NameLabel = Field("name-label"), Address = Field("address"),
                ProductVersion = MapValue("software-version", "product_version"), Linux = MapValue("software-version", "linux"),
                MemoryTotal = LongField("memory-total"), MemoryFree = LongField("memory-free"), SoftwareVersion = MapField("software-version"),
                // xapi writes these as Unix seconds with a trailing dot ("1408119951."): the planner's reboot time.
                BootTime = UnixSeconds(MapValue("other-config", "boot_time")), AgentStartTime = UnixSeconds(MapValue("other-config", "agent_start_time")),
                Enabled = BoolField("enabled"), HostMetricsLive = BoolField("host-metrics-live"),
            },
            XeClass.Pool => new PoolFact
            {
                Uuid = uuid, NameLabel = Field("name-label"), Master = Field("master"),
                HaEnabled = BoolField("ha-enabled"), HaHostFailuresToTolerate = IntField("ha-host-failures-to-tolerate"), HaStatefiles = SetField("ha-statefiles"),
            },
            XeClass.Patch or XeClass.Update => new HotfixFact
            {
                Uuid = uuid, NameLabel = Field("name-label"), Version = Field("version"),
                Kind = kind == XeClass.Patch ? "patch" : "update", Hosts = SetField("hosts"),
            },
            XeClass.Vm => new VmFact
            {
                Uuid = uuid, NameLabel = Field("name-label"), PowerState = Field("power-state"), ResidentOn = Field("resident-on"),
                MemoryActual = LongField("memory-actual"), MemoryStaticMax = LongField("memory-static-max"),
                DomId = IntField("dom-id") is int d && d >= 0 ? d : null, IsControlDomain = BoolField("is-control-domain"),
                PciPassthrough = MapValue("other-config", "pci"), BlockedOperations = [.. MapField("blocked-operations").Select(e => e.Key)],
            },
            _ => null,
        };
        if (fact is null)
        {
            if (prompt.Command == PromptedCommand.Xe && prompt.XeClass == XeClass.Unknown && prompt.XeVerbKnown)
            {
                services.Outlet.Statistics.XeRecordsNotModelled++;
            }
            else
            {
                services.Outlet.Statistics.CountUnclassifiedXe(source, _firstLine, "uuid " + uuid + " with " + string.Join(", ", FieldNames()));
            }
            return;
        }
        services.Outlet.Emit(fact with { Host = host, SourceFile = source, SourceLine = _firstLine });
    }

    /// <summary>Which xe class a record is when no prompt said: by the fields only that class has.</summary>
    private XeClass Classify()
    {
        if (Has("power-state"))
        {
            return XeClass.Vm;
        }
        if (Has("slaves"))
        {
            return XeClass.Bond;
        }
        if (Has("bond-master-of") || Has("bond-slave-of") || Has("IP-configuration-mode") || (Has("device") && Has("MAC")) || (Has("device") && Has("VLAN")))
        {
            return XeClass.Pif;
        }
        if (Has("software-version") || Has("API-version-major") || (Has("hostname") && Has("address")))
        {
            return XeClass.Host;
        }
        if (Has("master"))
        {
            // pool-list with any params: only pools have a master but no slaves (bonds' were told above).
            return XeClass.Pool;
        }
        if (Has("after-apply-guidance") || (Has("hosts") && Has("size")))
        {
            return XeClass.Patch;
        }
        if (Has("hosts") && Has("version"))
        {
            return XeClass.Update;
        }
        if (Has("name-description") && Has("name-label") && _fields.Count == 3)
        {
            // Plain `xe host-list` prints exactly uuid, name-label and name-description; sr-list and network-list
            // add their own fields (type, bridge…) to these three.
            return XeClass.Host;
        }
        return XeClass.Unknown;
    }

    private IEnumerable<string> FieldNames()
    {
        foreach (var field in _fields)
        {
            yield return field.Key;
        }
    }

    private static double? UnixSeconds(string? value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? seconds : null;

    private bool Has(string key) => Field(key) is not null || RawField(key) is not null;

    private string? RawField(string key)
    {
        foreach (var (k, v) in _fields)
        {
            if (k == key)
            {
                return v;
            }
        }
        return null;
    }

    /// <summary>A field's value; null when absent, empty or <c>&lt;not in database&gt;</c> (xe's null reference).</summary>
    private string? Field(string key)
    {
        var value = RawField(key);
        return string.IsNullOrEmpty(value) || value == NotInDatabase ? null : value;
    }

    private int? IntField(string key) => Field(key) is { } v && int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? n : null;

    private long? LongField(string key) => Field(key) is { } v && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) ? n : null;

    private bool? BoolField(string key) => Field(key) switch { "true" => true, "false" => false, _ => null };

    /// <summary>xe set parameters: <c>a; b; c</c>.</summary>
    private string[] SetField(string key)
    {
        var value = Field(key);
        return value is null ? [] : value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>xe map parameters: <c>k1: v1; k2: v2</c>.</summary>
    private ConfigEntry[] MapField(string key)
    {
        var entries = new List<ConfigEntry>();
        foreach (var item in SetField(key))
        {
            int colon = item.IndexOf(':', StringComparison.Ordinal);
            entries.Add(colon < 0
                ? new ConfigEntry { Key = item, Value = "" }
                : new ConfigEntry { Key = item[..colon].Trim(), Value = item[(colon + 1)..].Trim() });
        }
        return [.. entries];
    }

    private string? MapValue(string key, string entry)
    {
        foreach (var e in MapField(key))
        {
            if (e.Key == entry)
            {
                return e.Value;
            }
        }
        return null;
    }
}
