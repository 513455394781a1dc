using System.Text;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>
/// Fleet facts from command output pasted into a log or shipped as text, alone or as a shell transcript. A prompt
/// line (<c>[root@xs62-a01 ~]# ethtool -i eth4</c>) names the host and the command, and so the device of the output
/// below it; without a prompt the output is recognised by its own shape (<c>Features for eth4:</c>, <c>driver:</c>,
/// xe's <c>key ( RO): value</c> records, <c>2: eth4: &lt;…&gt; mtu 9000</c>). Multi-line outputs become one event
/// when their block ends (blank line, next prompt, other text, a log record, or the end of input). This is the
/// slow path: a few strings per fact are fine here.
/// </summary>
internal sealed class CommandOutputRecogniser(RecogniserServices services, Utf8StringCache names)
{
    private enum Command : byte { None, Other, EthtoolFeatures, EthtoolDriver, Xe, IpLink, CommandLine }

    private enum XeKind : byte { Unknown, Pif, Bond, Host, Pool, Patch, Update, Vm }

    /// <summary>The prompt named an xe verb (so an Unknown kind means a class the twin does not model, not one it could not tell).</summary>
    private bool _xeVerbKnown;

    private enum Block : byte { None, EthtoolFeatures, EthtoolDriver, XeRecord, IpLink }

    private const string NotInDatabase = "<not in database>";

    private readonly List<KeyValuePair<string, string>> _fields = [];
    private readonly List<NicOffload> _offloads = [];
    private string? _promptHost;
    private Command _command;
    private XeKind _xeKind;
    private string? _commandDevice;
    private Block _block;
    private string? _blockDevice;
    private long _blockLine;

    /// <summary>True while output of a known command is expected, so bare lines come here first.</summary>
    public bool InBlock => _block != Block.None || _command is Command.EthtoolFeatures or Command.EthtoolDriver or Command.Xe or Command.IpLink or Command.CommandLine;

    public Recognition Recognise(ReadOnlySpan<byte> line, in RecordContext ctx)
    {
        if (TryPrompt(line, ctx))
        {
            return Recognition.Informational;
        }
        if (_block != Block.None)
        {
            var inBlock = ContinueBlock(line, ctx);
            if (inBlock != Recognition.NoMatch)
            {
                return inBlock;
            }
            Flush(ctx);
        }
        return StartBlock(line, ctx);
    }

    /// <summary>A blank line ends a record (xe separates records with blank lines) but not the command's output.</summary>
    public void OnBlankLine(in RecordContext ctx)
    {
        if (_block != Block.None)
        {
            Flush(ctx);
        }
    }

    /// <summary>Emits the block being collected, if any.</summary>
    public void Flush(in RecordContext ctx)
    {
        var block = _block;
        _block = Block.None;
        switch (block)
        {
            case Block.EthtoolFeatures:
                EmitOffloads(ctx);
                break;
            case Block.EthtoolDriver:
                EmitDriver(ctx);
                break;
            case Block.XeRecord:
                EmitXeRecord(ctx);
                break;
        }
        _fields.Clear();
        _offloads.Clear();
        _blockDevice = null;
    }

    /// <summary>A log record after the output: the block and the transcript's command are both over.</summary>
    public void EndCommand(in RecordContext ctx)
    {
        Flush(ctx);
        _command = Command.None;
        _xeKind = XeKind.Unknown;
        _commandDevice = null;
    }

    public bool IsPrompt(ReadOnlySpan<byte> line) => TryParsePrompt(line, out _, out _);

    private bool TryPrompt(ReadOnlySpan<byte> line, in RecordContext ctx)
    {
        if (!TryParsePrompt(line, out var host, out var command))
        {
            return false;
        }
        Flush(ctx);
        _promptHost = host.IsEmpty ? null : names.Get(host);
        ParseCommand(command);
        return true;
    }

    /// <summary><c>[user@host dir]# cmd</c> (XenServer's bash PS1) or <c>user@host:dir# cmd</c> (Debian-style).</summary>
    private static bool TryParsePrompt(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> host, out ReadOnlySpan<byte> command)
    {
        host = command = default;
        int marker;
        if (line.Length > 3 && line[0] == '[')
        {
            int close = line.IndexOf("]# "u8);
            if (close < 0)
            {
                close = line.IndexOf("]$ "u8);
            }
            if (close < 0)
            {
                return false;
            }
            var inside = line[1..close];
            int at = inside.IndexOf((byte)'@');
            if (at <= 0)
            {
                return false;
            }
            var rest = inside[(at + 1)..];
            host = rest[..LogBytes.TokenEnd(rest)];
            marker = close + 3;
        }
        else
        {
            int at = line.IndexOf((byte)'@');
            int colon = line.IndexOf((byte)':');
            if (at <= 0 || colon <= at + 1 || line[..at].IndexOf((byte)' ') >= 0 || line[at..colon].IndexOf((byte)' ') >= 0)
            {
                return false;
            }
            int end = line[colon..].IndexOfAny("# "u8);
            var afterColon = line[colon..];
            int sign = afterColon.IndexOf("# "u8);
            if (sign < 0)
            {
                sign = afterColon.IndexOf("$ "u8);
            }
            if (sign < 0 || end < 0 || afterColon[..sign].IndexOf((byte)' ') >= 0)
            {
                return false;
            }
            host = line[(at + 1)..colon];
            marker = colon + sign + 2;
        }
        command = LogBytes.Trim(line[marker..]);
        return true;
    }

    private IEnumerable<string> FieldNames()
    {
        foreach (var field in _fields)
        {
            yield return field.Key;
        }
    }

    private void ParseCommand(ReadOnlySpan<byte> command)
    {
        _xeVerbKnown = false;
        _command = command.IsEmpty ? Command.None : Command.Other;
        _xeKind = XeKind.Unknown;
        _commandDevice = null;
        var first = Token(ref command);
        if (first.SequenceEqual("xe"u8))
        {
            _command = Command.Xe;
            var verb = Token(ref command);
            _xeVerbKnown = !verb.IsEmpty;
            _xeKind = verb.StartsWith("pif-"u8) ? XeKind.Pif
                : verb.StartsWith("bond-"u8) ? XeKind.Bond
                : verb.StartsWith("host-"u8) ? XeKind.Host
                : verb.StartsWith("pool-"u8) ? XeKind.Pool
                : verb.StartsWith("patch-"u8) ? XeKind.Patch
                : verb.StartsWith("update-"u8) ? XeKind.Update
                : verb.StartsWith("vm-"u8) ? XeKind.Vm
                : XeKind.Unknown;
        }
        else if (first.SequenceEqual("ethtool"u8))
        {
            var mode = Command.Other;
            ReadOnlySpan<byte> last = default;
            while (!command.IsEmpty)
            {
                var token = Token(ref command);
                if (token.SequenceEqual("-k"u8) || token.SequenceEqual("--show-features"u8) || token.SequenceEqual("--show-offload"u8))
                {
                    mode = Command.EthtoolFeatures;
                }
                else if (token.SequenceEqual("-i"u8) || token.SequenceEqual("--driver"u8))
                {
                    mode = Command.EthtoolDriver;
                }
                else if (!token.IsEmpty && token[0] != '-' && token[0] != '|')
                {
                    last = token;
                }
                else if (!token.IsEmpty && token[0] == '|')
                {
                    break;
                }
            }
            _command = mode;
            _commandDevice = last.IsEmpty ? null : names.Get(last);
        }
        else if (first.SequenceEqual("ip"u8))
        {
            while (!command.IsEmpty)
            {
                var token = Token(ref command);
                if (token.SequenceEqual("link"u8) || token.SequenceEqual("l"u8) || token.SequenceEqual("addr"u8) || token.SequenceEqual("a"u8))
                {
                    _command = Command.IpLink;
                    break;
                }
            }
        }
        else if ((first.SequenceEqual("cat"u8) && command.IndexOf("/proc/cmdline"u8) >= 0) || first.EndsWith("xen-cmdline"u8))
        {
            _command = Command.CommandLine;
        }
    }

    private static ReadOnlySpan<byte> Token(scoped ref ReadOnlySpan<byte> s)
    {
        s = LogBytes.TrimStart(s);
        int end = LogBytes.TokenEnd(s);
        var token = s[..end];
        s = s[end..];
        return token;
    }

    private Recognition StartBlock(ReadOnlySpan<byte> line, in RecordContext ctx)
    {
        var t = LogBytes.Trim(line);
        if (t.IsEmpty)
        {
            return Recognition.NoMatch;
        }
        if (TryXeField(t, out var key, out var value))
        {
            if (!key.SequenceEqual("uuid"u8))
            {
                return Recognition.Malformed;
            }
            BeginBlock(Block.XeRecord, ctx);
            _fields.Add(new(Encoding.UTF8.GetString(key), Encoding.UTF8.GetString(value)));
            return Recognition.Event;
        }
        if (TryFeaturesHeader(t, out var device))
        {
            BeginBlock(Block.EthtoolFeatures, ctx);
            _blockDevice = names.Get(device);
            return Recognition.Event;
        }
        if (_command == Command.EthtoolFeatures && TryOffload(t))
        {
            BeginBlock(Block.EthtoolFeatures, ctx);
            _blockDevice = _commandDevice;
            TryOffload(t);
            return Recognition.Event;
        }
        if (t.StartsWith("driver: "u8) || (_command == Command.EthtoolDriver && TryEthtoolField(t, out _, out _)))
        {
            BeginBlock(Block.EthtoolDriver, ctx);
            _blockDevice = _commandDevice;
            AddEthtoolField(t);
            return Recognition.Event;
        }
        if (TryIpLink(t, ctx))
        {
            BeginBlock(Block.IpLink, ctx);
            return Recognition.Event;
        }
        if (_command == Command.CommandLine || t.IndexOf("swiotlb="u8) >= 0)
        {
            HostLifecycleRecogniser.EmitCommandLine(t, Stamp(ctx), services);
            return Recognition.Event;
        }
        return Recognition.NoMatch;
    }

    private Recognition ContinueBlock(ReadOnlySpan<byte> line, in RecordContext ctx)
    {
        var t = LogBytes.Trim(line);
        switch (_block)
        {
            case Block.EthtoolFeatures:
                return TryOffload(t) ? Recognition.Event : Recognition.NoMatch;
            case Block.EthtoolDriver:
                return AddEthtoolField(t) ? Recognition.Event : Recognition.NoMatch;
            case Block.XeRecord:
                if (!TryXeField(t, out var key, out var value))
                {
                    return Recognition.NoMatch;
                }
                if (key.SequenceEqual("uuid"u8))
                {
                    // Records without a blank line between them (some pastes): a new uuid starts the next one.
                    Flush(ctx);
                    BeginBlock(Block.XeRecord, ctx);
                }
                _fields.Add(new(Encoding.UTF8.GetString(key), Encoding.UTF8.GetString(value)));
                return Recognition.Event;
            case Block.IpLink:
                if (TryIpLink(t, ctx))
                {
                    return Recognition.Event;
                }
                // "    link/ether 00:10:18:…", "    altname …", "    inet …": details of the interface above.
                return line.Length > 0 && LogBytes.IsSpace(line[0]) ? Recognition.Informational : Recognition.NoMatch;
            default:
                return Recognition.NoMatch;
        }
    }

    private void BeginBlock(Block block, in RecordContext ctx)
    {
        _block = block;
        _blockLine = ctx.Line;
        _fields.Clear();
        _offloads.Clear();
    }

    /// <summary>The record's stamp with the prompt's host (it wins over --host) and the block's first line.</summary>
    private RecordContext Stamp(in RecordContext ctx)
        => _promptHost is null ? ctx : ctx with { Host = new HostLogMemory(_promptHost) };

    private string? HostName(in RecordContext ctx) => _promptHost ?? ctx.HostName;

    /// <summary><c>Features for eth4:</c> (ethtool 3.x+) or <c>Offload parameters for eth4:</c> (ethtool 2.6.x, XenServer 6.2).</summary>
    private static bool TryFeaturesHeader(ReadOnlySpan<byte> t, out ReadOnlySpan<byte> device)
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
    private bool TryOffload(ReadOnlySpan<byte> t)
    {
        int colon = t.IndexOf(": "u8);
        if (colon <= 0 || !IsFieldName(t[..colon]))
        {
            return false;
        }
        var value = t[(colon + 2)..];
        bool enabled;
        if (value.StartsWith("on"u8))
        {
            enabled = true;
            value = value[2..];
        }
        else if (value.StartsWith("off"u8))
        {
            enabled = false;
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
        _offloads.Add(new NicOffload { Name = names.Get(t[..colon]), Enabled = enabled, Fixed = value.StartsWith("[fixed]"u8) });
        return true;
    }

    private static bool TryEthtoolField(ReadOnlySpan<byte> t, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        key = value = default;
        int colon = t.IndexOf((byte)':');
        if (colon <= 0 || !IsFieldName(t[..colon]))
        {
            return false;
        }
        key = t[..colon];
        value = LogBytes.Trim(t[(colon + 1)..]);
        return true;
    }

    private bool AddEthtoolField(ReadOnlySpan<byte> t)
    {
        if (!TryEthtoolField(t, out var key, out var value))
        {
            return false;
        }
        _fields.Add(new(Encoding.UTF8.GetString(key), Encoding.UTF8.GetString(value)));
        return true;
    }

    private static bool IsFieldName(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
        {
            if (!(b == '-' || b == '_' || LogBytes.IsDigit(b) || (uint)((b | 0x20) - 'a') <= 'z' - 'a'))
            {
                return false;
            }
        }
        return name.Length > 0;
    }

    /// <summary>xe's record lines: <c>name-label ( RW): value</c>, <c>other-config (MRW): k: v; k2: v2</c>.</summary>
    private static bool TryXeField(ReadOnlySpan<byte> t, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        key = value = default;
        int paren = t.IndexOf(" ("u8);
        if (paren <= 0 || !IsFieldName(t[..paren]))
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

    /// <summary><c>2: eth4: &lt;BROADCAST,MULTICAST,UP,LOWER_UP&gt; mtu 9000 qdisc mq master xenbr4 state UP qlen 1000</c>.</summary>
    private bool TryIpLink(ReadOnlySpan<byte> t, in RecordContext ctx)
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
            Host = HostName(ctx), SourceFile = ctx.Source, SourceLine = ctx.Line,
            Device = names.Get(device), Mtu = (int)mtu, State = WordAfter(rest, " state "u8), Master = WordAfter(rest, " master "u8),
        });
        return true;
    }

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

    private void EmitOffloads(in RecordContext ctx)
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
            Host = HostName(ctx), SourceFile = ctx.Source, SourceLine = _blockLine,
            Device = _blockDevice, GenericReceiveOffload = gro, Offloads = [.. _offloads],
        });
    }

    private void EmitDriver(in RecordContext ctx)
    {
        services.Outlet.Emit(new NicDriver
        {
            Host = HostName(ctx), SourceFile = ctx.Source, SourceLine = _blockLine,
            Device = _blockDevice, Driver = Field("driver") ?? "", Version = Field("version"),
            FirmwareVersion = Field("firmware-version"), BusInfo = Field("bus-info"),
        });
    }

    private void EmitXeRecord(in RecordContext ctx)
    {
        string uuid = Field("uuid") ?? "";
        var kind = _xeKind != XeKind.Unknown ? _xeKind : Classify();
        string? host = HostName(ctx);
        TwinEvent? fact = kind switch
        {
            XeKind.Pif => new PifFact
            {
                Uuid = uuid, Device = Field("device"), Mtu = IntField("MTU"), Vlan = IntField("VLAN") is int v && v >= 0 ? v : null,
                HostUuid = Field("host-uuid"), HostName = Field("host-name-label"),
                BondMasterOf = Field("bond-master-of"), BondSlaveOf = Field("bond-slave-of"),
                Management = BoolField("management"), Physical = BoolField("physical"),
                OtherConfig = MapField("other-config"), EthtoolGro = MapValue("other-config", "ethtool-gro"),
            },
            XeKind.Bond => new BondFact { Uuid = uuid, Master = Field("master"), Slaves = SetField("slaves"), Mode = Field("mode") },
            XeKind.Host => new XenHostFact
            {
                Uuid = uuid, NameLabel = Field("name-label"), Address = Field("address"),
                ProductVersion = MapValue("software-version", "product_version"), Linux = MapValue("software-version", "linux"),
                MemoryTotal = LongField("memory-total"), MemoryFree = LongField("memory-free"), SoftwareVersion = MapField("software-version"),
                // xapi writes these as Unix seconds with a trailing dot ("1408119951."): the planner's reboot time.
                BootTime = UnixSeconds(MapValue("other-config", "boot_time")), AgentStartTime = UnixSeconds(MapValue("other-config", "agent_start_time")),
                Enabled = BoolField("enabled"), HostMetricsLive = BoolField("host-metrics-live"),
            },
            XeKind.Pool => new PoolFact
            {
                Uuid = uuid, NameLabel = Field("name-label"), Master = Field("master"),
                HaEnabled = BoolField("ha-enabled"), HaHostFailuresToTolerate = IntField("ha-host-failures-to-tolerate"), HaStatefiles = SetField("ha-statefiles"),
            },
            XeKind.Patch or XeKind.Update => new HotfixFact
            {
                Uuid = uuid, NameLabel = Field("name-label"), Version = Field("version"),
                Kind = kind == XeKind.Patch ? "patch" : "update", Hosts = SetField("hosts"),
            },
            XeKind.Vm => new VmFact
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
            // Never dropped without a word: a record whose class could not be told is named in the summary (its
            // fields say what it was), one of a class the twin does not model (sr-list, network-list…) is counted.
            if (_command == Command.Xe && _xeKind == XeKind.Unknown && _xeVerbKnown)
            {
                services.Outlet.Statistics.XeRecordsNotModelled++;
            }
            else
            {
                services.Outlet.Statistics.CountUnclassifiedXe(ctx.Source, _blockLine, "uuid " + uuid + " with " + string.Join(", ", FieldNames()));
            }
            return;
        }
        services.Outlet.Emit(fact with { Host = host, SourceFile = ctx.Source, SourceLine = _blockLine });
    }

    private static double? UnixSeconds(string? value) =>
        double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) ? seconds : null;

    /// <summary>Which xe class a record is when no prompt said: by the fields only that class has.</summary>
    private XeKind Classify()
    {
        if (Has("power-state"))
        {
            return XeKind.Vm;
        }
        if (Has("slaves"))
        {
            return XeKind.Bond;
        }
        if (Has("bond-master-of") || Has("bond-slave-of") || Has("IP-configuration-mode") || (Has("device") && Has("MAC")) || (Has("device") && Has("VLAN")))
        {
            return XeKind.Pif;
        }
        if (Has("software-version") || Has("API-version-major") || (Has("hostname") && Has("address")))
        {
            return XeKind.Host;
        }
        if (Has("master"))
        {
            // pool-list with any params: only pools have a master but no slaves (bonds' were told above).
            return XeKind.Pool;
        }
        if (Has("after-apply-guidance") || (Has("hosts") && Has("size")))
        {
            return XeKind.Patch;
        }
        if (Has("hosts") && Has("version"))
        {
            return XeKind.Update;
        }
        if (Has("name-description") && Has("name-label") && _fields.Count == 3)
        {
            // Plain `xe host-list` prints exactly uuid, name-label and name-description; sr-list and network-list
            // add their own fields (type, bridge…) to these three.
            return XeKind.Host;
        }
        return XeKind.Unknown;
    }

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

    private int? IntField(string key) => Field(key) is { } v && int.TryParse(v, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int n) ? n : null;

    private long? LongField(string key) => Field(key) is { } v && long.TryParse(v, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long n) ? n : null;

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
