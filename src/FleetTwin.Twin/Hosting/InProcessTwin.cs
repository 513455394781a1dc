using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetTwin.Twin.Hosting;

/// <summary>
/// A private single-silo twin inside the calling process, built with the real silo configuration
/// (<see cref="TwinOrleansConfiguration.AddFleetTwin"/>, embedded defaults) on free loopback ports: what offline
/// commands (<c>analyze</c>) and the load tools run, so they exercise the same grains as the live twin.
/// </summary>
public static class InProcessTwin
{
    /// <summary>Starts on ports of its own; a port another process took meanwhile means another try (<see cref="OnFreePortsAsync{T}"/>).</summary>
    public static Task<IHost> StartAsync(CancellationToken cancellationToken = default) =>
        OnFreePortsAsync(async () =>
        {
            var options = new TwinClusterOptions { SiloPort = FreeLoopbackPort(), GatewayPort = FreeLoopbackPort(), ClusterId = "fleettwin-inproc", ServiceId = "fleettwin-inproc" };
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Error);
            builder.UseOrleans(silo => silo.AddFleetTwin(options));
            var host = builder.Build();
            await StartOrDisposeAsync(host, cancellationToken);
            return host;
        }, cancellationToken);

    public static IClusterClient Client(this IHost host) => host.Services.GetRequiredService<IClusterClient>();

    /// <summary>
    /// A loopback port free at the moment of asking. The listener that found it is closed before the caller binds
    /// the port, so another process may take it in between: bind through <see cref="OnFreePortsAsync{T}"/>.
    /// </summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Attempts <see cref="OnFreePortsAsync{T}"/> makes before the bind failure is the caller's.</summary>
    public const int PortAttempts = 5;

    /// <summary>
    /// Runs <paramref name="start"/>, which picks its ports with <see cref="FreeLoopbackPort"/> and binds them, again
    /// with new ports while a bind fails because the port was taken in between.
    /// <para>
    /// Why a retry and not port 0: an Orleans silo cannot listen on port 0 and report the port back. Its silo address
    /// (endpoint and generation) is its identity in the membership table and is fixed from
    /// <c>EndpointOptions</c> before anything listens; a silo port of 0 is refused at start ("No listening port
    /// specified", Orleans 10.4), and the localhost clustering the embedded twin uses needs the gateway port before
    /// the gateway exists. Nor can the probing socket be held: Orleans and Kestrel open their own listeners. So the
    /// race between probe and bind cannot be closed, only detected (the bind fails with "address already in use")
    /// and run again on fresh ports, which is correct: the failed attempt bound nothing another test depends on.
    /// </para>
    /// </summary>
    public static async Task<T> OnFreePortsAsync<T>(Func<Task<T>> start, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(start);
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return await start();
            }
            catch (Exception error) when (attempt < PortAttempts && IsPortInUse(error))
            {
            }
        }
    }

    /// <summary>True when <paramref name="error"/> (or an inner exception) is a bind failing on a port in use.</summary>
    public static bool IsPortInUse(Exception? error)
    {
        for (; error is not null; error = error.InnerException)
        {
            if (error is AddressInUseException or SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
                return true;
            if (error is AggregateException aggregate && aggregate.InnerExceptions.Any(IsPortInUse))
                return true;
        }
        return false;
    }

    /// <summary>
    /// Starts a host; if the start fails (a port in use among other things) stops what did start and disposes it,
    /// so a retry does not leave a half-started silo behind.
    /// </summary>
    public static async Task StartOrDisposeAsync(IHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            try
            {
                using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await host.StopAsync(stopping.Token);
            }
            catch (Exception)
            {
                // Stopping a host that did not start may fail too; the start's failure is the one to report.
            }
            host.Dispose();
            throw;
        }
    }
}
