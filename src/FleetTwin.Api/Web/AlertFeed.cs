using System.Threading.Channels;
using FleetTwin.Api.Services;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.Api.Web;

/// <summary>
/// The latest alerts in this silo's memory, for the console's alert list and host pages: read once from the alert log
/// grain (what it keeps, <see cref="AlertLogLimits.Kept"/>), then followed live through this silo's one alert-stream
/// subscription (<see cref="AlertHub"/>), so a page load costs no grain call and no copy of the whole log. Started by the
/// first reader; if it ever falls behind the stream, it reads the log again.
/// </summary>
internal sealed class AlertFeed(IGrainFactory grains, AlertHub hub)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<TwinAlert> _kept = new();
    private Task? _following;
    private long _last;

    /// <summary>The latest alerts, newest first, at most <paramref name="limit"/>, of one host and/or pool when given.</summary>
    public async Task<ConsoleApi.AlertRow[]> LatestAsync(int limit, string? host = null, string? pool = null)
    {
        Task following;
        lock (_lock)
        {
            if (_following is { IsFaulted: true })
                _following = null; // the log could not be read (the twin was unavailable): try again
            following = _following ??= FollowAsync();
        }
        if (!following.IsCompleted && _kept.Count == 0)
            await Task.WhenAny(following, _loaded.Task);
        lock (_lock)
        {
            var rows = new List<ConsoleApi.AlertRow>(Math.Min(limit, _kept.Count));
            for (var node = _kept.Last; node is not null && rows.Count < limit; node = node.Previous)
            {
                var a = node.Value;
                if ((host is null || string.Equals(a.Host, host, StringComparison.Ordinal)) && (pool is null || string.Equals(a.Pool, pool, StringComparison.Ordinal)))
                    rows.Add(ConsoleApi.AlertRow.Of(a));
            }
            return [.. rows];
        }
    }

    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task FollowAsync()
    {
        while (true)
        {
            // Join the live feed first, then read the log: an alert raised in between is in both and kept once.
            Channel<TwinAlert> channel;
            try
            {
                channel = await hub.JoinAsync();
            }
            catch (Grpc.Core.RpcException)
            {
                _loaded.TrySetResult(); // the silo is stopping
                return;
            }
            try
            {
                var backlog = await grains.GetGrain<IAlertLogGrain>(TwinGrainKeys.Fleet).Since(null, 0);
                lock (_lock)
                {
                    foreach (var alert in backlog.Alerts)
                        Keep(alert);
                }
                _loaded.TrySetResult();
                await foreach (var alert in channel.Reader.ReadAllAsync())
                {
                    lock (_lock)
                        Keep(alert);
                }
                return; // completed without error: the silo is stopping
            }
            catch (Grpc.Core.RpcException)
            {
                // Fell behind the stream (the hub ended this watcher): read the log again.
            }
            finally
            {
                hub.Leave(channel);
            }
        }
    }

    private void Keep(TwinAlert alert)
    {
        if (alert.Sequence <= _last)
            return;
        _last = alert.Sequence;
        _kept.AddLast(alert);
        while (_kept.Count > AlertLogLimits.Kept)
            _kept.RemoveFirst();
    }
}
