using System.Globalization;
using FleetTwin.Domain.Events;

namespace FleetTwin.Domain.Fleet;

/// <summary>
/// Checks that xe output read together describes one pool the way xapi would print it from one pool master: one
/// pool-list record (one pool uuid, one master), that master in the pool's host-list, and every host a pif-list
/// host-uuid or a vm-list resident-on names in it. A pool's host-list is every host-list run where the pool was reported
/// (a member's filtered `xe host-list name-label=…` adds itself to the master's). Facts are grouped by the host that ran xe (the prompt's host, or
/// --host; output without either is one group), so a transcript of several pool masters is checked master by master.
/// Each inconsistency is named with the file and line of the record that shows it.
/// </summary>
public static class XeConsistency
{
    /// <summary>Every inconsistency found, as "file:line: what", in reading order; empty when the output is consistent.</summary>
    public static IReadOnlyList<string> Check(IEnumerable<TwinEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var problems = new List<string>();
        var groups = events.Where(e => e is PoolFact or XenHostFact or PifFact or VmFact).GroupBy(e => e.Host ?? "", StringComparer.Ordinal)
            .Select(g => (Reporter: g.Key, Facts: g.ToList())).ToList();
        // A pool's hosts are those of every host-list run where that pool was reported: a member's filtered host-list
        // (name-label=itself) lists only itself, the master's the rest.
        var hostsOfPool = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var namesOfPool = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var (_, facts) in groups)
        {
            if (facts.OfType<PoolFact>().FirstOrDefault() is not { } pool)
                continue;
            hostsOfPool.TryAdd(pool.Uuid, new HashSet<string>(StringComparer.Ordinal));
            namesOfPool.TryAdd(pool.Uuid, new SortedSet<string>(StringComparer.Ordinal));
            foreach (var h in facts.OfType<XenHostFact>())
            {
                hostsOfPool[pool.Uuid].Add(h.Uuid);
                namesOfPool[pool.Uuid].Add(h.NameLabel ?? h.Uuid);
            }
        }
        var masterChecked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (reporter, facts) in groups)
        {
            var pools = facts.OfType<PoolFact>().ToList();
            var own = facts.OfType<XenHostFact>().ToList();
            var hostUuids = pools.Count > 0 ? hostsOfPool[pools[0].Uuid] : own.Select(h => h.Uuid).ToHashSet(StringComparer.Ordinal);
            var listed = "hosts: " + string.Join(", ", pools.Count > 0 ? namesOfPool[pools[0].Uuid] : own.Select(h => h.NameLabel ?? h.Uuid).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
            var from = reporter.Length == 0 ? "xe output read without a prompt or --host" : $"xe output run on {reporter}";

            foreach (var other in pools.Where(p => p.Uuid != pools[0].Uuid).DistinctBy(p => p.Uuid))
                problems.Add($"{At(other)}: pool {Name(other)} is a second pool in the {from} (first: pool {Name(pools[0])} at {At(pools[0])}): xe files given together must describe one pool");
            foreach (var p in pools.Where(p => p.Uuid == pools[0].Uuid && p.Master is not null && pools[0].Master is not null && p.Master != pools[0].Master))
                problems.Add($"{At(p)}: pool {Name(p)} has master {p.Master}, but {At(pools[0])} says {pools[0].Master}: one pool has one master");
            if (hostUuids.Count == 0)
                continue;
            foreach (var p in pools.Where(p => p.Master is not null && !hostUuids.Contains(p.Master) && masterChecked.Add(p.Uuid)))
                problems.Add($"{At(p)}: the master {p.Master} of pool {Name(p)} is not in the host-list read ({listed})");
            foreach (var pif in facts.OfType<PifFact>().Where(p => p.HostUuid is not null && !hostUuids.Contains(p.HostUuid)))
                problems.Add($"{At(pif)}: PIF {pif.Uuid} ({pif.Device ?? "no device"}) is on host {pif.HostUuid}{(pif.HostName is null ? "" : $" ({pif.HostName})")}, which the host-list read does not have ({listed})");
            foreach (var vm in facts.OfType<VmFact>().Where(v => v.ResidentOn is not null && !hostUuids.Contains(v.ResidentOn)))
                problems.Add($"{At(vm)}: VM {vm.NameLabel ?? vm.Uuid} is resident on host {vm.ResidentOn}, which the host-list read does not have ({listed})");
        }
        return problems;
    }

    private static string At(TwinEvent e) => string.Create(CultureInfo.InvariantCulture, $"{(e.SourceFile.Length > 0 ? e.SourceFile : "(input)")}:{e.SourceLine}");

    private static string Name(PoolFact p) => p.NameLabel is null ? p.Uuid : $"{p.NameLabel} ({p.Uuid})";

}
