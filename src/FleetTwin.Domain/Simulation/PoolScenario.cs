using System.Globalization;
using FleetTwin.Domain.Drivers;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Prediction;

namespace FleetTwin.Domain.Simulation;

/// <summary>One what-if setting for a host of the pool (empty host: every host): <c>gro</c>, <c>mtu</c> or <c>swiotlb</c>.</summary>
public sealed record SettingChange(string? Host, string Setting, string Value);

/// <summary>
/// The traffic of a pool built from the twin. No log carries traffic, so these are documented defaults: the figures of
/// docs/scenarios/kb-incident-pool.yaml (the KB incident's pool), each overridable.
/// </summary>
public sealed record PoolTraffic
{
    /// <summary>VMs per host when the twin has read no xe vm-list for the host (the KB pool file's density).</summary>
    public const int DefaultVmsPerHost = 24;

    /// <summary>Every host's VMs; null: each host's resident VMs when the twin knows them, else <see cref="DefaultVmsPerHost"/>.</summary>
    public int? VmsPerHost { get; init; }

    /// <summary>Storage network transmit packets per second per running VM at the diurnal peak, summed over the bond's ports.</summary>
    public double StorageTxPacketsPerSecondPerVm { get; init; } = 20_000;

    /// <summary>Guest (VM) network transmit packets per second per running VM, on each bond that does not carry storage.</summary>
    public double VmTxPacketsPerSecondPerVm { get; init; } = 500;

    /// <summary>Storage traffic peaks at 14:00 and falls to 0.6 of the peak twelve hours away (the KB pool's afternoon peak).</summary>
    public DiurnalSpec StorageDiurnal { get; init; } = new(14, 0.6);

    /// <summary>Storage flushes: 4 s at 4x every minute.</summary>
    public BurstSpec StorageBursts { get; init; } = new(60, 4, 4);

    /// <summary>
    /// VM starts as in the KB pool file: one a host an hour, the pool filling up by one VM a host every two hours for
    /// the first twelve hours, HA restart storms over 10 minutes, each start boosting storage 1.2x for 5 minutes.
    /// </summary>
    public VmStartSpec VmStarts { get; init; } = new(1, [.. Enumerable.Range(1, 6).Select(i => new VmStartBurst(i * 2 * 3600.0, 1))], true, 10, 5, 1.2);
}

/// <summary>What to simulate for a pool the twin knows: how long, which seed, which traffic, which changes.</summary>
public sealed record PoolScenarioRequest
{
    /// <summary>Simulated hours, <see cref="PoolScenario.MinHours"/>..<see cref="PoolScenario.MaxHours"/>.</summary>
    public double Hours { get; init; } = PoolScenario.DefaultHours;

    public int Seed { get; init; } = 1;

    public PoolTraffic Traffic { get; init; } = new();

    public IReadOnlyList<SettingChange> Changes { get; init; } = [];
}

/// <summary>A what-if request that cannot be run as asked: names the field (<c>changes[1].value</c>) and what is wrong.</summary>
public sealed class PoolScenarioException(string field, string problem) : Exception($"{field}: {problem}")
{
    public string Field { get; } = field;
    public string Problem { get; } = problem;
}

/// <summary>The twin does not know enough about the pool to simulate it; the message says which xe/ethtool output to ingest.</summary>
public sealed class PoolFactsMissingException(string message) : Exception(message);

/// <summary>
/// A scenario of one pool as the twin knows it (fleet inventory + host states), with the what-if changes as
/// interventions that hold from the start (<see cref="InterventionSpec.FromStart"/>). Baseline = the scenario without
/// its interventions; what-if = with them; same seeds. Rules (docs/simulation.md, "What-if runs on the live twin"):
/// <list type="bullet">
/// <item>Hosts of a pool are modelled alike (a <see cref="PoolSpec"/> is per pool): the NIC/bond layout, MTU, GRO,
/// dom0 swiotlb and release are the pool master's (else the first host by name with NIC facts); hosts that differ
/// are named in <see cref="Assumptions"/>. Only the running VMs differ per host.</item>
/// <item>A NIC is modelled when the twin knows its driver (with a profile) and PCI bus id (<c>ethtool -i</c>);
/// others are left out and named (at MTU 1500 their RX buffers fit a page and never bounce).</item>
/// <item>Storage is the bond (or single NIC) with the largest jumbo MTU (ties: more members, then name): iSCSI/NFS
/// networks are the ones run at MTU 9000, as in the KB pool. Without a jumbo interface, the largest bond that does
/// not carry management; else the first interface. Every other bond carries its own VM network.</item>
/// <item>Engine: exact (the allocator second by second) up to <see cref="ExactEngineMaxHosts"/> hosts, fast above.</item>
/// </list>
/// </summary>
public sealed record PoolScenario(
    Scenario Scenario,
    string LayoutHost,
    string StorageBond,
    PoolTraffic Traffic,
    IReadOnlyList<SettingChange> Changes,
    IReadOnlyList<string> Assumptions)
{
    public const double DefaultHours = 24;

    /// <summary>One simulation step.</summary>
    public const double MinHours = 1.0 / 60;

    /// <summary>
    /// A week. The exact engine runs about 16,000 host-seconds per wall second, so a 16-host pool takes about 20 minutes
    /// for a week (baseline and what-if); longer what-ifs belong in a scenario file.
    /// </summary>
    public const double MaxHours = 168;

    /// <summary>Pools up to this many hosts run the exact allocator; larger ones the fast (hazard table) engine.</summary>
    public const int ExactEngineMaxHosts = 16;

    /// <summary>The settings a what-if can change.</summary>
    public static readonly IReadOnlyList<string> Settings = ["gro", "mtu", "swiotlb"];

    public PoolSpec Pool => Scenario.Pools[0];

    /// <summary>Builds the scenario of <paramref name="pool"/>; throws <see cref="PoolScenarioException"/> for bad input, <see cref="PoolFactsMissingException"/> when the twin lacks facts.</summary>
    public static PoolScenario From(FleetInventory inventory, InventoryPool pool, IReadOnlyDictionary<string, HostState>? states,
        PoolScenarioRequest request, DriverProfiles? profiles = null)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(request);
        profiles ??= DriverProfiles.Embedded;
        states ??= new Dictionary<string, HostState>();
        CheckRequest(request);
        var poolName = pool.Name ?? pool.Uuid;
        var hosts = inventory.HostsOf(pool);
        if (hosts.Count == 0)
            throw new PoolFactsMissingException($"the twin knows pool '{poolName}' but none of its hosts: ingest `xe host-list params=all` run on the pool master");
        var hostNames = hosts.Select(h => h.Name).ToList();
        var assumptions = new List<string>();

        var (layoutHost, nics, leftOut) = Layout(inventory, pool, hosts, profiles)
            ?? throw new PoolFactsMissingException(
                $"the twin knows no NIC it can model on any host of pool '{poolName}' ({string.Join(", ", hostNames)}): ingest `xe pif-list params=all` and " +
                "`xe bond-list params=all` from the pool master and `ethtool -i ethN` and `ethtool -k ethN` for each NIC of each host (a NIC is modelled once its driver and PCI bus id are known)");
        var master = inventory.MasterOf(pool);
        assumptions.Add(layoutHost.Name == master?.Name
            ? $"hosts are modelled alike: NIC/bond layout, MTU, GRO and dom0 swiotlb of the pool master {layoutHost.Name}"
            : $"hosts are modelled alike: NIC/bond layout, MTU, GRO and dom0 swiotlb of {layoutHost.Name} ({(master is null ? "the pool master is not known" : $"the twin knows no modellable NIC of the pool master {master.Name}")}; first host by name with NIC facts)");
        assumptions.AddRange(leftOut);

        var groups = Groups(inventory, layoutHost, nics);
        var storage = StorageGroup(groups, out var why);
        assumptions.Add($"storage traffic on {Describe(storage)}: {why}");
        if (!groups.Any(g => g.IsBond) && groups.Count(g => g.Mtu > 1500) > 1)
            assumptions.Add($"no bond known on {layoutHost.Name} (xe pif-list params=all and xe bond-list not read): each NIC is modelled on its own and only {storage.Name} carries storage; ingest them to model the bond");

        var state = states.GetValueOrDefault(layoutHost.Name);
        var swiotlb = layoutHost.SwiotlbMiB ?? state?.SwiotlbMiB;
        if (swiotlb is not { } mib || mib is < 1 or > 4096)
        {
            assumptions.Add(swiotlb is null
                ? $"dom0 swiotlb of {layoutHost.Name} {(layoutHost.CommandLineKnown ? "not on its command line" : "unknown (no /proc/cmdline or xen-cmdline read)")}: the 64 MiB default"
                : $"dom0 swiotlb={swiotlb} MiB of {layoutHost.Name} is outside 1..4096 MiB: the 64 MiB default");
            mib = 64;
        }
        var release = layoutHost.Release ?? state?.XenServerRelease ?? "unknown";
        assumptions.AddRange(Differences(inventory, hosts, layoutHost, states, profiles));

        var traffic = request.Traffic;
        var vms = new Dictionary<string, int>(StringComparer.Ordinal);
        var vmsSource = new List<string>();
        foreach (var host in hosts)
        {
            int count;
            string source;
            if (traffic.VmsPerHost is { } forced)
                (count, source) = (forced, "as asked");
            else if (inventory.VmsKnownFor(host))
                (count, source) = (inventory.VmsOn(host).Count, "xe vm-list");
            else if (states.GetValueOrDefault(host.Name) is { ResidentVmMemory.Count: > 0 } hostState)
                (count, source) = (hostState.ResidentVmMemory.Count, "xe vm-list");
            else
                (count, source) = (PoolTraffic.DefaultVmsPerHost, "default");
            vms[host.Name] = count;
            vmsSource.Add(string.Create(CultureInfo.InvariantCulture, $"{host.Name} {count} ({source})"));
        }
        assumptions.Add("running VMs per host at the start: " + string.Join(", ", vmsSource));

        var networks = new List<NetworkSpec> { new("storage", TrafficKind.Storage, traffic.StorageTxPacketsPerSecondPerVm, traffic.StorageDiurnal, traffic.StorageBursts, null) };
        var bonds = new List<BondSpec>();
        foreach (var group in groups)
        {
            var network = group == storage ? "storage" : "vm-" + group.Name;
            if (group != storage)
                networks.Add(new NetworkSpec(network, TrafficKind.Vm, traffic.VmTxPacketsPerSecondPerVm, DiurnalSpec.Flat, BurstSpec.None, null));
            bonds.Add(new BondSpec(group.Name, [.. group.Members.Select(m => m.Device)], [network]));
        }
        // The pool's reference density (fast-engine calibration point): the mean start density, at least one VM.
        var reference = Math.Max(1, (int)Math.Round(vms.Values.Average()));
        var poolSpec = new PoolSpec(poolName, hostNames, release, mib, reference, 10, [.. nics.Select(n => n.Spec)], bonds, networks, traffic.VmStarts)
        {
            VmsOnHost = vms,
        };
        var changes = Interventions(request.Changes, poolSpec, storage, hostNames);
        var engine = hosts.Count <= ExactEngineMaxHosts ? SimulationEngineKind.Exact : SimulationEngineKind.Fast;
        var scenario = new Scenario($"what-if {poolName}", request.Seed, request.Hours * 3600, engine, 60, [poolSpec], [], changes, "twin");
        return new PoolScenario(scenario, layoutHost.Name, storage.Name, traffic, request.Changes, assumptions);
    }

    /// <summary>Runs the baseline (the pool as the twin knows it) and, when there are changes, the what-if; same seeds.</summary>
    /// <param name="progress">Which run ("baseline" or "what-if") and the share of both runs done, 0..1.</param>
    public PoolWhatIf Run(Action<string, double>? progress = null, CancellationToken cancellationToken = default)
    {
        var runs = Scenario.Interventions.Count > 0 ? 2 : 1;
        var options = new SimulationOptions
        {
            KeepRecords = false,
            Calibrations = new HazardCache(Scenario.Seed),
            CancellationToken = cancellationToken,
        };
        var baseline = FleetSimulation.Run(Scenario, options with { ApplyInterventions = false, Progress = done => progress?.Invoke("baseline", Math.Min(1, done) / runs) });
        var whatIf = runs == 2
            ? FleetSimulation.Run(Scenario, options with { ApplyInterventions = true, Progress = done => progress?.Invoke("what-if", (1 + Math.Min(1, done)) / 2) })
            : null;
        return new PoolWhatIf(this, baseline, whatIf);
    }

    /// <summary>The changes as one line: "gro=on on every host, swiotlb=128 on bn2-3c16-ix-4104".</summary>
    public string ChangesText => Changes.Count == 0 ? "no changes" : string.Join(", ", Scenario.Interventions.Select(i => i.Label));

    private static void CheckRequest(PoolScenarioRequest request)
    {
        if (!double.IsFinite(request.Hours) || request.Hours < MinHours || request.Hours > MaxHours)
            throw new PoolScenarioException("hours", string.Create(CultureInfo.InvariantCulture,
                $"{request.Hours} is out of range: one minute ({MinHours:0.####}) to {MaxHours} hours"));
        var t = request.Traffic;
        if (t.VmsPerHost is < 0 or > 1000)
            throw new PoolScenarioException("traffic.vms_per_host", string.Create(CultureInfo.InvariantCulture, $"{t.VmsPerHost} is out of range 0..1000"));
        if (!double.IsFinite(t.StorageTxPacketsPerSecondPerVm) || t.StorageTxPacketsPerSecondPerVm is < 0 or > 10_000_000)
            throw new PoolScenarioException("traffic.storage_tx_packets_per_second_per_vm", string.Create(CultureInfo.InvariantCulture, $"{t.StorageTxPacketsPerSecondPerVm} is out of range 0..10000000"));
        if (!double.IsFinite(t.VmTxPacketsPerSecondPerVm) || t.VmTxPacketsPerSecondPerVm is < 0 or > 10_000_000)
            throw new PoolScenarioException("traffic.vm_tx_packets_per_second_per_vm", string.Create(CultureInfo.InvariantCulture, $"{t.VmTxPacketsPerSecondPerVm} is out of range 0..10000000"));
    }

    /// <summary>A NIC the simulation can model, with where its facts came from.</summary>
    private sealed record ModelledNic(NicSpec Spec, NicConfiguration Facts)
    {
        public string Device => Spec.Device;
    }

    /// <summary>A bond (or a NIC on its own, as a one-member bond) of the layout host.</summary>
    private sealed record NicGroup(string Name, IReadOnlyList<ModelledNic> Members, bool IsBond, bool CarriesManagement)
    {
        public int Mtu => Members.Max(m => m.Spec.Mtu);
    }

    /// <summary>The layout host (master first, then by name) with its modellable NICs and what was left out, or null.</summary>
    private static (InventoryHost Host, List<ModelledNic> Nics, List<string> LeftOut)? Layout(FleetInventory inventory, InventoryPool pool,
        IReadOnlyList<InventoryHost> hosts, DriverProfiles profiles)
    {
        var master = inventory.MasterOf(pool);
        var order = hosts.OrderBy(h => h.Name == master?.Name ? 0 : 1).ThenBy(h => h.Name, StringComparer.Ordinal);
        foreach (var host in order)
        {
            var configuration = HostConfiguration.From(inventory, host, profiles);
            var nics = new List<ModelledNic>();
            var leftOut = new List<string>();
            var notes = new List<string>();
            foreach (var nic in configuration.Nics)
            {
                var profile = nic.Profile;
                if (profile is null || nic.BusId is null)
                {
                    leftOut.Add(nic.Driver is not null && profile is null
                        ? $"{nic.Device} left out: driver '{nic.Driver}' has no profile (known: {string.Join(", ", profiles.Drivers.Order(StringComparer.Ordinal))})"
                        : $"{nic.Device} left out: driver and PCI bus id unknown (ethtool -i {nic.Device} on {host.Name} not read){(nic.Mtu is > NicConfiguration.PageSizedMtu ? $"; at MTU {nic.Mtu} its RX may bounce" : "")}");
                    continue;
                }
                var mtu = nic.Mtu ?? 1500;
                if (nic.Mtu is null)
                    notes.Add($"{nic.Device} MTU unknown (no xe pif-list or ip link): 1500");
                var gro = nic.GroOn ?? false;
                if (nic.GroOn is null)
                    notes.Add($"{nic.Device} GRO unknown (ethtool -k {nic.Device} on {host.Name} not read): off, as on XenServer before 6.5");
                nics.Add(new ModelledNic(new NicSpec(nic.Device, nic.BusId, profile, Math.Clamp(mtu, 68, 65535), gro, null, null), nic));
            }
            if (nics.Count > 0)
                return (host, nics, [.. leftOut, .. notes]);
        }
        return null;
    }

    /// <summary>The layout host's bonds (members that are modelled) and its unbonded NICs, each a group.</summary>
    private static List<NicGroup> Groups(FleetInventory inventory, InventoryHost host, List<ModelledNic> nics)
    {
        var pifs = inventory.NicsOf(host);
        bool Management(string device) => pifs.Any(p => p.Device == device && p.Pif?.Management == true);
        var groups = new List<NicGroup>();
        foreach (var bond in nics.Where(n => n.Facts.Bond is not null).GroupBy(n => n.Facts.Bond!))
        {
            // The bond's own PIF carries the management address when management is on the bond.
            var bondPif = pifs.FirstOrDefault(p => p.Pif?.BondMasterOf == bond.Key);
            var name = bondPif?.Device ?? "bond-" + bond.Key[..Math.Min(8, bond.Key.Length)];
            groups.Add(new NicGroup(name, [.. bond.OrderBy(n => n.Device, StringComparer.Ordinal)], true,
                bondPif?.Pif?.Management == true || bond.Any(n => Management(n.Device))));
        }
        foreach (var nic in nics.Where(n => n.Facts.Bond is null))
            groups.Add(new NicGroup(nic.Device, [nic], false, Management(nic.Device)));
        return [.. groups.OrderBy(g => g.Members[0].Device, StringComparer.Ordinal)];
    }

    /// <summary>The group that carries storage (rule in the type's summary), and why.</summary>
    private static NicGroup StorageGroup(List<NicGroup> groups, out string why)
    {
        var jumbo = groups.Where(g => g.Mtu > 1500).OrderByDescending(g => g.Mtu).ThenByDescending(g => g.Members.Count)
            .ThenBy(g => g.Name, StringComparer.Ordinal).FirstOrDefault();
        if (jumbo is not null)
        {
            why = string.Create(CultureInfo.InvariantCulture, $"the interface at jumbo MTU {jumbo.Mtu} (iSCSI/NFS networks run jumbo frames)");
            return jumbo;
        }
        var bond = groups.Where(g => !g.CarriesManagement).OrderByDescending(g => g.Members.Count).ThenBy(g => g.Name, StringComparer.Ordinal).FirstOrDefault();
        if (bond is not null)
        {
            why = "no jumbo-MTU interface; the largest interface that does not carry management";
            return bond;
        }
        why = "no jumbo-MTU interface and none without management; the first interface";
        return groups[0];
    }

    private static string Describe(NicGroup group) =>
        group.IsBond ? $"{group.Name} ({string.Join("+", group.Members.Select(m => m.Device))})" : group.Name;

    /// <summary>Hosts whose known configuration differs from the layout host's (they are modelled like it anyway).</summary>
    private static IEnumerable<string> Differences(FleetInventory inventory, IReadOnlyList<InventoryHost> hosts, InventoryHost layout,
        IReadOnlyDictionary<string, HostState> states, DriverProfiles profiles)
    {
        var reference = HostConfiguration.From(inventory, layout, profiles);
        foreach (var host in hosts)
        {
            if (host.Name == layout.Name)
                continue;
            var other = HostConfiguration.From(inventory, host, profiles);
            var differs = new List<string>();
            foreach (var nic in other.Nics)
            {
                var mine = reference.Nics.FirstOrDefault(n => n.Device == nic.Device);
                if (mine is null)
                    differs.Add($"{nic.Device} not on {layout.Name}");
                else if (nic.Mtu is { } mtu && mine.Mtu is { } m && mtu != m)
                    differs.Add(string.Create(CultureInfo.InvariantCulture, $"{nic.Device} MTU {mtu}"));
                else if (nic.GroOn is { } gro && mine.GroOn is { } g && gro != g)
                    differs.Add($"{nic.Device} GRO {(gro ? "on" : "off")}");
            }
            var swiotlb = host.SwiotlbMiB ?? states.GetValueOrDefault(host.Name)?.SwiotlbMiB;
            var layoutSwiotlb = layout.SwiotlbMiB ?? states.GetValueOrDefault(layout.Name)?.SwiotlbMiB;
            if (swiotlb is not null && layoutSwiotlb is not null && swiotlb != layoutSwiotlb)
                differs.Add(string.Create(CultureInfo.InvariantCulture, $"swiotlb={swiotlb}"));
            if (differs.Count > 0)
                yield return $"{host.Name} differs from {layout.Name} ({string.Join(", ", differs)}) but is modelled like it; express the difference as a change";
        }
    }

    /// <summary>The changes as interventions that hold from the start, one per change, in request order (later ones win).</summary>
    private static List<InterventionSpec> Interventions(IReadOnlyList<SettingChange> changes, PoolSpec pool, NicGroup storage, IReadOnlyList<string> hosts)
    {
        var result = new List<InterventionSpec>();
        for (var i = 0; i < changes.Count; i++)
        {
            var change = changes[i];
            var field = string.Create(CultureInfo.InvariantCulture, $"changes[{i}]");
            var setting = (change.Setting ?? "").Trim().ToLowerInvariant();
            var value = (change.Value ?? "").Trim();
            string? host = string.IsNullOrEmpty(change.Host) ? null : change.Host;
            if (setting.Length == 0)
                throw new PoolScenarioException(field + ".setting", $"required ({string.Join(", ", Settings)})");
            if (!Settings.Contains(setting))
                throw new PoolScenarioException(field + ".setting", $"'{change.Setting}' is not a setting a what-if can change ({string.Join(", ", Settings)})");
            if (host is not null && !hosts.Contains(host))
                throw new PoolScenarioException(field + ".host", $"no host '{host}' in pool '{pool.Name}' (its hosts: {string.Join(", ", hosts)}; empty means every host)");
            var where = host is null ? "every host" : host;
            InterventionSpec spec = setting switch
            {
                "gro" => Gro(value, field, pool.Name, where),
                "mtu" => Mtu(value, field, pool.Name, where, storage),
                _ => Swiotlb(value, field, pool.Name, where),
            };
            result.Add(spec with { Hosts = host is null ? null : [host], FromStart = true });
        }
        return result;
    }

    private static InterventionSpec Gro(string value, string field, string pool, string where)
    {
        var on = value.ToLowerInvariant() switch
        {
            "on" or "true" or "yes" => true,
            "off" or "false" or "no" => false,
            _ => throw new PoolScenarioException(field + ".value", $"'{value}' is not on or off (gro)"),
        };
        // GRO on every NIC of the host, as the planner's ethtool-gro key on each PIF: at MTU 1500 it changes nothing.
        return new InterventionSpec($"gro={(on ? "on" : "off")} on {where}", 0, on ? InterventionAction.EnableGro : InterventionAction.DisableGro,
            pool, 1, 0, null, null, null, null, field);
    }

    private static InterventionSpec Mtu(string value, string field, string pool, string where, NicGroup storage)
    {
        // The limits the scenario reader applies (the kernel's ETH_MIN_MTU 68 .. 65535).
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var mtu) || mtu is < 68 or > 65535)
            throw new PoolScenarioException(field + ".value", $"'{value}' is not an MTU (a whole number 68..65535)");
        // The MTU question is the storage network's (jumbo frames): the storage bond's members get it.
        return new InterventionSpec(string.Create(CultureInfo.InvariantCulture, $"mtu={mtu} on {storage.Name} of {where}"), 0, InterventionAction.SetMtu,
            pool, 1, 0, storage.Name, null, mtu, null, field);
    }

    private static InterventionSpec Swiotlb(string value, string field, string pool, string where)
    {
        // The limits the scenario reader and SwiotlbPoolSize.FromMiB apply.
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var mib) || mib is < 1 or > 4096)
            throw new PoolScenarioException(field + ".value", $"'{value}' is not a swiotlb size in MiB (a whole number 1..4096)");
        return new InterventionSpec(string.Create(CultureInfo.InvariantCulture, $"swiotlb={mib} on {where}"), 0, InterventionAction.SetSwiotlb,
            pool, 1, 0, null, null, null, mib, field);
    }
}

/// <summary>The outcome of a pool what-if: the baseline and, when there were changes, the what-if run.</summary>
public sealed record PoolWhatIf(PoolScenario Scenario, SimulationResult Baseline, SimulationResult? WhatIf)
{
    /// <summary>One paragraph: panics, exhaustion records and hosts at risk, baseline vs what-if.</summary>
    public string Summary()
    {
        var hours = Scenario.Scenario.DurationSeconds / 3600;
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{Scenario.Pool.Name}, {Baseline.Hosts.Count} hosts, {hours:0.##} simulated hours, {Scenario.Scenario.Engine.ToString().ToLowerInvariant()} engine, seed {Scenario.Scenario.Seed}: baseline {Line(Baseline)}");
        return WhatIf is null
            ? text + " (no changes asked: baseline only)"
            : text + $"; what-if ({Scenario.ChangesText}) {Line(WhatIf)}";
    }

    private static string Line(SimulationResult run) => string.Create(CultureInfo.InvariantCulture,
        $"{run.Panics} panics on {run.Hosts.Count(h => h.Panics.Count > 0)} hosts, {run.Exhaustions} exhaustion records, {run.HostsAtRisk} hosts at risk");
}
