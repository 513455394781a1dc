using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Streams;

namespace FleetTwin.Twin.Grains;

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
