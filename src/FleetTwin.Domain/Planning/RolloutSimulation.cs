using System.Globalization;
using FleetTwin.Domain.Fleet;
using Draft = FleetTwin.Domain.Planning.RollingPlanner.Draft;

namespace FleetTwin.Domain.Planning;

/// <summary>
/// Simulates the rollout host by host so every placement is explicit and every capacity check sees the pool as it will
/// be at that step: a VM goes only to a host that is already done (rebooted with GRO on, or needing no reboot), so it
/// moves once; the first wave has no done host yet, so its VMs go to hosts that are put in the last wave(s) and move
/// twice. VMs that landed on a host move with it and count in its memory from then on. xe host-evacuate cannot do this:
/// XAPI's evacuation plan knows nothing of the rollout order (xen-api #7261 restricts it to already-updated hosts only in
/// later releases; Xen Orchestra's rolling reboot hit the same, vatesfr/xen-orchestra #10260).
/// </summary>
internal static class RolloutSimulation
{
    internal sealed record Result(List<Draft> Order, List<List<Draft>> Waves, PlacementFigures Figures, RolloutTimeline Timeline, CanaryChoice? Canary);

    public static Result Run(FleetInventory inventory, List<Draft> ordered, RollingPlanOptions options)
    {
        ordered = [.. ordered];
        var pool = new PoolMemory(inventory, ordered, recordMoves: true);
        var rebooting = new List<Draft>();
        foreach (var d in ordered.Where(d => d.Action == HostAction.RebootWithChanges))
        {
            if (!inventory.VmsKnownFor(d.Host))
            {
                d.Undecided.Add("no xe vm-list for its pool: cannot check that its VMs fit elsewhere");
                d.Action = HostAction.Undecided;
                continue;
            }
            if (d.Host.MemoryFreeBytes is null)
            {
                d.Undecided.Add("memory-free unknown (no xe host-list memory-free): cannot check that other hosts' VMs fit on it");
                d.Action = HostAction.Undecided;
                continue;
            }
            CheckPinned(d, inventory.VmsOn(d.Host), options);
            if (d.Action == HostAction.RebootWithChanges)
                rebooting.Add(d);
        }
        var canary = ChooseCanary(rebooting, ordered);
        if (canary is not null)
        {
            // The canary goes first among the members: right after the master, in the rollout and in the order shown.
            var host = rebooting.Single(d => d.Host.Name == canary.Host);
            MoveAfterMaster(rebooting, host);
            MoveAfterMaster(ordered, host);
        }
        // Hosts that never reboot in this plan and need nothing are done from the start: a VM moved there moves once.
        // A host that is down or disabled takes nothing (xapi refuses: HOST_OFFLINE, HOST_DISABLED).
        foreach (var d in ordered.Where(d => d.Action is HostAction.NothingToDo or HostAction.ChangeWithoutReboot && CanTakeVms(d)))
            pool.Done.Add(d.Host.Name);

        var waves = new List<List<Draft>>();
        var queue = new List<Draft>(rebooting);
        var reserve = new List<Draft>();
        while (queue.Count > 0)
        {
            var wave = new List<Draft> { queue[0] };
            queue.RemoveAt(0);
            var targets = pool.Done.ToList();
            if (waves.Count == 0 && targets.Count == 0)
            {
                // No done host yet: the first wave's VMs go to the hosts that reboot last (lowest risk first), which are
                // then moved to the end of the order, so those VMs move twice and no more.
                reserve = ChooseReserve(pool, wave[0], queue, canary?.Host);
                foreach (var r in reserve)
                    queue.Remove(r);
                queue.AddRange(reserve);
                targets = [.. reserve.Select(r => r.Host.Name)];
            }
            // The canary: the first member wave is one host, the riskiest (its NIC/driver class leads the order); the
            // script goes on only once its verification has passed.
            var canaryWave = !wave[0].IsMaster && waves.All(w => w[0].IsMaster);
            if (!wave[0].IsMaster && !canaryWave)
            {
                while (wave.Count < options.MaxDown && queue.Count > 0 && !queue[0].IsMaster
                    && pool.TryPlace(wave.Append(queue[0]), targets) is not null)
                {
                    wave.Add(queue[0]);
                    queue.RemoveAt(0);
                }
            }
            var placement = pool.TryPlace(wave, targets);
            if (placement is null)
            {
                // Not enough room on done hosts: hosts that stay up without a reboot in this plan (blocked, undecided)
                // come next, then hosts still waiting (more moves, reported as such).
                var stayUp = ordered.Where(d => d.Action is HostAction.Blocked or HostAction.Undecided && CanTakeVms(d)).Select(d => d.Host.Name);
                placement = pool.TryPlace(wave, targets.Concat(stayUp).ToList());
                var waiting = queue.Select(q => q.Host.Name).Where(n => wave.All(w => w.Host.Name != n));
                placement ??= pool.TryPlace(wave, targets.Concat(stayUp).Concat(waiting).ToList());
            }
            if (placement is null)
            {
                foreach (var d in wave)
                    BlockForRoom(pool, d, targets);
                // The hosts of the wave stay up with their VMs: nothing moved.
                continue;
            }
            pool.Apply(wave, placement);
            foreach (var d in wave)
                d.Wave = waves.Count + 1;
            waves.Add(wave);
        }

        var order = new List<Draft>();
        var emitted = new HashSet<Draft>();
        foreach (var d in ordered.Where(d => !reserve.Contains(d)).Concat(reserve))
        {
            if (emitted.Contains(d))
                continue;
            var wave = waves.FirstOrDefault(w => w.Contains(d));
            foreach (var x in wave ?? [d])
            {
                order.Add(x);
                emitted.Add(x);
            }
        }
        // The canary is the first member wave's host; a reserve that needed it too (a pool too full otherwise) changes that.
        var firstMemberWave = waves.FirstOrDefault(w => !w[0].IsMaster);
        if (canary is not null && firstMemberWave?[0].Host.Name != canary.Host)
            canary = null;
        return new Result(order, waves, pool.Figures(), Timeline(waves, order, options), canary);
    }

    /// <summary>A host migrations may land on: its free memory is known and it is up and enabled.</summary>
    private static bool CanTakeVms(Draft d) => d.Host.MemoryFreeBytes is not null && d.NotAvailable is null;

    private static void MoveAfterMaster(List<Draft> list, Draft host)
    {
        list.Remove(host);
        list.Insert(list.Count > 0 && list[0].IsMaster ? 1 : 0, host);
    }

    /// <summary>
    /// The canary: one host of the riskiest NIC class among the members that reboot. A class is riskier when one of its
    /// hosts carries a higher risk level, then when its hosts' P(panic) adds up to more (more panics expected where the
    /// class runs), then when more hosts share it (proving it covers more of the pool). Its riskiest host goes.
    /// </summary>
    private static CanaryChoice? ChooseCanary(List<Draft> rebooting, List<Draft> ordered)
    {
        var classes = rebooting.Where(d => !d.IsMaster)
            .GroupBy(d => d.NicClass ?? "NIC class unknown", StringComparer.Ordinal)
            .Select(g => (Class: g.Key, Hosts: g.ToList(), Top: g.Max(d => d.Risk), Sum: g.Sum(d => d.Probability ?? 0)))
            .OrderByDescending(c => c.Top).ThenByDescending(c => c.Sum).ThenByDescending(c => c.Hosts.Count).ThenBy(c => c.Class, StringComparer.Ordinal)
            .ToList();
        if (classes.Count == 0)
            return null;
        var riskiest = classes[0];
        var host = riskiest.Hosts[0];
        var horizon = host.Horizon > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $" within {host.Horizon.TotalHours:0.#} h") : "";
        var why = string.Create(CultureInfo.InvariantCulture,
            $"riskiest NIC class: its hosts' highest risk level is {riskiest.Top.ToString().ToLowerInvariant()} ({host.Host.Name}, the riskiest of them) and their P(panic) adds up to {riskiest.Sum:0.###}{horizon} over {riskiest.Hosts.Count} rebooting host(s)");
        why += classes.Count > 1
            ? string.Create(CultureInfo.InvariantCulture, $"; next class {classes[1].Class}: {classes[1].Top.ToString().ToLowerInvariant()}, {classes[1].Sum:0.###} over {classes[1].Hosts.Count} host(s)")
            : "; the only class the plan changes";
        var sharing = ordered.Where(d => (d.NicClass ?? "NIC class unknown") == riskiest.Class && d.Changes.Count > 0).Select(d => d.Host.Name).Order(StringComparer.Ordinal).ToList();
        return new CanaryChoice(host.Host.Name, riskiest.Class, why, sharing);
    }

    /// <summary>
    /// Baseline: the same waves, each host evacuated to wherever there is room, binpacked (largest VM first onto the
    /// fullest host it fits on, as XAPI's evacuation plan packs), hosts that reboot later included: how often VMs move
    /// when placement ignores the rollout order.
    /// </summary>
    public static PlacementFigures EvacuateBaseline(FleetInventory inventory, List<Draft> order)
    {
        var pool = new PoolMemory(inventory, order, recordMoves: false);
        foreach (var wave in order.Where(d => d.Wave > 0).GroupBy(d => d.Wave).OrderBy(g => g.Key).Select(g => g.ToList()))
        {
            var down = wave.Select(d => d.Host.Name).ToHashSet(StringComparer.Ordinal);
            var up = order.Where(d => !down.Contains(d.Host.Name) && CanTakeVms(d)).Select(d => d.Host.Name).ToList();
            if (pool.TryPlace(wave, up, binpack: true) is { } placement)
                pool.Apply(wave, placement);
        }
        return pool.Figures();
    }

    private static void CheckPinned(Draft d, IReadOnlyList<InventoryVm> vms, RollingPlanOptions options)
    {
        foreach (var vm in vms)
        {
            if (vm.MemoryBytes is null)
                d.Unmovable.Add(new UnmovableVm(vm.Name, vm.Uuid, null, "memory unknown (no memory-actual in xe vm-list)"));
            else if (vm.PinnedBecause is { } why && options.ShutdownPinned)
                d.ShutDown.Add(new UnmovableVm(vm.Name, vm.Uuid, vm.MemoryBytes, why + ": shut down before the reboot, started again after (--shutdown-pinned)"));
            else if (vm.PinnedBecause is { } pinned)
                d.Unmovable.Add(new UnmovableVm(vm.Name, vm.Uuid, vm.MemoryBytes, pinned + ": cannot live-migrate; shut it down by hand or re-plan with --shutdown-pinned"));
        }
        if (d.Unmovable.Count > 0)
        {
            d.Why.Add($"cannot evacuate: {string.Join(", ", d.Unmovable.Select(u => u.Vm))} cannot move");
            d.Action = HostAction.Blocked;
        }
    }

    /// <summary>The fewest lowest-risk hosts whose free memory takes the first wave's VMs.</summary>
    private static List<Draft> ChooseReserve(PoolMemory pool, Draft first, List<Draft> queue, string? canary)
    {
        var reserve = new List<Draft>();
        // The canary is taken last: it is to go next, alone, not at the end.
        foreach (var candidate in Enumerable.Reverse(queue).OrderBy(d => d.Host.Name == canary))
        {
            reserve.Add(candidate);
            if (pool.TryPlace([first], [.. reserve.Select(r => r.Host.Name)]) is not null)
                break;
        }
        reserve.Reverse();
        return reserve;
    }

    private static void BlockForRoom(PoolMemory pool, Draft d, List<string> targets)
    {
        foreach (var vm in pool.Residents(d.Host.Name).Where(v => !pool.StaysPut(d, v)))
        {
            var largest = targets.Where(t => t != d.Host.Name).OrderByDescending(pool.Free).FirstOrDefault();
            d.Unmovable.Add(new UnmovableVm(vm.Name, vm.Uuid, vm.MemoryBytes, largest is null
                ? "no done host (rebooted, or needing no change) has room, and no other host stays up"
                : string.Create(CultureInfo.InvariantCulture, $"needs {RollingPlanner.Gib(vm.MemoryBytes ?? 0)}; the most free on a host that stays up is {RollingPlanner.Gib(pool.Free(largest))} on {largest}")));
        }
        d.Why.Add($"cannot evacuate: {string.Join(", ", d.Unmovable.Select(u => u.Vm))} cannot move");
        d.Action = HostAction.Blocked;
    }

    private static RolloutTimeline Timeline(List<List<Draft>> waves, List<Draft> order, RollingPlanOptions o)
    {
        var clock = 0.0;
        var timings = new List<WaveTiming>();
        var canaryWave = waves.FindIndex(w => !w[0].IsMaster);
        foreach (var (wave, i) in waves.Select((w, i) => (w, i)))
        {
            var end = clock;
            foreach (var d in wave)
            {
                // Migrations off one host run one after the other (xapi migrates one VM per vm-migrate call).
                var migration = d.Moves.Sum(m => m.MemoryBytes) * 8.0 / (o.MigrationGbps * 1e9);
                var fromHistory = d.Host.BootToAgentSeconds is not null;
                var reboot = d.Host.BootToAgentSeconds is { } s ? s + o.FirmwareSeconds : o.DefaultRebootSeconds;
                var hostEnd = clock + migration + reboot + o.VerifySeconds;
                d.Timing = new HostTiming(clock, migration, reboot, fromHistory, hostEnd, Exposure(d, hostEnd));
                end = Math.Max(end, hostEnd);
            }
            timings.Add(new WaveTiming(i + 1, [.. wave.Select(d => d.Host.Name)], clock, end, i == canaryWave));
            clock = end;
        }
        // Hosts the plan does not reboot (blocked, undecided) carry their risk for the whole rollout.
        foreach (var d in order.Where(d => d.Action is HostAction.Blocked or HostAction.Undecided))
            d.Timing = new HostTiming(clock, 0, 0, false, clock, Exposure(d, clock));
        var exposures = order.Select(d => d.Timing?.PanicWhileWaiting).Where(p => p is not null).Select(p => p!.Value).ToList();
        double? any = exposures.Count == 0 ? null : 1 - exposures.Aggregate(1.0, (acc, p) => acc * (1 - p));
        return new RolloutTimeline(clock, timings, any, o.MigrationGbps, o.DefaultRebootSeconds);
    }

    /// <summary>P(panic within <paramref name="seconds"/>) at the constant hazard that gives the prediction's P over its horizon.</summary>
    private static double? Exposure(Draft d, double seconds)
    {
        if (d.Probability is not { } p || d.Horizon <= TimeSpan.Zero)
            return null;
        if (p >= 1)
            return 1;
        var hazard = -Math.Log(1 - p) / d.Horizon.TotalSeconds;
        return 1 - Math.Exp(-hazard * seconds);
    }

    /// <summary>Where each VM is and how much memory each host has free, as the rollout moves them.</summary>
    private sealed class PoolMemory
    {
        private readonly Dictionary<string, long> _free = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<InventoryVm>> _residents = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string?> _uuid = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _moves = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _everyVm = new(StringComparer.Ordinal);
        private long _bytes;

        public HashSet<string> Done { get; } = new(StringComparer.Ordinal);

        private readonly bool _recordMoves;

        public PoolMemory(FleetInventory inventory, IEnumerable<Draft> hosts, bool recordMoves)
        {
            _recordMoves = recordMoves;
            foreach (var d in hosts)
            {
                _free[d.Host.Name] = d.Host.MemoryFreeBytes ?? 0;
                _uuid[d.Host.Name] = d.Host.Uuid;
                var vms = inventory.VmsOn(d.Host).ToList();
                _residents[d.Host.Name] = vms;
                foreach (var vm in vms)
                    _everyVm[vm.Uuid] = 0;
            }
        }

        public long Free(string host) => _free.GetValueOrDefault(host);

        public IReadOnlyList<InventoryVm> Residents(string host) => _residents.GetValueOrDefault(host) ?? [];

        /// <summary>A VM that stays on its host through the reboot (shut down and started again).</summary>
        public bool StaysPut(Draft d, InventoryVm vm) => d.ShutDown.Any(s => s.VmUuid == vm.Uuid);

        /// <summary>
        /// Places every VM of the wave's hosts (their own and those that landed there), largest first, onto the target
        /// with the most free memory that stays up (or, <paramref name="binpack"/>, the least that still fits); null when one does not fit. Nothing changes until <see cref="Apply"/>.
        /// </summary>
        public List<(Draft From, InventoryVm Vm, string To)>? TryPlace(IEnumerable<Draft> wave, IReadOnlyCollection<string> targets, bool binpack = false)
        {
            var hosts = wave.ToList();
            var down = hosts.Select(h => h.Host.Name).ToHashSet(StringComparer.Ordinal);
            var room = targets.Where(t => !down.Contains(t)).Distinct().ToDictionary(t => t, t => _free.GetValueOrDefault(t), StringComparer.Ordinal);
            var result = new List<(Draft, InventoryVm, string)>();
            foreach (var (from, vm) in hosts.SelectMany(h => Residents(h.Host.Name).Where(v => !StaysPut(h, v)).Select(v => (h, v)))
                .OrderByDescending(x => x.v.MemoryBytes ?? 0).ThenBy(x => x.v.Name, StringComparer.Ordinal))
            {
                var need = vm.MemoryBytes ?? 0;
                string? best = null;
                foreach (var (t, f) in room)
                {
                    if (f >= need && (best is null || (binpack ? f < room[best] : f > room[best]) || f == room[best] && string.CompareOrdinal(t, best) < 0))
                        best = t;
                }
                if (best is null)
                    return null;
                room[best] -= need;
                result.Add((from, vm, best));
            }
            return result;
        }

        /// <summary>The wave's VMs move as placed; its hosts reboot empty (but for VMs shut down in place) and are done.</summary>
        public void Apply(List<Draft> wave, List<(Draft From, InventoryVm Vm, string To)> placement)
        {
            foreach (var (from, vm, to) in placement)
            {
                var need = vm.MemoryBytes ?? 0;
                var n = ++_moves.GetValueOrAdd(vm.Uuid);
                _everyVm[vm.Uuid] = n;
                _bytes += need;
                _free[to] -= need;
                _free[from.Host.Name] += need;
                _residents[from.Host.Name].Remove(vm);
                _residents[to].Add(vm);
                if (_recordMoves)
                    from.Moves.Add(new VmMove(vm.Name, vm.Uuid, need, to, _uuid.GetValueOrDefault(to), n));
            }
            foreach (var d in wave)
                Done.Add(d.Host.Name);
        }

        public PlacementFigures Figures() => new(_everyVm.Count, _everyVm.Values.Sum(), _everyVm.Values.DefaultIfEmpty(0).Max(), _everyVm.Values.Count(v => v >= 2), _bytes);
    }

    private static ref int GetValueOrAdd(this Dictionary<string, int> map, string key) =>
        ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(map, key, out _);
}
