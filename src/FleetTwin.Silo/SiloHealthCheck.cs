using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FleetTwin.Silo;

/// <summary>Ready when the silo answers a grain call (the fleet directory), i.e. it has joined the cluster.</summary>
internal sealed class SiloHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var hosts = await grains.GetGrain<FleetTwin.Twin.Contracts.IFleetGrain>(FleetTwin.Twin.Contracts.TwinGrainKeys.Fleet).ListHosts().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return HealthCheckResult.Healthy($"{hosts.Length} hosts in the twin");
        }
        catch (Exception error) when (error is TimeoutException or OrleansException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("the silo does not answer grain calls", error);
        }
    }
}
