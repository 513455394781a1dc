using System.Globalization;
using System.Text.RegularExpressions;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Prediction;

namespace FleetTwin.Domain.Planning;

/// <summary>What the planner is asked for.</summary>
public sealed record RollingPlanOptions
{
    /// <summary>Hosts down at once (the pool master always goes alone).</summary>
    public int MaxDown { get; init; } = 1;

    /// <summary>Add <c>swiotlb=128</c> to hosts with a smaller pool: buys time, fixes nothing.</summary>
    public bool IncludeSwiotlbDelay { get; init; }
}

/// <summary>
/// Builds the <see cref="RollingPlan"/> of a pool from the <see cref="FleetInventory"/> and each host's
/// <see cref="PanicPrediction"/>, following docs/swiotlb.md: GRO per member PIF via other-config:ethtool-gro
/// (read at PIF plug, so it needs the reboot), 6.2 SP1 + XS62ESP1004 for bonded bnx2x, no override on 6.5+, and the
/// rolling-reboot habit of XenCenter and Xen Orchestra (master first; disable, evacuate, reboot, check, enable).
/// </summary>
public static partial class RollingPlanner
{
    /// <summary>The hotfix bonded bnx2x needs on 6.2 SP1 before GRO can be turned on (or a later XS62ESP1 hotfix).</summary>
    public const string BondedBnx2xHotfix = "XS62ESP1004";

    public const string ServicePack62 = "XS62ESP1";

    public static RollingPlan Plan(FleetInventory inventory, string pool, IReadOnlyDictionary<string, PanicPrediction> predictions, RollingPlanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(predictions);
        options ??= new RollingPlanOptions();
        if (options.MaxDown < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxDown, "max-down must be at least 1");

        var found = inventory.FindPool(pool);
        if (found is null)
        {
            var known = inventory.Pools.Values.Select(p => p.Name ?? p.Uuid).Order(StringComparer.Ordinal).ToList();
            return new RollingPlan(pool, null, null, options.MaxDown, [],
                [$"unknown pool '{pool}': no xe pool-list names it ({(known.Count == 0 ? "no pool-list output read" : "pools read: " + string.Join(", ", known))})"], []);
        }
        var hosts = inventory.HostsOf(found);
        var master = inventory.MasterOf(found);
        var undecided = new List<string>();
        var notes = new List<string>();
        if (master is null)
            undecided.Add($"pool master {found.MasterUuid ?? "(not listed)"} is not among the hosts xe host-list named: cannot order the reboot");
        if (hosts.Count == 0)
            undecided.Add($"pool '{pool}' has no hosts in the facts read (need xe host-list on its master)");

        var drafts = hosts.Select(h => DraftFor(inventory, h, h == master, predictions.GetValueOrDefault(h.Name), options)).ToList();

        // Order: master first (it runs the pool; operators take it first so the pool runs on the new settings
        // from then on), then highest risk first; the master goes down alone.
        var ordered = drafts.OrderByDescending(d => d.IsMaster)
            .ThenByDescending(d => d.Risk)
            .ThenByDescending(d => d.Probability ?? -1)
            .ThenBy(d => d.Host.Name, StringComparer.Ordinal)
            .ToList();

        var free = hosts.ToDictionary(h => h.Name, h => h.MemoryFreeBytes);
        var steps = new List<HostStep>();
        var wave = 0;
        var rebooting = ordered.Where(d => d.Action == HostAction.RebootWithChanges).ToList();
        var queue = new Queue<Draft>(rebooting);
        while (queue.Count > 0)
        {
            wave++;
            var batch = new List<Draft> { queue.Dequeue() };
            while (!batch[0].IsMaster && batch.Count < options.MaxDown && queue.Count > 0 && !queue.Peek().IsMaster)
                batch.Add(queue.Dequeue());
            var down = batch.Select(b => b.Host.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var draft in batch)
            {
                Evacuate(inventory, draft, hosts, down, free);
                draft.Wave = wave;
            }
        }
        var order = 0;
        foreach (var d in ordered)
        {
            steps.Add(d.ToStep(d.Action is HostAction.RebootWithChanges or HostAction.ChangeWithoutReboot or HostAction.Blocked ? ++order : 0));
            foreach (var u in d.Undecided)
                undecided.Add($"{d.Host.Name}: {u}");
        }

        var needing = steps.Where(s => s.Changes.Any(c => c.Kind is PifChangeKind.SetGroOn or PifChangeKind.AlreadySet)).ToList();
        if (needing.Count > 0 && needing.All(s => s.Unmovable.Count > 0))
            notes.Add($"the pool is too full to evacuate any host: no host needing the change can move all its VMs elsewhere ({string.Join("; ", needing.Select(s => $"{s.Host}: {s.Unmovable.Count} VM(s) cannot move"))}); free memory or shut VMs down first");
        if (master is not null && steps.FirstOrDefault(s => s.IsMaster) is { Action: HostAction.Blocked } m)
            notes.Add($"the pool master {m.Host} is blocked and goes first: nothing else starts until it can");
        notes.Add("GRO via other-config:ethtool-gro is read when the PIF is plugged: the reboot is what applies it (docs/swiotlb.md)");
        if (!options.IncludeSwiotlbDelay)
            notes.Add("optional: swiotlb=128 (/opt/xensource/libexec/xen-cmdline --set-dom0 swiotlb=128, then reboot) only delays exhaustion; not included");
        return new RollingPlan(found.Name ?? found.Uuid, found.Uuid, master?.Name, options.MaxDown, steps, undecided, notes);
    }

    /// <summary>True when <paramref name="name"/> is XS62ESP1004 or a later XS62ESP1 hotfix (XS62ESP1005, XS62ESP1013, ...).</summary>
    public static bool IsBondedBnx2xHotfixOrLater(string name)
    {
        var match = Sp1Hotfix().Match(name);
        return match.Success && int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) >= 4;
    }

    [GeneratedRegex(@"^XS62ESP1(\d{3})$", RegexOptions.CultureInvariant)]
    private static partial Regex Sp1Hotfix();

    private static Draft DraftFor(FleetInventory inventory, InventoryHost host, bool isMaster, PanicPrediction? prediction, RollingPlanOptions options)
    {
        var config = HostConfiguration.From(inventory, host);
        var d = new Draft(host, isMaster, prediction);
        if (host.Release is null)
        {
            d.Undecided.Add("XenServer release unknown (no xe host-list software-version, no kernel banner): whether GRO is on by default and which hotfix is needed depend on it");
            d.Action = HostAction.Undecided;
            return d;
        }
        var pifsOf = inventory.NicsOf(host).Where(n => n.Pif is not null).ToDictionary(n => n.Device, n => n.Pif!, StringComparer.Ordinal);
        var modern = HostConfiguration.ReleaseAtLeast(host.Release, 6, 5);

        if (modern)
        {
            // 6.5+ turns GRO on by default: no override; one left from before the upgrade is removed.
            foreach (var nic in inventory.NicsOf(host).Where(n => n.Pif?.EthtoolGroOverride is not null))
            {
                var pif = nic.Pif!;
                d.Changes.Add(new PifChange(PifChangeKind.RemoveGroOverride, pif.Uuid, nic.Device, pif.BondSlaveOf ?? pif.BondMasterOf, nic.Driver,
                    $"xe pif-param-remove uuid={pif.Uuid} param-name=other-config param-key=ethtool-gro",
                    $"other-config:ethtool-gro={pif.EthtoolGroOverride} left from before {host.Release}; GRO is on by default since 6.5"));
            }
            var forcedOff = d.Changes.Any(c => inventory.Pifs[c.PifUuid].EthtoolGroOverride == "off")
                || config.Nics.Any(n => n.GroOn == false && n.BouncesWithGroOff == true);
            d.Action = forcedOff ? HostAction.RebootWithChanges : d.Changes.Count > 0 ? HostAction.ChangeWithoutReboot : HostAction.NothingToDo;
            if (forcedOff)
                AddVerifications(d, config.Nics.Where(n => n.BouncesWithGroOff == true).Select(n => n.Device));
            return d;
        }
        if (!HostConfiguration.ReleaseAtLeast(host.Release, 6, 2))
        {
            d.Undecided.Add($"release {host.Release}: FleetTwin has no facts on GRO via other-config:ethtool-gro before 6.2 SP1; upgrade path needed, not guessed");
            d.Action = HostAction.Undecided;
            return d;
        }

        var affected = new List<NicConfiguration>();
        foreach (var nic in config.Nics)
        {
            switch (nic.BouncesWithGroOff)
            {
                case null:
                    d.Undecided.Add($"{nic.Device}: MTU {nic.Mtu?.ToString(CultureInfo.InvariantCulture) ?? "unknown"} and no driver info (ethtool -i {nic.Device} on {host.Name}): cannot tell whether its RX bounces");
                    break;
                case true:
                    affected.Add(nic);
                    break;
            }
        }
        // A bond's members are changed together: one member's bounce decides for the bond (same ring, same traffic).
        foreach (var bond in affected.Where(n => n.Bond is not null).Select(n => n.Bond!).Distinct().ToList())
        {
            foreach (var member in inventory.MembersOf(bond))
            {
                if (member.Device is not null && affected.All(a => a.Device != member.Device))
                {
                    var memberNic = config.Nics.FirstOrDefault(n => n.Device == member.Device);
                    if (memberNic is not null)
                        affected.Add(memberNic);
                }
            }
        }
        foreach (var nic in affected.OrderBy(n => n.Device, StringComparer.Ordinal))
        {
            if (!pifsOf.TryGetValue(nic.Device, out var pif))
            {
                d.Undecided.Add($"{nic.Device}: no xe pif-list record on {host.Name}: no PIF uuid to set other-config:ethtool-gro on");
                continue;
            }
            var why = nic.Bond is not null
                ? $"member of bond {nic.Bond} ({string.Join("+", nic.BondMembers)}): GRO goes on each member PIF, not the bond's own PIF"
                : $"{nic.Driver} at MTU {nic.Mtu}: RX buffers bounce with GRO off";
            if (pif.EthtoolGroOverride == "on")
            {
                d.Changes.Add(new PifChange(PifChangeKind.AlreadySet, pif.Uuid, nic.Device, nic.Bond, nic.Driver,
                    $"# other-config:ethtool-gro=on already set on {pif.Uuid}", why + "; key already on, GRO " + (nic.GroOn == true ? "live" : "not live yet: needs the reboot")));
            }
            else
            {
                d.Changes.Add(new PifChange(PifChangeKind.SetGroOn, pif.Uuid, nic.Device, nic.Bond, nic.Driver,
                    $"xe pif-param-set other-config:ethtool-gro=on uuid={pif.Uuid}", why));
            }
        }

        if (affected.Any(n => n.Bond is not null && string.Equals(n.Driver, "bnx2x", StringComparison.OrdinalIgnoreCase)))
            CheckBondedBnx2xPrerequisites(inventory, host, d);

        if (d.Undecided.Count > 0)
            d.Action = HostAction.Undecided;
        else if (d.Prerequisites.Any(p => !p.Met))
            d.Action = HostAction.Blocked;
        else if (d.Changes.Count == 0 || affected.All(n => n.GroOn == true) && d.Changes.All(c => c.Kind == PifChangeKind.AlreadySet))
            d.Action = HostAction.NothingToDo;
        else
            d.Action = HostAction.RebootWithChanges;

        if (d.Action == HostAction.RebootWithChanges)
        {
            AddVerifications(d, affected.Select(n => n.Device));
            if (options.IncludeSwiotlbDelay && (host.SwiotlbMiB ?? 64) < 128)
                d.SwiotlbDelay = new SwiotlbDelayStep("/opt/xensource/libexec/xen-cmdline --set-dom0 swiotlb=128",
                    "DELAY, NOT A FIX: doubles the bounce pool (64 -> 128 MiB) so exhaustion comes later; GRO is the fix");
        }
        return d;
    }

    private static void CheckBondedBnx2xPrerequisites(FleetInventory inventory, InventoryHost host, Draft d)
    {
        var hotfixes = inventory.HotfixesOf(host);
        if (hotfixes is null)
        {
            d.Undecided.Add($"no xe patch-list for {host.Name}'s pool: cannot check {ServicePack62} + {BondedBnx2xHotfix} (bonded bnx2x needs them before GRO)");
            return;
        }
        var sp1 = hotfixes.Contains(ServicePack62, StringComparer.Ordinal);
        d.Prerequisites.Add(new PrerequisiteCheck($"XenServer 6.2 SP1 ({ServicePack62})", sp1,
            sp1 ? $"{ServicePack62} applied" : $"{ServicePack62} not in xe patch-list hosts for {host.Name}", $"has_hotfix {ServicePack62} {host.Uuid}"));
        var fix = hotfixes.Where(IsBondedBnx2xHotfixOrLater).Order(StringComparer.Ordinal).LastOrDefault();
        d.Prerequisites.Add(new PrerequisiteCheck($"{BondedBnx2xHotfix} or later (bonded bnx2x with GRO)", fix is not null,
            fix is not null ? $"{fix} applied" : $"no {BondedBnx2xHotfix} or later XS62ESP1 hotfix applied on {host.Name}: install it first",
            fix is null ? null : $"has_hotfix {fix} {host.Uuid}"));
    }

    private static void AddVerifications(Draft d, IEnumerable<string> devices)
    {
        foreach (var device in devices.Distinct().Order(StringComparer.Ordinal))
            d.Verifications.Add($"ethtool -k {device} shows generic-receive-offload: on");
        d.StopConditions.Add("xe host-evacuate fails or a guest VM is still resident: stop, the host stays disabled with its VMs running");
        d.StopConditions.Add("the host is not back (host-metrics-live) within 20 minutes of the reboot: stop");
        d.StopConditions.Add("any verification fails: stop before enabling the host; the next host is not touched");
    }

    /// <summary>
    /// Places the host's VMs on hosts that stay up (largest VM first, onto the host with the most free memory, as
    /// host-evacuate's placement tends to); a VM that fits nowhere blocks the host. The host reboots empty, so its
    /// memory is free for the next hosts.
    /// </summary>
    private static void Evacuate(FleetInventory inventory, Draft d, IReadOnlyList<InventoryHost> hosts, HashSet<string> down, Dictionary<string, long?> free)
    {
        if (!inventory.VmsKnownFor(d.Host))
        {
            d.Undecided.Add("no xe vm-list for its pool: cannot check that its VMs fit elsewhere");
            d.Action = HostAction.Undecided;
            return;
        }
        var targets = hosts.Where(h => !down.Contains(h.Name)).ToList();
        var tentative = new Dictionary<string, long?>(free, StringComparer.Ordinal);
        foreach (var vm in inventory.VmsOn(d.Host).OrderByDescending(v => v.MemoryBytes ?? long.MaxValue).ThenBy(v => v.Name, StringComparer.Ordinal))
        {
            if (vm.MemoryBytes is not { } need)
            {
                d.Unmovable.Add(new UnmovableVm(vm.Name, vm.Uuid, null, "memory unknown (no memory-actual in xe vm-list)"));
                continue;
            }
            var best = targets.Where(t => tentative[t.Name] is { } f && f >= need).OrderByDescending(t => tentative[t.Name]).FirstOrDefault();
            if (best is null)
            {
                var largest = targets.Where(t => tentative[t.Name] is not null).OrderByDescending(t => tentative[t.Name]).FirstOrDefault();
                d.Unmovable.Add(new UnmovableVm(vm.Name, vm.Uuid, need, largest is null
                    ? "no other host with known free memory stays up"
                    : string.Create(CultureInfo.InvariantCulture, $"needs {Gib(need)}; the most free on a host that stays up is {Gib(tentative[largest.Name]!.Value)} on {largest.Name}")));
                continue;
            }
            tentative[best.Name] -= need;
            d.Moves.Add(new VmMove(vm.Name, vm.Uuid, need, best.Name));
        }
        if (d.Unmovable.Count > 0)
        {
            d.Why.Add($"cannot evacuate: {string.Join(", ", d.Unmovable.Select(u => u.Vm))} cannot move");
            d.Action = HostAction.Blocked;
            d.Moves.Clear();
            return;
        }
        foreach (var (name, value) in tentative)
            free[name] = value;
        if (free[d.Host.Name] is { } own)
            free[d.Host.Name] = own + d.Moves.Sum(m => m.MemoryBytes);
    }

    internal static string Gib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.#} GiB");

    private sealed class Draft(InventoryHost host, bool isMaster, PanicPrediction? prediction)
    {
        public InventoryHost Host { get; } = host;
        public bool IsMaster { get; } = isMaster;
        public RiskLevel Risk { get; } = prediction?.Level ?? RiskLevel.Unknown;
        public double? Probability { get; } = prediction?.ProbabilityWithinHorizon;
        public string RiskReason { get; } = prediction?.Reason ?? "no prediction";
        public HostAction Action { get; set; }
        public int Wave { get; set; }
        public List<PifChange> Changes { get; } = [];
        public List<PrerequisiteCheck> Prerequisites { get; } = [];
        public List<VmMove> Moves { get; } = [];
        public List<UnmovableVm> Unmovable { get; } = [];
        public List<string> Verifications { get; } = [];
        public List<string> StopConditions { get; } = [];
        public List<string> Undecided { get; } = [];
        public List<string> Why { get; } = [];
        public SwiotlbDelayStep? SwiotlbDelay { get; set; }

        public HostStep ToStep(int order)
        {
            var why = new List<string>(Why);
            why.AddRange(Undecided);
            why.AddRange(Prerequisites.Where(p => !p.Met).Select(p => "prerequisite missing: " + p.Evidence));
            return new HostStep(order, Wave, Host.Name, Host.Uuid, Host.Address, IsMaster, Host.Release, Risk, RiskReason, Action,
                Changes, Prerequisites, Moves, Unmovable, Verifications, StopConditions, why, SwiotlbDelay);
        }
    }
}
