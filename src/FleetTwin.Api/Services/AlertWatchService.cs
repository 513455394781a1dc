using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using FleetTwin.Api.V1;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Grains;
using FleetTwin.Twin.Streams;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Orleans.Streams;
using Fleet = FleetTwin.Domain.Fleet;

namespace FleetTwin.Api.Services;

/// <summary>
/// This silo's single subscription to the fleet's alert stream (<c>alerts</c>/<c>fleet</c>), fanned out to the Watch
/// calls it serves: one stream subscription per silo, not one per client.
/// </summary>
internal sealed class AlertHub(IClusterClient client)
{
    /// <summary>Alerts a watcher may lag behind before its call is ended (it reconnects with its resume token).</summary>
    public const int WatcherBuffer = 10_000;

    private readonly ConcurrentDictionary<Channel<TwinAlert>, byte> _watchers = new();
    private readonly Lock _lock = new();
    private Task<StreamSubscriptionHandle<TwinAlert>>? _subscription;
    private volatile bool _closed;

    public async Task<Channel<TwinAlert>> JoinAsync()
    {
        if (_closed)
            throw new RpcException(new Status(StatusCode.Unavailable, "the silo is shutting down: reconnect to another silo or retry"));
        var channel = Channel.CreateBounded<TwinAlert>(new BoundedChannelOptions(WatcherBuffer) { SingleReader = true });
        _watchers[channel] = 0;
        Task<StreamSubscriptionHandle<TwinAlert>> subscription;
        lock (_lock)
            subscription = _subscription ??= client.GetStreamProvider(TwinStreams.AlertProvider).GetStream<TwinAlert>(TwinStreams.FleetAlerts).SubscribeAsync(OnAlertsAsync);
        await subscription;
        return channel;
    }

    public void Leave(Channel<TwinAlert> channel) => _watchers.TryRemove(channel, out _);

    /// <summary>Ends every watch (the silo is stopping): each call completes with OK and its client reconnects.</summary>
    public void Close()
    {
        _closed = true;
        foreach (var channel in _watchers.Keys)
            channel.Writer.TryComplete();
        if (_subscription is { IsCompletedSuccessfully: true } s)
            _ = s.Result.UnsubscribeAsync();
    }

    private Task OnAlertsAsync(TwinAlert alert, StreamSequenceToken? token)
    {
        foreach (var channel in _watchers.Keys)
        {
            if (!channel.Writer.TryWrite(alert))
            {
                channel.Writer.TryComplete(new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"the client fell {WatcherBuffer} alerts behind: reconnect with the last resume_token")));
            }
        }
        return Task.CompletedTask;
    }
}

/// <summary>fleettwin.v1.AlertService: risk changes and panics as they happen, resumable.</summary>
internal sealed class AlertWatchService(IGrainFactory grains, AlertHub hub) : AlertService.AlertServiceBase
{
    public override async Task Watch(WatchRequest request, IServerStreamWriter<Alert> responseStream, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        string? pool = null;
        if (request.Pool.Length > 0)
        {
            ApiErrors.CheckName(request.Pool, "pool");
            pool = request.Pool;
        }
        var minRisk = ProtoMapping.FromProtoFilter(request.MinRisk, "min_risk");
        var resume = ResumeToken.Read(request.ResumeToken);

        // Join the live feed first, then read the log: an alert raised in between is in both and sent once.
        var channel = await hub.JoinAsync();
        try
        {
            var log = grains.GetGrain<IAlertLogGrain>(TwinGrainKeys.Fleet);
            var backlog = await log.Since(resume?.Epoch, resume?.Sequence ?? long.MaxValue).WaitAsync(ct);
            var epoch = backlog.Epoch;
            var last = resume is null ? backlog.LastSequence : Math.Max(resume.Value.Epoch == epoch ? resume.Value.Sequence : 0, 0);
            var gap = resume is not null && backlog.Gap;
            if (resume is not null)
            {
                foreach (var alert in backlog.Alerts)
                {
                    last = alert.Sequence;
                    if (Matches(alert, pool, minRisk))
                    {
                        await responseStream.WriteAsync(ToProto(alert, epoch, gap), ct);
                        gap = false;
                    }
                }
            }
            await foreach (var alert in channel.Reader.ReadAllAsync(ct))
            {
                if (alert.Sequence <= last)
                    continue;
                last = alert.Sequence;
                if (Matches(alert, pool, minRisk))
                {
                    await responseStream.WriteAsync(ToProto(alert, epoch, gap), ct);
                    gap = false;
                }
            }
        }
        finally
        {
            hub.Leave(channel);
        }
    }

    private static bool Matches(TwinAlert alert, string? pool, Fleet.RiskLevel? minRisk) =>
        (pool is null || string.Equals(alert.Pool, pool, StringComparison.Ordinal))
        && (minRisk is null || (alert.Risk > alert.PreviousRisk ? alert.Risk : alert.PreviousRisk) >= minRisk);

    private static Alert ToProto(TwinAlert a, string epoch, bool gap)
    {
        var m = new Alert
        {
            ResumeToken = ResumeToken.Write(epoch, a.Sequence),
            Sequence = a.Sequence,
            Host = a.Host,
            Pool = a.Pool ?? "",
            Kind = a.Kind == Twin.Contracts.AlertKind.Panic ? V1.AlertKind.Panic : V1.AlertKind.RiskChanged,
            PreviousRisk = ProtoMapping.ToProto(a.PreviousRisk),
            Risk = ProtoMapping.ToProto(a.Risk),
            Reason = a.Reason ?? "",
            PanicMessage = a.PanicMessage ?? "",
            RaisedAt = Timestamp.FromDateTimeOffset(a.RaisedAt),
            Gap = gap,
        };
        if (a.Uptime is { } up)
            m.Uptime = up;
        return m;
    }

    /// <summary>Resume tokens: <c>epoch.sequence</c> — the alert log's identity and the alert's number in it.</summary>
    internal static class ResumeToken
    {
        public static string Write(string epoch, long sequence) => string.Create(CultureInfo.InvariantCulture, $"{epoch}.{sequence}");

        public static (string Epoch, long Sequence)? Read(string token)
        {
            if (token.Length == 0)
                return null;
            var dot = token.LastIndexOf('.');
            if (dot <= 0 || token.Length > 100 || !long.TryParse(token.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
                || token.AsSpan(0, dot).ContainsAnyExcept("0123456789abcdef"))
                throw ApiErrors.InvalidArgument("resume_token", "not a token this API issued (expected the resume_token of an Alert)");
            return (token[..dot], sequence);
        }
    }
}
