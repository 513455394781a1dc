using FleetTwin.Twin.Contracts;

namespace FleetTwin.Twin.Grains;

[GenerateSerializer, Alias("fleettwin.pool-grain-state.v1")]
public sealed class PoolGrainState
{
    [Id(0)] public SortedSet<string> Hosts { get; set; } = new(StringComparer.Ordinal);
    [Id(1)] public string? MasterUuid { get; set; }
}

/// <summary>One pool (key: its name-label): member hosts and master.</summary>
public sealed class PoolGrain([PersistentState("pool", TwinStorage.Name)] IPersistentState<PoolGrainState> state) : Grain, IPoolGrain
{
    public async Task AddHost(string host)
    {
        if (state.State.Hosts.Add(host))
            await state.WriteStateAsync();
    }

    public async Task SetMaster(string? masterUuid)
    {
        if (masterUuid is not null && masterUuid != state.State.MasterUuid)
        {
            state.State.MasterUuid = masterUuid;
            await state.WriteStateAsync();
        }
    }

    public Task<PoolView> GetView() => Task.FromResult(new PoolView(this.GetPrimaryKeyString(), state.State.MasterUuid, [.. state.State.Hosts]));
}
