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

[GenerateSerializer, Alias("fleettwin.fleet-grain-state.v1")]
public sealed class FleetGrainState
{
    [Id(0)] public SortedSet<string> Hosts { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The directory of every host the twin has heard of (single grain, key <c>fleet</c>).</summary>
public sealed class FleetGrain([PersistentState("fleet", TwinStorage.Name)] IPersistentState<FleetGrainState> state) : Grain, IFleetGrain
{
    public const string Key = "fleet";

    public Task RegisterHost(string host) => RegisterHosts([host]);

    public async Task RegisterHosts(string[] hosts)
    {
        var added = false;
        foreach (var host in hosts)
            added |= state.State.Hosts.Add(host);
        if (added)
            await state.WriteStateAsync();
    }

    public Task<string[]> ListHosts() => Task.FromResult(state.State.Hosts.ToArray());
}
