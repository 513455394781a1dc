using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Streams;

namespace FleetTwin.Twin.Grains;

/// <summary>
/// Persistence for the fleet-wide grains (index, alert log, inventory) that every host grain calls: writing a
/// 10,000-host state after every call would cost O(hosts²) during an ingest, so a call marks the state dirty and a
/// write follows within <see cref="Delay"/> (and on deactivation). A silo crash can lose that window; the host grains
/// keep their own state per batch, and re-push their summary and facts with their next batch.
/// </summary>
public abstract class CoalescedWriteGrain<TState> : Grain where TState : class, new()
{
    protected static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(200);
    private readonly IPersistentState<TState> _state;
    private IGrainTimer? _pending;

    protected CoalescedWriteGrain(IPersistentState<TState> state) => _state = state;

    protected TState State => _state.State;

    protected void MarkDirty()
    {
        _pending ??= this.RegisterGrainTimer(async _ =>
        {
            _pending?.Dispose();
            _pending = null;
            await _state.WriteStateAsync();
        }, new GrainTimerCreationOptions { DueTime = Delay, Period = Timeout.InfiniteTimeSpan });
    }

    protected Task WriteNowAsync() => _state.WriteStateAsync();

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_pending is not null)
        {
            _pending.Dispose();
            _pending = null;
            await _state.WriteStateAsync(cancellationToken);
        }
        await base.OnDeactivateAsync(reason, cancellationToken);
    }
}

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

[GenerateSerializer, Alias("fleettwin.alert-log-state.v1")]
public sealed class AlertLogState
{
    [Id(0)] public string Epoch { get; set; } = "";
    [Id(1)] public long LastSequence { get; set; }
    [Id(2)] public List<TwinAlert> Kept { get; set; } = [];
}

/// <summary>
/// The alert log (key <c>fleet</c>). Persists before publishing, so an alert a client saw is one a reconnecting client
/// can be given again after a restart (with Redis storage; the embedded default starts a new log, which the epoch in
/// the resume token reveals).
/// </summary>
public sealed class AlertLogGrain([PersistentState("alert-log", TwinStorage.Name)] IPersistentState<AlertLogState> state) : Grain, IAlertLogGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Epoch.Length == 0)
        {
            state.State.Epoch = Guid.NewGuid().ToString("N");
            await state.WriteStateAsync(cancellationToken);
        }
        await base.OnActivateAsync(cancellationToken);
    }

    public async Task Append(TwinAlert[] alerts)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        if (alerts.Length == 0)
            return;
        var numbered = new TwinAlert[alerts.Length];
        for (var i = 0; i < alerts.Length; i++)
            numbered[i] = alerts[i] with { Sequence = ++state.State.LastSequence };
        state.State.Kept.AddRange(numbered);
        if (state.State.Kept.Count > AlertLogLimits.Kept)
            state.State.Kept.RemoveRange(0, state.State.Kept.Count - AlertLogLimits.Kept);
        await state.WriteStateAsync();
        var stream = this.GetStreamProvider(TwinStreams.AlertProvider).GetStream<TwinAlert>(TwinStreams.FleetAlerts);
        foreach (var alert in numbered)
            await stream.OnNextAsync(alert);
    }

    public Task<AlertBacklog> Since(string? epoch, long afterSequence)
    {
        var s = state.State;
        var sameLog = epoch == s.Epoch;
        var after = sameLog ? afterSequence : 0;
        var alerts = s.Kept.Where(a => a.Sequence > after).ToArray();
        var oldestKept = s.Kept.Count > 0 ? s.Kept[0].Sequence : s.LastSequence + 1;
        // A gap: the caller's token is from another log (e.g. the embedded silo restarted), or alerts after it were pruned.
        var gap = (epoch is not null && !sameLog) || after + 1 < oldestKept;
        return Task.FromResult(new AlertBacklog(s.Epoch, s.LastSequence, alerts, gap));
    }
}

[GenerateSerializer, Alias("fleettwin.inventory-grain-state.v1")]
public sealed class InventoryGrainState
{
    [Id(0)] public FleetInventory Inventory { get; set; } = new();
}

/// <summary>
/// The fleet inventory (key <c>fleet</c>), fleet-wide because xe on a pool master names other hosts (their PIFs, VMs,
/// host records): the same domain <see cref="FleetInventory"/> the offline verbs build from files.
/// </summary>
public sealed class InventoryGrain([PersistentState("inventory", TwinStorage.Name)] IPersistentState<InventoryGrainState> state)
    : CoalescedWriteGrain<InventoryGrainState>(state), IInventoryGrain
{
    public const string Key = "fleet";

    /// <summary>The events <see cref="FleetInventory.Apply"/> uses; host grains forward exactly these.</summary>
    public static bool IsFact(TwinEvent e) => e is PifFact or BondFact or XenHostFact or PoolFact or HotfixFact or VmFact
        or NicDriver or NicOffloads or LinkMtu or Dom0CommandLine or KernelBoot;

    public Task Apply(TwinEvent[] facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        foreach (var fact in facts)
            State.Inventory.Apply(fact);
        MarkDirty();
        return Task.CompletedTask;
    }

    public Task<FleetInventory> GetInventory() => Task.FromResult(State.Inventory);
}
