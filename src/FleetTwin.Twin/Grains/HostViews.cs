using FleetTwin.Domain.Fleet;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.Twin.Grains;

/// <summary>Translates the domain's host state into the view the API and CLI show.</summary>
internal static class HostViews
{
    public static HostView From(HostState host, Domain.Prediction.PanicPrediction risk)
    {
        var devices = host.ExhaustionEventsByDevice
            .OrderBy(d => d.Key, StringComparer.Ordinal)
            .Select(d => new DeviceExhaustionView(d.Key, host.DeviceOf(d.Key), d.Value))
            .ToArray();
        var nics = host.Nics.Select(n => new NicView { Host = host.Name, Device = n, BusId = host.BusIdByDevice.GetValueOrDefault(n) }).ToArray();
        return new HostView
        {
            Name = host.Name,
            Pool = host.Pool,
            Uuid = host.Uuid,
            XenServerRelease = host.XenServerRelease,
            Kernel = host.Kernel,
            Boots = host.Boots,
            ExhaustionEvents = host.ExhaustionEvents,
            LargestFailedMappingBytes = host.LargestFailedMappingBytes,
            Devices = devices,
            Panics = host.Panics.Select(p => new PanicView(p.Uptime, p.Time, p.Message, p.Comm, p.Pid, p.Trace, p.CauseBytes, p.CauseDevice, p.CauseDirection, p.Via)).ToArray(),
            VmStarts = host.VmStarts.Select(v => new VmStartView(v.Domid, v.Uptime, v.Time)).ToArray(),
            VmStartEvents = host.VmStartEvents,
            Nics = nics,
            Bonds = [.. host.Bonds],
            SwiotlbMiB = host.SwiotlbMiB,
            Risk = risk.Level.ToString().ToLowerInvariant(),
            RiskReason = risk.Reason,
            FirstExhaustionUptime = host.Exhaustions.Count > 0 ? host.Exhaustions[0].Uptime : null,
            LastUptime = host.LastUptime,
            AppliedEvents = host.AppliedEvents,
            DuplicateRecords = host.DuplicateRecords,
            Hotfixes = [.. host.Hotfixes],
            MemoryTotalBytes = host.MemoryTotalBytes,
            MemoryFreeBytes = host.MemoryFreeBytes,
            ResidentVms = host.ResidentVmMemory.Count,
        };
    }

    /// <summary>
    /// The host's bonds: those its own xe bond-list named, plus those its PIFs name (bond-slave-of / bond-master-of).
    /// xe bond-list run on the pool master lists every host's bonds as the master's facts, so a member host often
    /// knows its bonds only through its PIFs.
    /// </summary>
    public static IEnumerable<BondView> BondsOf(string host, List<BondView> listed, NicView[] nics)
    {
        var uuids = nics.Select(n => n.BondSlaveOf).Concat(nics.Select(n => n.BondMasterOf)).OfType<string>()
            .Where(u => u.Length > 0 && listed.All(b => b.Uuid != u)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        foreach (var uuid in uuids)
        {
            var master = nics.FirstOrDefault(n => n.BondMasterOf == uuid)?.PifUuid;
            var members = nics.Where(n => n.BondSlaveOf == uuid).Select(n => n.PifUuid ?? n.Device).ToArray();
            listed.Add(new BondView(host, uuid, master, members, null));
        }
        return listed;
    }
}
