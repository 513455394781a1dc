using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Grains;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FleetTwin.Api.Hosting;

/// <summary>
/// The API is ready when the host index grain answers (the call every query starts with). grpc.health.v1 reports it
/// for the service "" together with the silo's other checks.
/// </summary>
internal sealed class TwinApiHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var index = await grains.GetGrain<IHostIndexGrain>(TwinGrainKeys.Fleet).GetChanges(null, long.MaxValue).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return HealthCheckResult.Healthy($"host index at version {index.Version}");
        }
        catch (Exception error) when (error is TimeoutException or OrleansException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("the twin's host index does not answer", error);
        }
    }
}
