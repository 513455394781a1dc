using System.Net;
using System.Net.Sockets;
using FleetTwin.Tests.Shared;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetTwin.Twin.Tests;

/// <summary>
/// Ports found free and bound later may be taken in between by a test assembly running in parallel: the servers the
/// tests start notice the bind failing and start again on new ports, and never take another's server for theirs.
/// </summary>
public class FreePortTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task A_silo_whose_probed_port_was_taken_meanwhile_starts_again_on_new_ports()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var takenPort = ((IPEndPoint)taken.LocalEndpoint).Port;
        var silos = new List<int>();

        using var host = await InProcessTwin.OnFreePortsAsync(async () =>
        {
            var siloPort = silos.Count == 0 ? takenPort : InProcessTwin.FreeLoopbackPort();
            silos.Add(siloPort);
            var id = "free-port-" + Guid.NewGuid().ToString("N")[..8];
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.UseOrleans(silo => silo.AddFleetTwin(new TwinClusterOptions { SiloPort = siloPort, GatewayPort = InProcessTwin.FreeLoopbackPort(), ClusterId = id, ServiceId = id }));
            var silo = builder.Build();
            await InProcessTwin.StartOrDisposeAsync(silo);
            return silo;
        });

        Assert.Equal(2, silos.Count);
        Assert.Equal(takenPort, silos[0]);
        Assert.Empty(await host.Client().GetGrain<IFleetGrain>(TwinGrainKeys.Fleet).ListHosts()); // the second silo serves
        await host.StopAsync();
    }

    [Fact]
    public async Task A_start_failing_for_another_reason_is_not_tried_again()
    {
        var attempts = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => InProcessTwin.OnFreePortsAsync<int>(() =>
        {
            attempts++;
            throw new InvalidOperationException("not a port conflict");
        }));

        Assert.Equal(1, attempts);
    }

    [SkippableFact]
    public async Task A_redis_whose_port_is_held_by_another_redis_starts_on_a_new_port_and_does_not_take_the_other_for_its_own()
    {
        var other = redis.Require();
        var otherPort = int.Parse(other[(other.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var choices = new Queue<int>([otherPort]);
        var mine = new RedisServer { ChoosePort = () => choices.Count > 0 ? choices.Dequeue() : RedisServer.FreePort() };

        await mine.InitializeAsync();
        try
        {
            var connection = mine.Require();
            Assert.Empty(choices);
            Assert.NotEqual(other, connection);
            Assert.StartsWith("127.0.0.1:", connection, StringComparison.Ordinal);
        }
        finally
        {
            await mine.DisposeAsync();
        }
    }
}
