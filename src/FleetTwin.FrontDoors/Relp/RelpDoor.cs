using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using FleetTwin.Security;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FleetTwin.FrontDoors.Relp;

/// <summary>
/// RELP, the Reliable Event Logging Protocol rsyslog's omrelp speaks (librelp doc/relp.md). Unlike plain TCP syslog
/// every record is acknowledged: <c>rsp 200 OK</c> for a txnr only once its record has been handed over by the live
/// ingest (<see cref="RecordChunk.HandedOver"/>), <c>rsp 500</c> when the hand-over failed, so the sender keeps and
/// resends it. Reading goes on while earlier txnrs wait (the client's window is the pipeline); answers go out in txnr
/// order. One parser source per session, completed when the session ends, as for the syslog TCP door. A malformed
/// stream ends the session (doc/relp.md, "ERROR HANDLING"), counted by reason and logged once per source address a
/// minute; the answers owed for the frames before it are still sent.
/// </summary>
internal sealed class RelpDoor(
    LiveIngest ingest, IOptions<FrontDoorOptions> options, FrontDoorMetrics metrics, SourceRateLimiter limiter,
    FrontDoorAddresses addresses, FleetTwinEndpointOptions security, DoorRefusals refusals, ILogger<RelpDoor> log) : BackgroundService
{
    /// <summary>TLS from the first byte when <c>FleetTwin:Tls</c> is set (omrelp <c>tls="on"</c>), plain otherwise.</summary>
    private readonly DoorTls? _tls = security.TlsEnabled ? new DoorTls(Door.Relp, security, refusals) : null;
    private readonly FrontDoorOptions _options = options.Value;
    private readonly TcpDoorListener _listener = new(Door.Relp, $"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.RelpPort)}", options.Value, metrics, log);
    private readonly SourceLogThrottle _logThrottle = SourceLogThrottle.PerMinute();

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        addresses.Relp = _listener.Listen(_options.RelpPort);
        addresses.RelpTls = _tls is not null;
        return base.StartAsync(cancellationToken);
    }

    /// <summary>
    /// Stops accepting, stops reading the sessions, and lets each send the answers it owes (the live ingest still runs:
    /// doors stop before it) and the <c>serverclose</c> hint, within the host's shutdown time.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await _listener.StopAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => _listener.AcceptAsync(ServeAsync, stoppingToken);

    private async Task ServeAsync(Socket socket, long id, CancellationToken stoppingToken)
    {
        socket.NoDelay = true; // answers are small and a client's window waits for them
        var peer = (socket.RemoteEndPoint as IPEndPoint)?.Address;
        var source = $"relp {socket.RemoteEndPoint} #{id}";
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            if (_tls is not null)
            {
                var ssl = await _tls.AcceptAsync(stream, peer, TimeSpan.FromSeconds(Math.Min(30, _options.TcpIdleTimeoutSeconds)), stoppingToken);
                if (ssl is null)
                    return; // refused at the handshake (counted)
                stream = ssl;
            }
            await ServeAsync(stream, source, peer, stoppingToken);
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    public override void Dispose()
    {
        _tls?.Dispose();
        _listener.Dispose();
        base.Dispose();
    }

    /// <summary>One session over <paramref name="stream"/> (plain TCP, or TLS once the handshake is done).</summary>
    internal async Task ServeAsync(Stream stream, string source, IPAddress? peer, CancellationToken stoppingToken)
    {
        var framer = new RelpFramer(_options.MaxRecordBytes);
        var session = new RelpSession();
        var responder = new RelpResponder(stream);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var idle = TimeSpan.FromSeconds(_options.TcpIdleTimeoutSeconds);
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        // The peer stopped taking answers (the writer failed): stop reading it too.
        _ = responder.Completion.ContinueWith(_ =>
        {
            try
            {
                reading.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The session had already ended.
            }
        }, TaskScheduler.Default);
        var submitted = false;
        try
        {
            while (true)
            {
                reading.CancelAfter(idle);
                int read;
                try
                {
                    read = await stream.ReadAsync(buffer, reading.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested && !responder.Completion.IsCompleted)
                {
                    metrics.Rejected(Door.Relp, RejectReason.IdleTimeout);
                    break;
                }
                catch (OperationCanceledException)
                {
                    break; // stopping, or the peer is gone
                }
                if (read == 0)
                {
                    if (!framer.Finish())
                        Refused(peer, source, framer.ErrorReason!, framer.Error!);
                    break;
                }
                var chunk = new RecordChunk(Door.Relp, source, null, read + read / 8 + 64);
                var handedOver = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                chunk.HandedOver = handedOver;
                session.Begin(chunk, handedOver.Task);
                var whole = framer.Feed(buffer.AsSpan(0, read), session);
                session.End();
                if (session.UnknownCommands > 0)
                    metrics.Rejected(Door.Relp, RejectReason.RelpUnknownCommand, session.UnknownCommands);
                if (chunk.Records > 0)
                {
                    var wait = limiter.Take(peer, chunk.Records);
                    if (wait > TimeSpan.Zero)
                        await Task.Delay(wait, stoppingToken); // over its rate: read more slowly, not dropped
                    await ingest.AdmitAsync(chunk.Records, stoppingToken);
                    chunk.Admitted = chunk.Records;
                    metrics.Accepted(Door.Relp, chunk.Records);
                    ingest.Submit(chunk);
                    submitted = true;
                }
                else
                {
                    chunk.Release();
                    handedOver.TrySetResult(); // only empty messages (or none): nothing to wait for
                }
                foreach (var answer in session.Answers)
                    await responder.EnqueueAsync(answer, stoppingToken);
                if (!whole)
                {
                    if (session.Closed)
                        break;
                    var (reason, error) = framer.Error is not null ? (framer.ErrorReason!, framer.Error) : (session.ErrorReason!, session.Error!);
                    Refused(peer, source, reason, error);
                    break;
                }
            }
        }
        catch (Exception error) when (error is OperationCanceledException or ChannelClosedException)
        {
            // Stopping while admission waited, or the peer went away while answers queued.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            // The client that sent close gets its answer and no hint; a session the server ends is told so.
            responder.Complete(serverClose: !session.Closed);
            await responder.Completion;
            if (responder.Failed > 0)
                metrics.Rejected(Door.Relp, RejectReason.HandOverFailed, responder.Failed);
            if (submitted)
                ingest.EndSource(Door.Relp, source);
        }
    }

    private void Refused(IPAddress? peer, string source, string reason, string error)
    {
        metrics.Rejected(Door.Relp, reason);
        if (_logThrottle.ShouldLog(peer))
            log.LogWarning("relp: {Source} sent a stream the door refuses ({Reason}: {Error}); the session is closed (further refusals of this address are counted, not logged, for a minute)", source, reason, error);
    }
}
