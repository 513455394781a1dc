using System.Net;
using System.Net.Sockets;
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
    public static async Task<IHost> StartAsync(CancellationToken cancellationToken = default)
    {
        var options = new TwinClusterOptions { SiloPort = FreeLoopbackPort(), GatewayPort = FreeLoopbackPort(), ClusterId = "fleettwin-inproc", ServiceId = "fleettwin-inproc" };
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        builder.UseOrleans(silo => silo.AddFleetTwin(options));
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return host;
    }

    public static IClusterClient Client(this IHost host) => host.Services.GetRequiredService<IClusterClient>();

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
