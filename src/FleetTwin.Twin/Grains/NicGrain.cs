using FleetTwin.Domain.Events;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.Twin.Grains;

[GenerateSerializer, Alias("fleettwin.nic-grain-state.v1")]
public sealed class NicGrainState
{
    [Id(0)] public string? BusId { get; set; }
    [Id(1)] public string? Driver { get; set; }
    [Id(2)] public string? DriverVersion { get; set; }
    [Id(3)] public int? Mtu { get; set; }
    [Id(4)] public bool? Gro { get; set; }
    [Id(5)] public string? GroOverride { get; set; }
    [Id(6)] public string? PifUuid { get; set; }
    [Id(7)] public string? BondSlaveOf { get; set; }
    [Id(8)] public string? BondMasterOf { get; set; }
    [Id(9)] public string[] OffloadsOn { get; set; } = [];
}

/// <summary>
/// One NIC of a host (key <c>host/eth4</c>): what ethtool, ip link and xe say about it. Its host forwards the facts
/// in one call per batch.
/// </summary>
public sealed class NicGrain([PersistentState("nic", TwinStorage.Name)] IPersistentState<NicGrainState> state) : Grain, INicGrain
{
    public async Task Apply(TwinEvent[] facts)
    {
        var s = state.State;
        foreach (var fact in facts)
        {
            switch (fact)
            {
                case NicDriver d:
                    s.Driver = d.Driver;
                    s.DriverVersion = d.Version ?? s.DriverVersion;
                    s.BusId = d.BusInfo ?? s.BusId;
                    break;
                case NicOffloads o:
                    s.Gro = o.GenericReceiveOffload ?? s.Gro;
                    s.OffloadsOn = o.Offloads.Where(x => x.Enabled).Select(x => x.Name).ToArray();
                    break;
                case LinkMtu l:
                    s.Mtu = l.Mtu;
                    break;
                case PifFact p:
                    s.PifUuid = p.Uuid;
                    s.Mtu = p.Mtu ?? s.Mtu;
                    s.BondSlaveOf = p.BondSlaveOf;
                    s.BondMasterOf = p.BondMasterOf;
                    s.GroOverride = p.EthtoolGro;
                    break;
            }
        }
        await state.WriteStateAsync();
    }

    public Task<NicView> GetView()
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var s = state.State;
        return Task.FromResult(new NicView
        {
            Host = slash < 0 ? key : key[..slash],
            Device = slash < 0 ? key : key[(slash + 1)..],
            BusId = s.BusId,
            Driver = s.Driver,
            DriverVersion = s.DriverVersion,
            Mtu = s.Mtu,
            Gro = s.Gro,
            GroOverride = s.GroOverride,
            PifUuid = s.PifUuid,
            BondSlaveOf = s.BondSlaveOf,
            BondMasterOf = s.BondMasterOf,
            OffloadsOn = s.OffloadsOn,
        });
    }
}
