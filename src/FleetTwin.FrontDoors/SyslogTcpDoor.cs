using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using FleetTwin.Security;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FleetTwin.FrontDoors;

/// <summary>
/// Syslog over a byte stream: plain TCP (RFC 6587) or TLS (RFC 5425). One parser source per connection, completed
/// when the peer closes (like the end of a file). Back-pressure: while the twin is behind, the connection is not read,
/// the kernel's receive window fills and the sender blocks (rsyslog queues, logger waits) instead of records being
/// dropped. Best-effort (docs/durability.md): neither transport has an acknowledgement, so what a sender wrote and the
/// silo had not yet handed over when it died is lost; RELP is the acknowledged door.
/// </summary>
internal abstract class SyslogStreamDoor(
    string door, int port, string portSetting, LiveIngest ingest, FrontDoorOptions options, FrontDoorMetrics metrics,
    SourceRateLimiter limiter, ILogger log) : BackgroundService
{
    private readonly TcpDoorListener _listener = new(door, portSetting, options, metrics, log);

    protected string DoorName => door;

    protected FrontDoorOptions Options => options;

    /// <summary>Where the door listens once bound (its port of 0 resolved).</summary>
    protected abstract void Announce(IPEndPoint endpoint);

    /// <summary>The stream to read a connection from: the socket itself, or a TLS session over it; null when the peer was refused (counted).</summary>
    protected abstract ValueTask<Stream?> OpenAsync(Socket socket, IPAddress? peer, CancellationToken stoppingToken);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Announce(_listener.Listen(port));
        return base.StartAsync(cancellationToken);
    }

    /// <summary>Stops accepting, then lets each connection hand over what it read (the live ingest stops after the doors).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await _listener.StopAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => _listener.AcceptAsync(ServeAsync, stoppingToken);

    private async Task ServeAsync(Socket socket, long id, CancellationToken stoppingToken)
    {
        var peer = (socket.RemoteEndPoint as IPEndPoint)?.Address;
        var stream = await OpenAsync(socket, peer, stoppingToken);
        if (stream is null)
            return;
        await using (stream)
        {
            await ReadAsync(stream, $"{door} {socket.RemoteEndPoint} #{id}", peer, stoppingToken);
            if (stream is SslStream ssl)
                await ReplyCloseNotifyAsync(ssl);
        }
    }

    /// <summary>RFC 5425 §4.4: a receiver that gets the sender's close_notify replies with one before closing.</summary>
    private async Task ReplyCloseNotifyAsync(SslStream ssl)
    {
        try
        {
            await ssl.ShutdownAsync();
        }
        catch (Exception error) when (error is IOException or ObjectDisposedException or InvalidOperationException)
        {
            log.LogDebug(error, "{Door}: close_notify not sent (the sender is gone)", door);
        }
    }

    /// <summary>Reads one connection to its end: frames (<see cref="SyslogFramer"/>), admits and submits each read's records.</summary>
    private async Task ReadAsync(Stream stream, string source, IPAddress? peer, CancellationToken stoppingToken)
    {
        var framer = new SyslogFramer(options.MaxRecordBytes, reason => metrics.Rejected(door, reason));
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var idle = TimeSpan.FromSeconds(options.TcpIdleTimeoutSeconds);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        try
        {
            while (true)
            {
                timeout.CancelAfter(idle);
                int read;
                try
                {
                    read = await stream.ReadAsync(buffer, timeout.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // Half-open or stuck peer: nothing for the idle timeout.
                    metrics.Rejected(door, RejectReason.IdleTimeout);
                    break;
                }
                var chunk = new RecordChunk(door, source, null, read + read / 8 + 64);
                if (read == 0)
                {
                    framer.Finish(chunk);
                    await SubmitAsync(chunk, peer, stoppingToken);
                    break;
                }
                framer.Feed(buffer.AsSpan(0, read), chunk);
                await SubmitAsync(chunk, peer, stoppingToken);
            }
        }
        catch (Exception error) when (error is IOException or SocketException)
        {
            log.LogDebug(error, "{Door}: {Source} failed", door, source);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            ingest.EndSource(door, source);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task SubmitAsync(RecordChunk chunk, IPAddress? peer, CancellationToken stoppingToken)
    {
        if (chunk.Records == 0)
        {
            chunk.Release();
            return;
        }
        var wait = limiter.Take(peer, chunk.Records);
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait, stoppingToken); // over its rate: the source is read more slowly, not dropped
        await ingest.AdmitAsync(chunk.Records, stoppingToken);
        chunk.Admitted = chunk.Records;
        metrics.Accepted(door, chunk.Records);
        ingest.Submit(chunk);
    }

    public override void Dispose()
    {
        _listener.Dispose();
        base.Dispose();
    }
}

/// <summary>Syslog over plain TCP (RFC 6587: octet-counting or LF framing, detected per frame), port <c>FrontDoors:SyslogTcpPort</c>.</summary>
internal sealed class SyslogTcpDoor(
    LiveIngest ingest, IOptions<FrontDoorOptions> options, FrontDoorMetrics metrics, SourceRateLimiter limiter,
    FrontDoorAddresses addresses, ILogger<SyslogTcpDoor> log)
    : SyslogStreamDoor(Door.SyslogTcp, options.Value.SyslogTcpPort, $"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.SyslogTcpPort)}", ingest, options.Value, metrics, limiter, log)
{
    protected override void Announce(IPEndPoint endpoint) => addresses.SyslogTcp = endpoint;

    protected override ValueTask<Stream?> OpenAsync(Socket socket, IPAddress? peer, CancellationToken stoppingToken)
        => ValueTask.FromResult<Stream?>(new NetworkStream(socket, ownsSocket: true));
}
/// <summary>
/// Syslog over TLS (RFC 5425), port <c>FrontDoors:SyslogTlsPort</c> (6514, RFC 5425 §4.1), open when
/// <c>FleetTwin:Tls</c> is set: TLS from the first byte, the door's certificate re-read when its files change, and with
/// <c>FleetTwin:Tls:ClientCaPath</c> a client certificate from that CA with the <c>ingest</c> (or <c>admin</c>) role
/// required at the handshake (<see cref="DoorTls"/>). Inside TLS, RFC 5425 §4.3 frames are octet-counted
/// (<c>MSG-LEN SP SYSLOG-MSG</c>); LF-framed records are taken too, because rsyslog's omfwd with the gtls stream
/// driver sends octet-counted frames only with <c>TCP_Framing="octet-counted"</c> and LF framing by default.
/// </summary>
internal sealed class SyslogTlsDoor(
    LiveIngest ingest, IOptions<FrontDoorOptions> options, FrontDoorMetrics metrics, SourceRateLimiter limiter,
    FrontDoorAddresses addresses, FleetTwinEndpointOptions security, DoorRefusals refusals, ILogger<SyslogTlsDoor> log)
    : SyslogStreamDoor(Door.SyslogTls, options.Value.SyslogTlsPort, $"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.SyslogTlsPort)}", ingest, options.Value, metrics, limiter, log)
{
    private readonly DoorTls _tls = new(Door.SyslogTls, security, refusals);

    protected override void Announce(IPEndPoint endpoint)
    {
        addresses.SyslogTls = endpoint;
        addresses.SyslogTlsClientCertificates = _tls.ClientCertificates;
    }

    protected override async ValueTask<Stream?> OpenAsync(Socket socket, IPAddress? peer, CancellationToken stoppingToken)
        => await _tls.AcceptAsync(new NetworkStream(socket, ownsSocket: true), peer, TimeSpan.FromSeconds(Math.Min(30, Options.TcpIdleTimeoutSeconds)), stoppingToken);

    public override void Dispose()
    {
        _tls.Dispose();
        base.Dispose();
    }
}
