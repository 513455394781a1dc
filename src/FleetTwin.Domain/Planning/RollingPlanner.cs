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

    /// <summary>Shut down VMs that cannot live-migrate (PCI passthrough, blocked migration) and start them after the reboot, instead of blocking their host.</summary>
    public bool ShutdownPinned { get; init; }

    /// <summary>Live-migration throughput for the ETA, Gbit/s (default 10: one 10GbE management link, memory copied once).</summary>
    public double MigrationGbps { get; init; } = 10;

    /// <summary>Reboot time when the host's xe record has no boot_time/agent_start_time (default 10 minutes).</summary>
    public double DefaultRebootSeconds { get; init; } = 600;

    /// <summary>Firmware and POST before dom0 boots, added to the host's own boot_time -> agent_start_time (default 3 minutes).</summary>
    public double FirmwareSeconds { get; init; } = 180;

    /// <summary>Checking GRO on each NIC and enabling the host after it is back.</summary>
    public double VerifySeconds { get; init; } = 60;
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

    /// <summary>The one wording of "no such pool", for the planner, the CLI and the API alike.</summary>
    public static string UnknownPoolMessage(FleetInventory inventory, string pool)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        var known = inventory.Pools.Values.Select(p => p.Name ?? p.Uuid).Order(StringComparer.Ordinal).ToList();
        return $"unknown pool '{pool}': no xe pool-list names it ({(known.Count == 0 ? "no xe pool-list output read" : "pools read: " + string.Join(", ", known))})";
    }

    public static RollingPlan Plan(FleetInventory inventory, string pool, IReadOnlyDictionary<string, PanicPrediction> predictions, RollingPlanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(predictions);
        options ??= new RollingPlanOptions();
        if (options.MaxDown < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxDown, "max-down must be at least 1");
        if (!(options.MigrationGbps > 0))
            throw new ArgumentOutOfRangeException(nameof(options), options.MigrationGbps, "migration-gbps must be above 0");

        var found = inventory.FindPool(pool);
        if (found is null)
            return new RollingPlan(pool, null, null, options.MaxDown, [], [UnknownPoolMessage(inventory, pool)], []);
        var hosts = inventory.HostsOf(found);
        var master = inventory.MasterOf(found);
        var undecided = new List<string>();
        var notes = new List<string>();
        if (master is null)
            undecided.Add($"pool master {found.MasterUuid ?? "(not listed)"} is not among the hosts xe host-list named: cannot order the reboot");
        if (hosts.Count == 0)
            undecided.Add($"pool '{pool}' has no hosts in the facts read (need xe host-list on its master)");

        var drafts = hosts.Select(h => h.NotAvailableBecause is { } down
            ? DraftNotAvailable(h, h == master, predictions.GetValueOrDefault(h.Name), down)
            : DraftFor(inventory, h, h == master, predictions.GetValueOrDefault(h.Name), options)).ToList();
        foreach (var d in drafts)
            d.NicClass = NicClassOf(d);

        // Order: master first (it runs the pool; operators take it first so the pool runs on the new settings
        // from then on), then highest risk first; the master goes down alone.
        var ordered = drafts.OrderByDescending(d => d.IsMaster)
            .ThenByDescending(d => d.Risk)
            .ThenByDescending(d => d.Probability ?? -1)
            .ThenBy(d => d.Host.Name, StringComparer.Ordinal)
            .ToList();

        var rollout = RolloutSimulation.Run(inventory, ordered, options);
        var ha = new PoolHaPlan(found.HaEnabled, [.. found.HaStatefiles], found.HaHostFailuresToTolerate);
        ordered = rollout.Order;
        var baseline = RolloutSimulation.EvacuateBaseline(inventory, ordered);

        var steps = new List<HostStep>();
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
        foreach (var down in steps.Where(s => s.NotAvailable is not null))
            notes.Add($"{down.Host} is left out: {down.NotAvailable}; it takes no VMs and is not rebooted (the script passes it by and goes on)");
        notes.AddRange(HaNotes(ha));
        if (rollout.Canary is { } canary)
            notes.Add($"canary: {canary.Host} goes first among the members, alone, of NIC class {canary.NicClass} (shared by {string.Join(", ", canary.HostsOfClass)}): {canary.Why}; the script goes on only once its verification has passed");
        notes.Add("GRO via other-config:ethtool-gro is read when the PIF is plugged: the reboot is what applies it (docs/swiotlb.md)");
        notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"ETA: live migration at {options.MigrationGbps:0.##} Gbit/s (--migration-gbps), one VM after the other per host; reboot from the host's other-config boot_time/agent_start_time plus {options.FirmwareSeconds:0} s of firmware, else {options.DefaultRebootSeconds:0} s"));
        if (!options.IncludeSwiotlbDelay)
            notes.Add("optional: swiotlb=128 (/opt/xensource/libexec/xen-cmdline --set-dom0 swiotlb=128, then reboot) only delays exhaustion; not included");
        var plan = new RollingPlan(found.Name ?? found.Uuid, found.Uuid, master?.Name, options.MaxDown, steps, undecided, notes)
        {
            Placement = rollout.Figures,
            EvacuateBaseline = baseline,
            Timeline = rollout.Timeline,
            Ha = ha,
            Canary = rollout.Canary,
        };
        return plan with { PlanId = PlanIdOf(plan) };
    }

    /// <summary>A stable id of the plan's content (pool, hosts, actions, moves): two runs of the same facts share it.</summary>
    private static string PlanIdOf(RollingPlan plan)
    {
        var text = new System.Text.StringBuilder(plan.PoolUuid ?? plan.Pool);
        foreach (var s in plan.Steps)
        {
            text.Append('|').Append(s.HostUuid).Append(':').Append(s.Action).Append(':').Append(s.Wave);
            foreach (var m in s.Moves)
                text.Append(',').Append(m.VmUuid).Append('>').Append(m.ToHostUuid);
        }
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString()));
        return "plan-" + Convert.ToHexStringLower(hash.AsSpan(0, 6));
    }

    /// <summary>True when <paramref name="name"/> is XS62ESP1004 or a later XS62ESP1 hotfix (XS62ESP1005, XS62ESP1013, ...).</summary>
    public static bool IsBondedBnx2xHotfixOrLater(string name)
    {
        var match = Sp1Hotfix().Match(name);
        return match.Success && int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) >= 4;
    }

    [GeneratedRegex(@"^XS62ESP1(\d{3})$", RegexOptions.CultureInvariant)]
    private static partial Regex Sp1Hotfix();

    /// <summary>What the plan says about pool HA (disable before the first wave, restore after the last).</summary>
    private static IEnumerable<string> HaNotes(PoolHaPlan ha)
    {
        if (ha.Enabled == true)
        {
            yield return "pool HA is on: the script disables it (xe pool-ha-disable) before the first wave and enables it again after the last on the same heartbeat SR (xe pool-ha-enable heartbeat-sr-uuids=<SR of the state file>), as Xen Orchestra's rolling pool reboot does: a rebooting host is a failed host to HA";
            if (ha.RestoreUnknown)
                yield return "HA restore: the heartbeat SR cannot be told from the facts read (xe pool-list shows no ha-statefiles): the script asks the live pool before disabling HA; if it still cannot tell, the restore step says so and HA must be enabled again by hand (xe pool-ha-enable heartbeat-sr-uuids=<SR>)";
            else
                yield return string.Create(CultureInfo.InvariantCulture, $"HA restore: heartbeat SR = the SR of state file VDI {string.Join(", ", ha.Statefiles)} (read with xe vdi-param-get before disabling){(ha.HostFailuresToTolerate is { } n ? $"; ha-host-failures-to-tolerate={n} set again" : "")}");
        }
        else if (ha.Enabled is null)
            yield return "pool HA state unknown (xe pool-list without ha-enabled): the script checks it on the live pool and, if on, disables it before the first wave and restores it after the last";
    }

    /// <summary>A host that can neither take VMs nor be rebooted now (halted, unreachable, disabled): blocked with the reason.</summary>
    private static Draft DraftNotAvailable(InventoryHost host, bool isMaster, PanicPrediction? prediction, string why)
    {
        var d = new Draft(host, isMaster, prediction) { Action = HostAction.Blocked, NotAvailable = why };
        d.Why.Add($"blocked: {why}; it cannot take VMs and is not rebooted: bring it back (or enable it) and re-plan");
        return d;
    }

    /// <summary>
    /// The class of the NICs the plan changes on the host: driver and ethtool -i firmware-version of each (the same change
    /// on the same driver and firmware behaves alike, so one host of a class proves the class), and the NIC's model
    /// when lspci listed the bus id ethtool -i gave it (<c>… on Broadcom … BCM57810 10 Gigabit Ethernet</c>): the same
    /// driver and firmware on two chips are two classes. Without lspci the class is driver and firmware alone.
    /// </summary>
    private static string? NicClassOf(Draft d)
    {
        if (d.Changes.Count == 0)
            return null;
        var classes = d.Changes
            .Select(c => d.Host.NicsByDevice.GetValueOrDefault(c.Device))
            .Select(n => $"{n?.Driver ?? "driver unknown"} firmware {n?.FirmwareVersion ?? "unknown"}"
                + (d.Host.PciNicOf(n)?.ModelName is { } model ? " on " + model : ""))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        return string.Join(" + ", classes);
    }

    private static Draft DraftFor(FleetInventory inventory, InventoryHost host, bool isMaster, PanicPrediction? prediction, RollingPlanOptions options)
    {
        var d = new Draft(host, isMaster, prediction);
        if (host.Release is null)
        {
            d.Undecided.Add("XenServer release unknown (no xe host-list software-version, no kernel banner): whether GRO is on by default and which hotfix is needed depend on it");
            d.Action = HostAction.Undecided;
            return d;
        }
        var config = HostConfiguration.From(inventory, host);
        if (HostConfiguration.ReleaseAtLeast(host.Release, 6, 5))
        {
            DraftModernRelease(inventory, host, config, d);
            return d;
        }
        if (!HostConfiguration.ReleaseAtLeast(host.Release, 6, 2))
        {
            d.Undecided.Add($"release {host.Release}: FleetTwin has no facts on GRO via other-config:ethtool-gro before 6.2 SP1; upgrade path needed, not guessed");
            d.Action = HostAction.Undecided;
            return d;
        }
        var affected = WithWholeBonds(inventory, config, BouncingNics(host, config, d));
        AddGroChanges(inventory, host, affected, d);
        if (affected.Any(n => n.Bond is not null && string.Equals(n.Driver, "bnx2x", StringComparison.OrdinalIgnoreCase)))
            CheckBondedBnx2xPrerequisites(inventory, host, d);
        DecideAction(host, affected, options, d);
        return d;
    }

    /// <summary>6.5+ turns GRO on by default: no override; one left from before the upgrade is removed.</summary>
    private static void DraftModernRelease(FleetInventory inventory, InventoryHost host, HostConfiguration config, Draft d)
    {
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
        else if (d.Action == HostAction.NothingToDo)
            d.Why.Add($"no change needed: release {host.Release} has GRO on by default and no PIF carries an other-config:ethtool-gro override");
    }

    /// <summary>The NICs whose RX buffers bounce with GRO off (a NIC that cannot be told is undecided, not skipped).</summary>
    private static List<NicConfiguration> BouncingNics(InventoryHost host, HostConfiguration config, Draft d)
    {
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
        return affected;
    }

    /// <summary>A bond's members are changed together: one member's bounce decides for the bond (same ring, same traffic).</summary>
    private static List<NicConfiguration> WithWholeBonds(FleetInventory inventory, HostConfiguration config, List<NicConfiguration> affected)
    {
        foreach (var bond in affected.Where(n => n.Bond is not null).Select(n => n.Bond!).Distinct().ToList())
        {
            foreach (var member in inventory.MembersOf(bond))
            {
                if (member.Device is not null && affected.All(a => a.Device != member.Device)
                    && config.Nics.FirstOrDefault(n => n.Device == member.Device) is { } memberNic)
                    affected.Add(memberNic);
            }
        }
        return affected;
    }

    /// <summary>One other-config:ethtool-gro command per member PIF (not the bond's own PIF).</summary>
    private static void AddGroChanges(FleetInventory inventory, InventoryHost host, List<NicConfiguration> affected, Draft d)
    {
        var pifsOf = inventory.NicsOf(host).Where(n => n.Pif is not null).ToDictionary(n => n.Device, n => n.Pif!, StringComparer.Ordinal);
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
    }

    /// <summary>Undecided, blocked, nothing to do (with the evidence) or reboot with the changes.</summary>
    private static void DecideAction(InventoryHost host, List<NicConfiguration> affected, RollingPlanOptions options, Draft d)
    {
        if (d.Undecided.Count > 0)
            d.Action = HostAction.Undecided;
        else if (d.Prerequisites.Any(p => !p.Met))
            d.Action = HostAction.Blocked;
        else if (d.Changes.Count == 0 || affected.All(n => n.GroOn == true) && d.Changes.All(c => c.Kind == PifChangeKind.AlreadySet))
        {
            d.Action = HostAction.NothingToDo;
            d.Why.Add(affected.Count == 0
                ? "no change needed: no NIC of this host bounces its RX buffers with GRO off (driver and MTU read)"
                : $"no change needed: other-config:ethtool-gro=on and GRO live on {string.Join(", ", affected.Select(n => n.Device).Order(StringComparer.Ordinal))}");
        }
        else
            d.Action = HostAction.RebootWithChanges;

        if (d.Action == HostAction.RebootWithChanges)
        {
            AddVerifications(d, affected.Select(n => n.Device));
            if (options.IncludeSwiotlbDelay && (host.SwiotlbMiB ?? 64) < 128)
                d.SwiotlbDelay = new SwiotlbDelayStep("/opt/xensource/libexec/xen-cmdline --set-dom0 swiotlb=128",
                    "DELAY, NOT A FIX: doubles the bounce pool (64 -> 128 MiB) so exhaustion comes later; GRO is the fix");
        }
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
        d.StopConditions.Add("an xe vm-migrate fails or a guest VM is still resident: stop, the host stays disabled with its VMs running");
        d.StopConditions.Add("a running VM the plan does not know is on the host, or the host was disabled by someone else: stop (re-plan, or --accept-drift)");
        d.StopConditions.Add("the host is not back (host-metrics-live) within 20 minutes of the reboot: stop");
        d.StopConditions.Add("any verification fails: stop before enabling the host; the next host is not touched");
    }

    internal static string Gib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.#} GiB");

    internal sealed class Draft(InventoryHost host, bool isMaster, PanicPrediction? prediction)
    {
        public InventoryHost Host { get; } = host;
        public bool IsMaster { get; } = isMaster;
        public RiskLevel Risk { get; } = prediction?.Level ?? RiskLevel.Unknown;
        public double? Probability { get; } = prediction?.ProbabilityWithinHorizon;
        public TimeSpan Horizon { get; } = prediction?.Horizon ?? TimeSpan.Zero;
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
        public List<UnmovableVm> ShutDown { get; } = [];
        public HostTiming? Timing { get; set; }
        public string? NotAvailable { get; init; }
        public string? NicClass { get; set; }

        public HostStep ToStep(int order)
        {
            var why = new List<string>(Why);
            why.AddRange(Undecided);
            why.AddRange(Prerequisites.Where(p => !p.Met).Select(p => "prerequisite missing: " + p.Evidence));
            return new HostStep(order, Wave, Host.Name, Host.Uuid, Host.Address, IsMaster, Host.Release, Risk, RiskReason, Action,
                Changes, Prerequisites, Moves, Unmovable, Verifications, StopConditions, why, SwiotlbDelay)
            { ShutDown = ShutDown, Timing = Timing, NotAvailable = NotAvailable, NicClass = NicClass };
        }
    }
}
