using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Prediction;
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
            try
            {
                await _state.WriteStateAsync(cancellationToken);
            }
            catch (Exception error) when (reason.ReasonCode == DeactivationReasonCode.ShuttingDown)
            {
                // The embedded default's memory storage lives in grains that are already gone when the silo stops (and
                // loses everything anyway); Redis storage is still there. Say so instead of failing the shutdown.
                ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(GetType())
                    .LogWarning("{Grain}: last changes not persisted while the silo shut down: {Error}", GetType().Name, error.Message);
            }
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
/// <para>
/// Writes are group commits: the state holds up to <see cref="AlertLogLimits.Kept"/> alerts and is written whole, so
/// a write per append made a fleet coming on line (every host announcing its first risk level) cost O(alerts²).
/// Appends arriving while a write is in flight wait for the next write, which takes all of them.
/// </para>
/// </summary>
public sealed class AlertLogGrain([PersistentState("alert-log", TwinStorage.Name)] IPersistentState<AlertLogState> state) : Grain, IAlertLogGrain
{
    private List<TwinAlert>? _waiting;
    private TaskCompletionSource? _nextCommit;
    private Task? _committing;

    /// <summary>The last sequence number known to be in storage; <see cref="Since"/> never hands out later ones.</summary>
    private long _durableSequence;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Epoch.Length == 0)
        {
            state.State.Epoch = Guid.NewGuid().ToString("N");
            await state.WriteStateAsync(cancellationToken);
        }
        _durableSequence = state.State.LastSequence;
        await base.OnActivateAsync(cancellationToken);
    }

    public Task Append(TwinAlert[] alerts)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        if (alerts.Length == 0)
            return Task.CompletedTask;
        (_waiting ??= []).AddRange(alerts);
        _nextCommit ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var committed = _nextCommit.Task;
        if (_committing is null or { IsCompleted: true })
            _committing = CommitWaitingAsync();
        return committed;
    }

    /// <summary>
    /// Commits start at least this far apart, so a flood of appends gathers into a few large writes (each write is the
    /// whole kept log) instead of many small ones; an alert waits at most this long for its write to begin.
    /// </summary>
    private static readonly TimeSpan MinCommitInterval = TimeSpan.FromMilliseconds(20);
    /// <summary>Stopwatch timestamp of the last commit's start; 0 before the first.</summary>
    private long _lastCommitStarted;

    private async Task CommitWaitingAsync()
    {
        while (_waiting is { Count: > 0 })
        {
            if (_lastCommitStarted != 0 && MinCommitInterval - System.Diagnostics.Stopwatch.GetElapsedTime(_lastCommitStarted) is { Ticks: > 0 } wait)
                await Task.Delay(wait); // appends interleave meanwhile and join this commit
            _lastCommitStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            var waiting = _waiting!;
            var commit = _nextCommit!;
            _waiting = null;
            _nextCommit = null;
            var s = state.State;
            var (keptBefore, sequenceBefore) = (s.Kept, s.LastSequence);
            var numbered = new TwinAlert[waiting.Count];
            for (var i = 0; i < numbered.Length; i++)
                numbered[i] = waiting[i] with { Sequence = ++s.LastSequence };
            // The newest AlertLogLimits.Kept of what was kept and what came (a commit may bring more than that).
            var skip = Math.Max(0, keptBefore.Count + numbered.Length - AlertLogLimits.Kept);
            s.Kept = [.. keptBefore.Concat(numbered).Skip(skip)];
            try
            {
                await state.WriteStateAsync();
            }
            catch (Exception error)
            {
                // Not durable, so not numbered: back to the state before, and every append of this commit sees the failure.
                (s.Kept, s.LastSequence) = (keptBefore, sequenceBefore);
                commit.SetException(error);
                continue;
            }
            _durableSequence = s.LastSequence;
            try
            {
                // One stream message per commit, not per alert (a fleet coming on line commits hundreds at once).
                var stream = this.GetStreamProvider(TwinStreams.AlertProvider).GetStream<TwinAlert>(TwinStreams.FleetAlerts);
                await stream.OnNextBatchAsync(numbered);
                commit.SetResult();
            }
            catch (Exception error)
            {
                // Durable but not all published: watchers catch up from the log with their resume token.
                commit.SetException(error);
            }
        }
    }

    public Task<AlertBacklog> Since(string? epoch, long afterSequence)
    {
        var s = state.State;
        var sameLog = epoch == s.Epoch;
        var after = sameLog ? afterSequence : 0;
        var alerts = s.Kept.Where(a => a.Sequence > after && a.Sequence <= _durableSequence).ToArray();
        var oldestKept = s.Kept.Count > 0 ? s.Kept[0].Sequence : _durableSequence + 1;
        // A gap: the caller's token is from another log (e.g. the embedded silo restarted), or alerts after it were pruned.
        var gap = (epoch is not null && !sameLog) || after + 1 < oldestKept;
        return Task.FromResult(new AlertBacklog(s.Epoch, _durableSequence, alerts, gap));
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

    /// <summary>Pool each host was last told it belongs to (rebuilt after activation by telling them again).</summary>
    private readonly Dictionary<string, string> _toldPool = new(StringComparer.Ordinal);

    /// <summary>Configuration each host was last told (after activation every affected host is told again: it ignores the same facts).</summary>
    private readonly Dictionary<string, HostConfigurationFacts> _toldConfiguration = new(StringComparer.Ordinal);

    public Task Apply(TwinEvent[] facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        HashSet<string>? reporters = null;
        var affected = new HashSet<string>(StringComparer.Ordinal);
        var poolWide = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fact in facts)
        {
            State.Inventory.Apply(fact);
            if (fact is PoolFact or XenHostFact && fact.Host is { } reporter)
                (reporters ??= new HashSet<string>(StringComparer.Ordinal)).Add(reporter);
            if (fact.Host is { } host)
                affected.Add(host);
            switch (fact)
            {
                case PifFact { HostName: { } pifHost }: affected.Add(pifHost); break;
                case XenHostFact { NameLabel: { } listed }: affected.Add(listed); break;
            }
            // A master's PIF, bond and host lists speak for every host of its pool.
            if (fact is PifFact or BondFact or XenHostFact && fact.Host is { } master)
                poolWide.Add(master);
        }
        MarkDirty();
        if (reporters is not null)
            TellMembersTheirPool(reporters);
        TellHostsTheirConfiguration(affected, poolWide);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Sends each affected host its configuration when it changed, so the host grain's own risk (and with it the index,
    /// ListHosts, the alert watch and the metrics) uses the same configuration the planner does. One-way, like
    /// <see cref="TellMembersTheirPool"/>: the host may be the grain whose batch is being forwarded here.
    /// </summary>
    private void TellHostsTheirConfiguration(HashSet<string> affected, HashSet<string> poolWide)
    {
        var inventory = State.Inventory;
        if (poolWide.Count > 0)
        {
            foreach (var pool in inventory.Pools.Values.Where(p => p.ReportedBy.Overlaps(poolWide)))
                affected.UnionWith(inventory.HostsOf(pool).Select(h => h.Name));
        }
        foreach (var name in affected)
        {
            if (name.Length == 0 || !inventory.Hosts.TryGetValue(name, out var host))
                continue;
            var facts = HostConfigurationFacts.From(HostConfiguration.From(inventory, host));
            if (facts.SameAs(_toldConfiguration.GetValueOrDefault(name)))
                continue;
            _toldConfiguration[name] = facts;
            GrainFactory.GetGrain<IHostGrain>(name).SetConfiguration(facts).Ignore();
        }
    }

    /// <summary>
    /// Only the master's xe pool-list names the pool; its xe host-list names the members. Each member host is told its
    /// pool once (one-way: the host may be the very grain whose batch is being forwarded here). Only the pools the
    /// batch's reporting hosts speak for are looked at, not the whole fleet per batch.
    /// </summary>
    private void TellMembersTheirPool(HashSet<string> reporters)
    {
        var inventory = State.Inventory;
        foreach (var pool in inventory.Pools.Values.Where(p => p.ReportedBy.Overlaps(reporters)))
        {
            var name = pool.Name ?? pool.Uuid;
            foreach (var host in inventory.HostsOf(pool))
            {
                if (host.Name.Length == 0 || (_toldPool.TryGetValue(host.Name, out var told) && told == name))
                    continue;
                _toldPool[host.Name] = name;
                GrainFactory.GetGrain<IHostGrain>(host.Name).JoinPool(name).Ignore();
            }
        }
    }

    public Task<FleetInventory> GetInventory() => Task.FromResult(State.Inventory);
}
