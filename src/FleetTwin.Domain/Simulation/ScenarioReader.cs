using System.Globalization;
using FleetTwin.Domain.Drivers;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FleetTwin.Domain.Simulation;

/// <summary>A scenario file that cannot be run: names the file, line and column, the field's path and what is wrong.</summary>
public sealed class ScenarioException(string source, long line, long column, string field, string problem)
    : Exception($"{source}:{line}:{column}: {field}: {problem}")
{
    public string SourceName { get; } = source;
    public long Line { get; } = line;
    public long Column { get; } = column;
    public string Field { get; } = field;
    public string Problem { get; } = problem;
}

/// <summary>
/// Reads a scenario from YAML or JSON (JSON is read as the YAML subset it is, so both get the same positions and
/// errors). Every field is checked: unknown fields, wrong types, out-of-range values and references to pools, hosts,
/// NICs and networks that do not exist are errors naming the field path (<c>pools[0].nics[1].mtu</c>) and where it is
/// in the file. The format is documented in docs/simulation.md.
/// </summary>
public static class ScenarioReader
{
    public static Scenario ReadFile(string path, DriverProfiles? profiles = null)
    {
        using var reader = new StreamReader(path);
        return Read(reader, Path.GetFileName(path), profiles);
    }

    public static Scenario Read(TextReader text, string sourceName, DriverProfiles? profiles = null)
    {
        var yaml = new YamlStream();
        try
        {
            yaml.Load(text);
        }
        catch (YamlException e)
        {
            throw new ScenarioException(sourceName, e.Start.Line, e.Start.Column, "(syntax)", e.Message);
        }
        if (yaml.Documents.Count != 1)
            throw new ScenarioException(sourceName, 1, 1, "(document)", $"expected one scenario document, found {yaml.Documents.Count}");
        var root = new Node(sourceName, "", yaml.Documents[0].RootNode);
        return new Builder(profiles ?? DriverProfiles.Embedded).Scenario(root);
    }

    /// <summary>Parses a duration: seconds as a number, or with a unit: <c>90s</c>, <c>15m</c>, <c>6h</c>, <c>7d</c>.</summary>
    public static bool TryParseDuration(string text, out double seconds)
    {
        seconds = 0;
        text = text.Trim();
        if (text.Length == 0)
            return false;
        var unit = char.ToLowerInvariant(text[^1]);
        var scale = unit switch { 's' => 1.0, 'm' => 60.0, 'h' => 3600.0, 'd' => 86400.0, _ => 0 };
        var number = scale == 0 ? text : text[..^1];
        if (scale == 0)
            scale = 1;
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || double.IsInfinity(value))
            return false;
        seconds = value * scale;
        return true;
    }

    /// <summary>A YAML node with its field path, for errors.</summary>
    private sealed class Node(string source, string path, YamlNode yaml)
    {
        public string Path { get; } = path;
        public YamlNode Yaml { get; } = yaml;
        public string Position => $"{Yaml.Start.Line}:{Yaml.Start.Column}";

        public ScenarioException Error(string problem) =>
            new(source, Yaml.Start.Line, Yaml.Start.Column, Path.Length == 0 ? "(root)" : Path, problem);

        public Node Child(string key, YamlNode node) => new(source, Path.Length == 0 ? key : $"{Path}.{key}", node);

        public Node Item(int index, YamlNode node) => new(source, $"{Path}[{index}]", node);

        public Fields Map(params string[] allowed)
        {
            if (Yaml is not YamlMappingNode map)
                throw Error("expected a mapping of fields");
            var fields = new Dictionary<string, Node>(StringComparer.Ordinal);
            foreach (var (k, v) in map.Children)
            {
                var key = ((k as YamlScalarNode)?.Value) ?? throw Child("?", k).Error("field names must be plain text");
                var child = Child(key, v);
                if (Array.IndexOf(allowed, key) < 0)
                    throw child.Error($"unknown field '{key}' (allowed here: {string.Join(", ", allowed)})");
                fields[key] = child;
            }
            return new Fields(this, fields);
        }

        public IReadOnlyList<Node> Sequence()
        {
            if (Yaml is not YamlSequenceNode seq)
                throw Error("expected a list");
            var items = new List<Node>(seq.Children.Count);
            for (var i = 0; i < seq.Children.Count; i++)
                items.Add(Item(i, seq.Children[i]));
            return items;
        }

        public string Text()
        {
            if (Yaml is not YamlScalarNode { Value: { } value })
                throw Error("expected a value, not a list or mapping");
            return value;
        }

        public double Number(double min, double max)
        {
            var text = Text();
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                throw Error($"'{text}' is not a number");
            if (value < min || value > max)
                throw Error($"{text} is out of range {min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}");
            return value;
        }

        public int Integer(int min, int max)
        {
            var text = Text();
            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
                throw Error($"'{text}' is not a whole number");
            if (value < min || value > max)
                throw Error($"{text} is out of range {min}..{max}");
            return value;
        }

        public bool Boolean()
        {
            var text = Text();
            return text.ToLowerInvariant() switch
            {
                "true" or "on" or "yes" => true,
                "false" or "off" or "no" => false,
                _ => throw Error($"'{text}' is not on/off (true/false)"),
            };
        }

        public double Duration()
        {
            var text = Text();
            if (!TryParseDuration(text, out var seconds))
                throw Error($"'{text}' is not a duration (seconds, or a number with s, m, h or d)");
            return seconds;
        }

        public T Enum<T>() where T : struct, System.Enum
        {
            var text = Text();
            if (!System.Enum.TryParse<T>(text, ignoreCase: true, out var value) || !System.Enum.IsDefined(value) || int.TryParse(text, out _))
                throw Error($"'{text}' is not one of {string.Join(", ", System.Enum.GetNames<T>().Select(n => char.ToLowerInvariant(n[0]) + n[1..]))}");
            return value;
        }
    }

    private sealed class Fields(Node owner, Dictionary<string, Node> fields)
    {
        public Node Owner { get; } = owner;

        public Node Required(string key) => fields.GetValueOrDefault(key) ?? throw Owner.Error($"missing required field '{key}'");

        public Node? Optional(string key) => fields.GetValueOrDefault(key);
    }

    private sealed class Builder(DriverProfiles profiles)
    {
        public Scenario Scenario(Node root)
        {
            var f = root.Map("name", "seed", "duration", "engine", "stepSeconds", "pools", "hostFailures", "interventions");
            var name = f.Required("name").Text();
            var seed = f.Optional("seed")?.Integer(int.MinValue, int.MaxValue) ?? 1;
            var durationNode = f.Required("duration");
            var duration = durationNode.Duration();
            if (duration < 60 || duration > 366 * 86400.0)
                throw durationNode.Error("must be between 1 minute and 366 days");
            var engine = f.Optional("engine")?.Enum<SimulationEngineKind>() ?? SimulationEngineKind.Fast;
            var step = f.Optional("stepSeconds")?.Integer(1, 3600) ?? 60;
            var poolsNode = f.Required("pools");
            var pools = poolsNode.Sequence().Select(Pool).ToList();
            if (pools.Count == 0)
                throw poolsNode.Error("a scenario needs at least one pool");
            Unique(pools.Select((p, i) => (p.Name, poolsNode.Sequence()[i])), "pool name");
            var hostNames = new Dictionary<string, PoolSpec>(StringComparer.Ordinal);
            foreach (var pool in pools)
            {
                foreach (var host in pool.HostNames)
                {
                    if (!hostNames.TryAdd(host, pool))
                        throw poolsNode.Error($"host name '{host}' appears in pool '{hostNames[host].Name}' and pool '{pool.Name}'");
                }
            }

            var failures = f.Optional("hostFailures")?.Sequence().Select(n =>
            {
                var ff = n.Map("host", "at");
                var hostNode = ff.Required("host");
                var host = hostNode.Text();
                if (!hostNames.ContainsKey(host))
                    throw hostNode.Error($"no host '{host}' in the scenario's pools");
                return new HostFailureSpec(host, ff.Required("at").Duration(), n.Position);
            }).ToList() ?? [];

            var interventions = f.Optional("interventions")?.Sequence().Select(n => Intervention(n, pools)).ToList() ?? [];
            return new Scenario(name, seed, duration, engine, step, pools, failures, interventions, root.Position);
        }

        private PoolSpec Pool(Node node)
        {
            var f = node.Map("name", "hosts", "hostNames", "hostNamePrefix", "release", "swiotlbMiB", "vmsPerHost", "rebootMinutes", "nics", "bonds", "networks", "vmStarts");
            var name = f.Required("name").Text();
            IReadOnlyList<string> hosts;
            if (f.Optional("hostNames") is { } namesNode)
            {
                hosts = namesNode.Sequence().Select(n => n.Text()).ToList();
                if (hosts.Count == 0)
                    throw namesNode.Error("a pool needs at least one host");
                if (f.Optional("hosts") is { } count && count.Integer(1, 1_000_000) != hosts.Count)
                    throw count.Error($"says {count.Text()} hosts but hostNames lists {hosts.Count}");
            }
            else
            {
                var count = f.Required("hosts").Integer(1, 1_000_000);
                var prefix = f.Optional("hostNamePrefix")?.Text() ?? name + "-h";
                hosts = Enumerable.Range(1, count).Select(i => prefix + i.ToString("D3", CultureInfo.InvariantCulture)).ToList();
            }
            var release = f.Optional("release")?.Text() ?? "6.2 SP1";
            var mib = f.Optional("swiotlbMiB")?.Integer(1, 4096) ?? 64;
            var vms = f.Optional("vmsPerHost")?.Integer(0, 1000) ?? 20;
            var reboot = f.Optional("rebootMinutes")?.Integer(1, 24 * 60) ?? 10;

            var nicsNode = f.Required("nics");
            var nics = nicsNode.Sequence().Select(Nic).ToList();
            if (nics.Count == 0)
                throw nicsNode.Error("a host needs at least one NIC");
            Unique(nics.Select((n, i) => (n.Device, nicsNode.Sequence()[i])), "NIC device");
            Unique(nics.Select((n, i) => (n.BusId, nicsNode.Sequence()[i])), "NIC busId");

            var networksNode = f.Required("networks");
            var networks = networksNode.Sequence().Select(Network).ToList();
            Unique(networks.Select((n, i) => (n.Name, networksNode.Sequence()[i])), "network name");

            var bonds = new List<BondSpec>();
            var carried = new HashSet<string>(StringComparer.Ordinal);
            if (f.Optional("bonds") is { } bondsNode)
            {
                foreach (var b in bondsNode.Sequence())
                {
                    var bf = b.Map("name", "members", "networks");
                    var membersNode = bf.Required("members");
                    var members = membersNode.Sequence().Select(m =>
                    {
                        var device = m.Text();
                        return nics.Any(n => n.Device == device) ? device : throw m.Error($"no NIC '{device}' in this pool's nics");
                    }).ToList();
                    if (members.Count == 0)
                        throw membersNode.Error("a bond needs members");
                    var nets = bf.Required("networks").Sequence().Select(m =>
                    {
                        var net = m.Text();
                        if (networks.All(n => n.Name != net))
                            throw m.Error($"no network '{net}' in this pool's networks");
                        if (!carried.Add(net))
                            throw m.Error($"network '{net}' is already carried by another bond");
                        return net;
                    }).ToList();
                    bonds.Add(new BondSpec(bf.Required("name").Text(), members, nets));
                }
            }
            var unbonded = networks.Where(n => !carried.Contains(n.Name)).Select(n => n.Name).ToList();
            if (unbonded.Count > 0)
                throw networksNode.Error($"network(s) {string.Join(", ", unbonded)} are carried by no bond (put a single NIC in a one-member bond)");
            var starts = f.Optional("vmStarts") is { } vs ? VmStarts(vs) : VmStartSpec.Default;
            return new PoolSpec(name, hosts, release, mib, vms, reboot, nics, bonds, networks, starts);
        }

        private NicSpec Nic(Node node)
        {
            var f = node.Map("device", "busId", "driver", "mtu", "gro", "rxRing", "rxQueues");
            var driverNode = f.Required("driver");
            var driver = profiles.Find(driverNode.Text()) ?? throw driverNode.Error($"no driver profile for '{driverNode.Text()}' (known: {string.Join(", ", profiles.Drivers)})");
            var busNode = f.Required("busId");
            var bus = busNode.Text();
            if (!System.Text.RegularExpressions.Regex.IsMatch(bus, "^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]$"))
                throw busNode.Error($"'{bus}' is not a PCI bus id like 0000:04:00.1");
            return new NicSpec(f.Required("device").Text(), bus, driver, f.Optional("mtu")?.Integer(68, 65535) ?? 1500,
                f.Optional("gro")?.Boolean() ?? false, f.Optional("rxRing")?.Integer(1, 65536), f.Optional("rxQueues")?.Integer(1, 64));
        }

        private static NetworkSpec Network(Node node)
        {
            var f = node.Map("name", "kind", "txPacketsPerSecondPerVm", "diurnal", "bursts", "txSizeMix");
            var diurnal = DiurnalSpec.Flat;
            if (f.Optional("diurnal") is { } d)
            {
                var df = d.Map("peakHour", "troughFactor");
                diurnal = new DiurnalSpec(df.Optional("peakHour")?.Number(0, 24) ?? 0, df.Optional("troughFactor")?.Number(0, 1) ?? 1);
            }
            var bursts = BurstSpec.None;
            if (f.Optional("bursts") is { } b)
            {
                var bf = b.Map("everySeconds", "lengthSeconds", "factor");
                var every = bf.Required("everySeconds").Integer(1, 86400);
                var lengthNode = bf.Required("lengthSeconds");
                var length = lengthNode.Integer(0, 86400);
                if (length > every)
                    throw lengthNode.Error($"a burst of {length} s cannot be longer than its period of {every} s");
                bursts = new BurstSpec(every, length, bf.Required("factor").Number(1, 1000));
            }
            List<TxSizeBand>? mix = null;
            if (f.Optional("txSizeMix") is { } m)
            {
                mix = m.Sequence().Select(band =>
                {
                    var bf = band.Map("minBytes", "maxBytes", "weight", "what");
                    var min = bf.Required("minBytes").Integer(1, 65536);
                    var maxNode = bf.Required("maxBytes");
                    var max = maxNode.Integer(1, 65536);
                    if (max < min)
                        throw maxNode.Error($"maxBytes {max} is below minBytes {min}");
                    return new TxSizeBand(min, max, bf.Required("weight").Number(0, 1e9), bf.Optional("what")?.Text());
                }).ToList();
                if (mix.Count == 0 || mix.Sum(x => x.Weight) <= 0)
                    throw m.Error("a size mix needs at least one band with a positive weight");
            }
            return new NetworkSpec(f.Required("name").Text(), f.Optional("kind")?.Enum<TrafficKind>() ?? TrafficKind.Vm,
                f.Required("txPacketsPerSecondPerVm").Number(0, 10_000_000), diurnal, bursts, mix);
        }

        private static VmStartSpec VmStarts(Node node)
        {
            var f = node.Map("steadyPerHostPerHour", "bursts", "stormAfterHostFailure", "stormMinutes", "bootBoostMinutes", "bootBoostFactor");
            var d = VmStartSpec.Default;
            var bursts = f.Optional("bursts")?.Sequence().Select(b =>
            {
                var bf = b.Map("at", "vmsPerHost");
                return new VmStartBurst(bf.Required("at").Duration(), bf.Required("vmsPerHost").Integer(1, 1000));
            }).ToList() ?? [];
            return new VmStartSpec(f.Optional("steadyPerHostPerHour")?.Number(0, 3600) ?? d.SteadyPerHostPerHour, bursts,
                f.Optional("stormAfterHostFailure")?.Boolean() ?? d.StormAfterHostFailure, f.Optional("stormMinutes")?.Integer(1, 1440) ?? d.StormMinutes,
                f.Optional("bootBoostMinutes")?.Integer(0, 1440) ?? d.BootBoostMinutes, f.Optional("bootBoostFactor")?.Number(1, 100) ?? d.BootBoostFactor);
        }

        private static InterventionSpec Intervention(Node node, List<PoolSpec> pools)
        {
            var f = node.Map("label", "at", "action", "pool", "fraction", "minutesPerHost", "bond", "network", "mtu", "swiotlbMiB");
            var action = f.Required("action").Enum<InterventionAction>();
            var poolNode = f.Required("pool");
            var pool = pools.FirstOrDefault(p => p.Name == poolNode.Text()) ?? throw poolNode.Error($"no pool '{poolNode.Text()}' in the scenario");
            var bond = f.Optional("bond");
            if (bond is not null && pool.Bonds.All(b => b.Name != bond.Text()))
                throw bond.Error($"pool '{pool.Name}' has no bond '{bond.Text()}'");
            var network = f.Optional("network");
            if (network is not null && pool.Networks.All(n => n.Name != network.Text()))
                throw network.Error($"pool '{pool.Name}' has no network '{network.Text()}'");
            var mtu = f.Optional("mtu")?.Integer(68, 65535);
            var mib = f.Optional("swiotlbMiB")?.Integer(1, 4096);
            if (action == InterventionAction.SetMtu && mtu is null)
                throw f.Owner.Error("action setMtu needs 'mtu'");
            if (action == InterventionAction.SetSwiotlb && mib is null)
                throw f.Owner.Error("action setSwiotlb needs 'swiotlbMiB'");
            var at = f.Required("at").Duration();
            var label = f.Optional("label")?.Text() ?? $"{char.ToLowerInvariant(action.ToString()[0])}{action.ToString()[1..]} on {pool.Name}";
            return new InterventionSpec(label, at, action, pool.Name, f.Optional("fraction")?.Number(0, 1) ?? 1.0,
                f.Optional("minutesPerHost")?.Integer(0, 1440) ?? 20, bond?.Text(), network?.Text(), mtu, mib, node.Position);
        }

        private static void Unique(IEnumerable<(string Name, Node Node)> items, string what)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, node) in items)
            {
                if (!seen.Add(name))
                    throw node.Error($"duplicate {what} '{name}'");
            }
        }
    }
}
