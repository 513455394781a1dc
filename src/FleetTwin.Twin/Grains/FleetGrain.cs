using FleetTwin.Twin.Contracts;

namespace FleetTwin.Twin.Grains;

[GenerateSerializer, Alias("fleettwin.fleet-grain-state.v1")]
public sealed class FleetGrainState
{
    [Id(0)] public SortedSet<string> Hosts { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The directory of every host the twin has heard of (single grain, key <c>fleet</c>).</summary>
public sealed class FleetGrain([PersistentState("fleet", TwinStorage.Name)] IPersistentState<FleetGrainState> state) : Grain, IFleetGrain
{
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
