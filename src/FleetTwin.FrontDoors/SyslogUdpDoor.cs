using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FleetTwin.FrontDoors;

/// <summary>
/// Syslog over UDP (RFC 5426: one message per datagram). UDP cannot push back, so a datagram that finds the twin
/// behind or its source over the rate is dropped and counted with the reason. One parser source per peer address,
/// completed when the peer has been quiet for <see cref="FrontDoorOptions.SourceQuietSeconds"/>.
/// </summary>
internal sealed class SyslogUdpDoor(
    LiveIngest ingest, IOptions<FrontDoorOptions> options, FrontDoorMetrics metrics, SourceRateLimiter limiter,
    FrontDoorAddresses addresses, ILogger<SyslogUdpDoor> log) : BackgroundService
{
    private readonly FrontDoorOptions _options = options.Value;
    private Socket? _socket;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var address = FrontDoorHosting.BindAddressOf(_options);
        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        // A burst of datagrams waits in the kernel while the reader is busy: ask for a large receive buffer.
        _socket.ReceiveBufferSize = 8 * 1024 * 1024;
        try
        {
            _socket.Bind(new IPEndPoint(address, _options.SyslogUdpPort));
        }
        catch (SocketException error)
        {
            throw new InvalidOperationException($"syslog udp: cannot listen on {address}:{_options.SyslogUdpPort} ({error.SocketErrorCode}); set FleetTwin:FrontDoors:SyslogUdpPort", error);
        }
        addresses.SyslogUdp = (IPEndPoint)_socket.LocalEndPoint!;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _socket?.Dispose();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var buffer = new byte[65_536];
        EndPoint any = new IPEndPoint(_socket!.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!stoppingToken.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stoppingToken);
            }
            catch (Exception error) when (error is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException error)
            {
                // ICMP port unreachable from an earlier reply and the like: the socket still serves.
                log.LogDebug(error, "syslog udp: receive failed");
                continue;
            }
            Accept(buffer.AsSpan(0, received.ReceivedBytes), (received.RemoteEndPoint as IPEndPoint)?.Address);
        }
    }

    private void Accept(ReadOnlySpan<byte> datagram, IPAddress? peer)
    {
        while (!datagram.IsEmpty && datagram[^1] is (byte)'\n' or (byte)'\r' or 0)
            datagram = datagram[..^1];
        if (datagram.IsEmpty)
            return;
        if (datagram.Length > _options.MaxRecordBytes)
        {
            metrics.Rejected(Door.SyslogUdp, RejectReason.RecordTooLarge);
            return;
        }
        if (!SyslogRecord.HasPri(datagram))
        {
            metrics.Rejected(Door.SyslogUdp, RejectReason.NotSyslog);
            return;
        }
        if (!limiter.TryTake(peer, 1))
        {
            metrics.Rejected(Door.SyslogUdp, RejectReason.RateLimited);
            return;
        }
        if (!ingest.TryAdmit(1))
        {
            metrics.Rejected(Door.SyslogUdp, RejectReason.TwinBusy);
            return;
        }
        var chunk = new RecordChunk(Door.SyslogUdp, $"syslog-udp {peer}", null, datagram.Length + 1) { Admitted = 1 };
        chunk.Add(datagram);
        metrics.Accepted(Door.SyslogUdp, 1);
        ingest.Submit(chunk);
    }
}
