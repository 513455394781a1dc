using System.CommandLine;
using FleetTwin.Security;
using FleetTwin.Twin.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetTwin.Cli.Connections;

/// <summary>How the CLI reaches a twin: a running silo's gateway, or an in-process silo of its own.</summary>
internal static class TwinConnection
{
    public static Option<int> GatewayPort() => new("--gateway-port")
    {
        Description = "Gateway port of the running silo (embedded mode, on localhost)",
        DefaultValueFactory = _ => new TwinClusterOptions().GatewayPort,
    };

    public static Option<string?> Redis() => new("--redis")
    {
        Description = "Redis connection string of a cluster-mode twin (default: environment FleetTwin__RedisConnectionString)",
    };

    /// <summary>Connects an Orleans client to the running twin.</summary>
    public static async Task<IHost> ConnectAsync(int gatewayPort, string? redis, CancellationToken cancellationToken)
    {
        // The same section the silos read, so a client joins the cluster they formed.
        var configured = ClientConfiguration.Cluster();
        var options = configured with
        {
            GatewayPort = gatewayPort,
            RedisConnectionString = redis ?? configured.RedisConnectionString,
        };
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        // TLS to the gateway when FleetTwin__Client__CaPath / CertificatePath / KeyPath are set (a cluster whose silos
        // speak mutual TLS refuses a client without a certificate of its CA; docs/security.md).
        var credentials = ClientConfiguration.Credentials();
        builder.UseOrleansClient(client => client.AddFleetTwinClient(options).UseClusterTls(credentials));
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            host.Dispose();
            var where = options.IsClusterMode ? $"the cluster at Redis {options.RedisConnectionString}" : $"a silo gateway on 127.0.0.1:{gatewayPort}";
            throw new TwinUnreachableException($"cannot reach {where}: {error.GetBaseException().Message} (start one with: dotnet run --project src/FleetTwin.Silo)", error);
        }
        return host;
    }
}

/// <summary>The running twin could not be reached; the message says where the CLI looked.</summary>
internal sealed class TwinUnreachableException(string message, Exception inner) : Exception(message, inner);
