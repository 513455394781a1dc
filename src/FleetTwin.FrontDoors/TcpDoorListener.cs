using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace FleetTwin.FrontDoors;

/// <summary>
/// The one TCP accept loop every stream door runs (syslog TCP, syslog over TLS, RELP): listen, accept, turn away a
/// connection over <see cref="FrontDoorOptions.MaxConnections"/> (closed at once, counted), serve each accepted one on
/// a task of its own, and on stop close the listener and wait for the sessions to end (within the host's shutdown
/// time) so each can finish what it owes: the records read so far handed to the live ingest, RELP's answers.
/// </summary>
internal sealed class TcpDoorListener(string door, string portSetting, FrontDoorOptions options, FrontDoorMetrics metrics, ILogger log) : IDisposable
{
    private readonly ConcurrentDictionary<long, Task> _sessions = new();
    private Socket? _listener;
    private long _connectionIds;
    private int _open;

    /// <summary>Binds and listens on the doors' address and <paramref name="port"/>; the message names the setting when the port is taken.</summary>
    public IPEndPoint Listen(int port)
    {
        var address = FrontDoorHosting.BindAddressOf(options);
        _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try
        {
            _listener.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException error)
        {
            _listener.Dispose();
            throw new InvalidOperationException($"{door}: cannot listen on {address}:{port} ({error.SocketErrorCode}); set {portSetting}", error);
        }
        _listener.Listen(512);
        return (IPEndPoint)_listener.LocalEndPoint!;
    }

    /// <summary>
    /// Accepts until <paramref name="stoppingToken"/> fires or the listener is closed. <paramref name="serve"/> gets the
    /// socket and the connection's number; the loop counts the connection open and closed and disposes the socket after.
    /// </summary>
    public async Task AcceptAsync(Func<Socket, long, CancellationToken, Task> serve, CancellationToken stoppingToken)
    {
        var listener = _listener ?? throw new InvalidOperationException($"{door}: Listen before AcceptAsync");
        while (!stoppingToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(stoppingToken);
            }
            catch (Exception error) when (error is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException error)
            {
                // A peer that reset before accept completed; the listener itself is fine.
                log.LogDebug(error, "{Door}: accept failed", door);
                continue;
            }
            if (Interlocked.Increment(ref _open) > options.MaxConnections)
            {
                Interlocked.Decrement(ref _open);
                metrics.Rejected(door, RejectReason.TooManyConnections);
                socket.Dispose();
                continue;
            }
            var id = Interlocked.Increment(ref _connectionIds);
            var session = Task.Run(() => RunAsync(socket, id, serve, stoppingToken), CancellationToken.None);
            _sessions[id] = session;
            _ = session.ContinueWith(_ => _sessions.TryRemove(id, out var _), TaskScheduler.Default);
        }
    }

    private async Task RunAsync(Socket socket, long id, Func<Socket, long, CancellationToken, Task> serve, CancellationToken stoppingToken)
    {
        metrics.ConnectionOpened();
        try
        {
            await serve(socket, id, stoppingToken);
        }
        catch (Exception error) when (error is IOException or SocketException or ObjectDisposedException)
        {
            log.LogDebug(error, "{Door}: connection #{Id} failed", door, id);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            socket.Dispose();
            Interlocked.Decrement(ref _open);
            metrics.ConnectionClosed();
        }
    }

    /// <summary>Stops accepting and waits (at most until <paramref name="cancellationToken"/>) for the open sessions to end.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _listener?.Dispose();
        try
        {
            await Task.WhenAll(_sessions.Values).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose() => _listener?.Dispose();
}
