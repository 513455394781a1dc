using FleetTwin.Twin.Contracts;
using Fleet = FleetTwin.Domain.Fleet;

namespace FleetTwin.Api.Services;

/// <summary>Twin views to API messages.</summary>
internal static class ProtoMapping
{
    public static V1.RiskLevel ToProto(Fleet.RiskLevel level) => level switch
    {
        Fleet.RiskLevel.Unknown => V1.RiskLevel.Unknown,
        Fleet.RiskLevel.Ok => V1.RiskLevel.Ok,
        Fleet.RiskLevel.Latent => V1.RiskLevel.Latent,
        Fleet.RiskLevel.Warning => V1.RiskLevel.Warning,
        Fleet.RiskLevel.Critical => V1.RiskLevel.Critical,
        _ => V1.RiskLevel.Unspecified,
    };

    /// <summary>A filter's level; null for "no filter". Throws INVALID_ARGUMENT naming <paramref name="field"/> for an undefined value.</summary>
    public static Fleet.RiskLevel? FromProtoFilter(V1.RiskLevel level, string field) => level switch
    {
        V1.RiskLevel.Unspecified => null,
        V1.RiskLevel.Unknown => Fleet.RiskLevel.Unknown,
        V1.RiskLevel.Ok => Fleet.RiskLevel.Ok,
        V1.RiskLevel.Latent => Fleet.RiskLevel.Latent,
        V1.RiskLevel.Warning => Fleet.RiskLevel.Warning,
        V1.RiskLevel.Critical => Fleet.RiskLevel.Critical,
        _ => throw ApiErrors.InvalidArgument(field, $"{(int)level} is not a RiskLevel (1 unknown .. 5 critical)"),
    };

    public static V1.HostSummary ToProto(HostSummary s)
    {
        var m = new V1.HostSummary
        {
            Name = s.Name,
            Pool = s.Pool ?? "",
            Risk = ToProto(s.Risk),
            RiskReason = s.RiskReason ?? "",
            XenserverRelease = s.XenServerRelease ?? "",
            GroOff = s.GroOff,
            ExhaustionEvents = s.ExhaustionEvents,
            Panics = s.Panics,
        };
        m.Drivers.AddRange(s.Drivers);
        m.Mtus.AddRange(s.Mtus);
        if (s.LastUptime is { } up)
            m.LastUptime = up;
        if (s.PanicProbability is { } p)
            m.PanicProbability24H = p;
        if (s.ExhaustionRatePerHour is { } rate)
            m.ExhaustionRatePerHour = rate;
        return m;
    }

    public static V1.Host ToProto(HostView v, IEnumerable<NicView> nics, IEnumerable<BondView> bonds, SwiotlbView? swiotlb)
    {
        var m = new V1.Host
        {
            Name = v.Name,
            Pool = v.Pool ?? "",
            Uuid = v.Uuid ?? "",
            XenserverRelease = v.XenServerRelease ?? "",
            Kernel = v.Kernel ?? "",
            Boots = v.Boots,
            ExhaustionEvents = v.ExhaustionEvents,
            LargestFailedMappingBytes = v.LargestFailedMappingBytes,
            Risk = Enum.TryParse<Fleet.RiskLevel>(v.Risk, ignoreCase: true, out var level) ? ToProto(level) : V1.RiskLevel.Unknown,
            RiskReason = v.RiskReason ?? "",
            AppliedEvents = v.AppliedEvents,
            DuplicateRecords = v.DuplicateRecords,
            ResidentVms = v.ResidentVms,
            VmStarts = (int)Math.Min(v.VmStartEvents, int.MaxValue),
        };
        if (v.SwiotlbMiB is { } mib) m.SwiotlbMib = mib;
        if (v.FirstExhaustionUptime is { } first) m.FirstExhaustionUptime = first;
        if (v.LastUptime is { } last) m.LastUptime = last;
        if (v.MemoryTotalBytes is { } total) m.MemoryTotalBytes = total;
        if (v.MemoryFreeBytes is { } free) m.MemoryFreeBytes = free;
        m.Hotfixes.AddRange(v.Hotfixes);
        m.Devices.AddRange(v.Devices.Select(d => new V1.DeviceExhaustion { BusId = d.BusId, Device = d.Device ?? "", ExhaustionEvents = d.ExhaustionEvents }));
        foreach (var p in v.Panics)
        {
            var panic = new V1.Panic { Message = p.Message, Cause = p.Cause };
            if (p.Uptime is { } up) panic.Uptime = up;
            panic.Trace.AddRange(p.Trace);
            m.Panics.Add(panic);
        }
        foreach (var n in nics)
        {
            var nic = new V1.Nic
            {
                Device = n.Device,
                BusId = n.BusId ?? "",
                Driver = n.Driver ?? "",
                DriverVersion = n.DriverVersion ?? "",
                GroOverride = n.GroOverride ?? "",
                PifUuid = n.PifUuid ?? "",
                BondSlaveOf = n.BondSlaveOf ?? "",
                BondMasterOf = n.BondMasterOf ?? "",
            };
            if (n.Mtu is { } mtu) nic.Mtu = mtu;
            if (n.Gro is { } gro) nic.Gro = gro;
            nic.OffloadsOn.AddRange(n.OffloadsOn);
            m.Nics.Add(nic);
        }
        foreach (var b in bonds)
        {
            var bond = new V1.Bond { Uuid = b.Uuid, MasterPif = b.MasterPif ?? "", Mode = b.Mode ?? "" };
            bond.MemberPifs.AddRange(b.MemberPifs);
            m.Bonds.Add(bond);
        }
        if (swiotlb is { PoolSlabs: > 0 } s)
        {
            m.Swiotlb = new V1.SwiotlbOccupancy
            {
                PoolSlabs = s.PoolSlabs, SlabsInUse = s.SlabsInUse, HighWaterSlabs = s.HighWaterSlabs, Mappings = s.Mappings,
                LargestFreeRun = s.LargestFreeRun, Fragmentation = s.Fragmentation, ExhaustionEvents = s.ExhaustionEvents,
                Panicked = s.Panicked, PanicMessage = s.PanicMessage ?? "",
            };
        }
        return m;
    }
}
