using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FleetTwin.FrontDoors;

/// <summary>
/// Syslog over TCP (RFC 6587). One parser source per connection, completed when the peer closes (like the end of a
/// file). Back-pressure: while the twin is behind, the connection is not read, the kernel's receive window fills
/// and the sender blocks (rsyslog queues, logger waits) instead of records being dropped.
/// </summary>
internal sealed class SyslogTcpDoor(
    LiveIngest ingest, IOptions<FrontDoorOptions> options, FrontDoorMetrics metrics, SourceRateLimiter limiter,
    FrontDoorAddresses addresses, ILogger<SyslogTcpDoor> log) : BackgroundService
{
    private readonly FrontDoorOptions _options = options.Value;
    private Socket? _listener;
    private long _connectionIds;
    private int _open;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var address = FrontDoorHosting.BindAddressOf(_options);
        _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try
        {
            _listener.Bind(new IPEndPoint(address, _options.SyslogTcpPort));
        }
        catch (SocketException error)
        {
            throw new InvalidOperationException($"syslog tcp: cannot listen on {address}:{_options.SyslogTcpPort} ({error.SocketErrorCode}); set FleetTwin:FrontDoors:SyslogTcpPort", error);
        }
        _listener.Listen(512);
        addresses.SyslogTcp = (IPEndPoint)_listener.LocalEndPoint!;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _listener?.Dispose();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(stoppingToken);
            }
            catch (Exception error) when (error is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException error)
            {
                // A peer that reset before accept completed; the listener itself is fine.
                log.LogDebug(error, "syslog tcp: accept failed");
                continue;
            }
            if (Interlocked.Increment(ref _open) > _options.MaxConnections)
            {
                Interlocked.Decrement(ref _open);
                metrics.Rejected(Door.SyslogTcp, RejectReason.TooManyConnections);
                socket.Dispose();
                continue;
            }
            _ = Task.Run(() => ServeAsync(socket, stoppingToken), CancellationToken.None);
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken stoppingToken)
    {
        metrics.ConnectionOpened();
        var peer = (socket.RemoteEndPoint as IPEndPoint)?.Address;
        var source = $"syslog-tcp {socket.RemoteEndPoint} #{Interlocked.Increment(ref _connectionIds)}";
        var framer = new SyslogFramer(_options.MaxRecordBytes, reason => metrics.Rejected(Door.SyslogTcp, reason));
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var idle = TimeSpan.FromSeconds(_options.TcpIdleTimeoutSeconds);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        try
        {
            while (true)
            {
                timeout.CancelAfter(idle);
                int read;
                try
                {
                    read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // Half-open or stuck peer: nothing for the idle timeout.
                    metrics.Rejected(Door.SyslogTcp, RejectReason.IdleTimeout);
                    break;
                }
                var chunk = new RecordChunk(Door.SyslogTcp, source, null, read + read / 8 + 64);
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
        catch (SocketException error)
        {
            log.LogDebug(error, "syslog tcp: {Source} failed", source);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            ingest.EndSource(Door.SyslogTcp, source);
            ArrayPool<byte>.Shared.Return(buffer);
            socket.Dispose();
            Interlocked.Decrement(ref _open);
            metrics.ConnectionClosed();
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
        metrics.Accepted(Door.SyslogTcp, chunk.Records);
        ingest.Submit(chunk);
    }
}
