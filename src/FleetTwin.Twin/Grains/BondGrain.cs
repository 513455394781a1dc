using FleetTwin.Domain.Events;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.Twin.Grains;

[GenerateSerializer, Alias("fleettwin.bond-grain-state.v1")]
public sealed class BondGrainState
{
    [Id(0)] public string? MasterPif { get; set; }
    [Id(1)] public string[] MemberPifs { get; set; } = [];
    [Id(2)] public string? Mode { get; set; }
    [Id(3)] public bool Known { get; set; }
}

/// <summary>One bond of a host (key <c>host/bond-uuid</c>): its master PIF and member PIFs (xe bond-list).</summary>
public sealed class BondGrain([PersistentState("bond", TwinStorage.Name)] IPersistentState<BondGrainState> state) : Grain, IBondGrain
{
    public async Task Apply(BondFact fact)
    {
        state.State.MasterPif = fact.Master;
        state.State.MemberPifs = fact.Slaves;
        state.State.Mode = fact.Mode ?? state.State.Mode;
        state.State.Known = true;
        await state.WriteStateAsync();
    }

    public Task<BondView?> GetView()
    {
        if (!state.State.Known)
            return Task.FromResult<BondView?>(null);
        var key = this.GetPrimaryKeyString();
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return Task.FromResult<BondView?>(new BondView(key[..Math.Max(0, slash)], key[(slash + 1)..], state.State.MasterPif, state.State.MemberPifs, state.State.Mode));
    }
}
