using FleetTwin.Twin.Contracts;

namespace FleetTwin.Twin.Grains;

[GenerateSerializer, Alias("fleettwin.host-index-state.v1")]
public sealed class HostIndexState
{
    [Id(0)] public string Epoch { get; set; } = "";
    [Id(1)] public long Version { get; set; }
    [Id(2)] public Dictionary<string, HostSummary> Hosts { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The host index (key <c>fleet</c>): summaries pushed by host grains, read as deltas by the API's caches.</summary>
public sealed class HostIndexGrain([PersistentState("host-index", TwinStorage.Name)] IPersistentState<HostIndexState> state)
    : CoalescedWriteGrain<HostIndexState>(state), IHostIndexGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (State.Epoch.Length == 0)
        {
            State.Epoch = Guid.NewGuid().ToString("N");
            await WriteNowAsync();
        }
        await base.OnActivateAsync(cancellationToken);
    }

    public Task Update(HostSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        State.Hosts[summary.Name] = summary with { Version = ++State.Version };
        MarkDirty();
        return Task.CompletedTask;
    }

    public Task<HostIndexDelta> GetChanges(string? epoch, long sinceVersion)
    {
        var since = epoch is null || epoch == State.Epoch ? sinceVersion : 0;
        if (since >= State.Version)
            return Task.FromResult(new HostIndexDelta(State.Epoch, State.Version, []));
        var changed = State.Hosts.Values.Where(h => h.Version > since).ToArray();
        return Task.FromResult(new HostIndexDelta(State.Epoch, State.Version, changed));
    }
}
