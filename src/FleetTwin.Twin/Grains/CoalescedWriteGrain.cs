using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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
