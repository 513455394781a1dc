using System.Diagnostics;
using FleetTwin.Security;
using FleetTwin.Twin.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetTwin.Deployment.Tests;

/// <summary>What a cluster's membership says, asked by an Orleans client that joins it the way `fleettwin replay` does.</summary>
internal static class ClusterMembership
{
    /// <summary>
    /// The silos the membership reports active, as "address:port", once <paramref name="expected"/> are (at most
    /// 30 s: a silo is ready before every other silo has read its entry). The client presents
    /// <paramref name="credentials"/> to the silos' mutual TLS; it gives up starting after <paramref name="startSeconds"/>
    /// (a client whose certificate the gateway refuses keeps retrying).
    /// </summary>
    public static async Task<string[]> ActiveSilosAsync(TwinClusterOptions cluster, ClientCredentialOptions credentials, int expected, int startSeconds = 30)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client => client.AddFleetTwinClient(cluster).UseClusterTls(credentials));
        using var host = builder.Build();
        using var starting = new CancellationTokenSource(TimeSpan.FromSeconds(startSeconds));
        await host.StartAsync(starting.Token);
        try
        {
            var management = host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
            var waited = Stopwatch.StartNew();
            while (true)
            {
                var active = (await management.GetHosts(onlyActive: true)).Keys
                    .Select(s => $"{s.Endpoint.Address}:{s.Endpoint.Port}").Order(StringComparer.Ordinal).ToArray();
                if (active.Length == expected || waited.Elapsed > TimeSpan.FromSeconds(30))
                    return active;
                await Task.Delay(200);
            }
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
