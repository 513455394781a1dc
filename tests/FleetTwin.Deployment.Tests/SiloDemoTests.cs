using System.Diagnostics;
using System.Text.Json;

namespace FleetTwin.Deployment.Tests;

/// <summary>
/// <c>fleettwin-silo --demo</c> as a newcomer runs it (embedded defaults, no configuration but local ports): the bundled
/// data is in the twin once the silo says so, the API serves it, and SIGTERM stops the silo cleanly.
/// </summary>
public class SiloDemoTests
{
    [Fact]
    public async Task Silo_demo_loads_the_KB_host_and_demo_pool_b_serves_them_over_the_API_and_stops_cleanly_on_SIGTERM()
    {
        await using var silo = await SiloProcess.StartAsync(new Dictionary<string, string?>(), "--demo");
        await silo.WaitForOutputAsync("demo data loaded:");

        // The inventory tells each host its configuration one-way after the facts are applied, and the API's host list
        // follows the index: ask again (bounded) until the members' latent level has reached the listing.
        (string? Name, string? Pool, string? Risk)[] hosts;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var (code, stdout, stderr) = Tooling.Fleettwin($"hosts --json --endpoint http://127.0.0.1:{silo.Grpc}");
            Assert.True(code == 0, $"fleettwin hosts failed ({code}): {stderr}");
            using var listing = JsonDocument.Parse(stdout);
            hosts = listing.RootElement.EnumerateArray()
                .Select(h => (Name: h.GetProperty("name").GetString(), Pool: h.TryGetProperty("pool", out var pool) ? pool.GetString() : "", Risk: h.GetProperty("risk").GetString()))
                .OrderBy(h => h.Name, StringComparer.Ordinal).ToArray();
            if (hosts.Length == 4 && hosts[1].Risk == "RISK_LEVEL_LATENT" && hosts[3].Risk == "RISK_LEVEL_LATENT")
                break;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "members never latent: " + string.Join(", ", hosts.Select(h => $"{h.Name} {h.Risk}")));
            await Task.Delay(200);
        }
        // The KB incident's host (no xe output for it in the demo: no pool) and the synthetic pool's three hosts, of
        // which only xs62-b02 has a kernel log (three exhaustion records): the two hosts the README names at risk.
        Assert.Equal(
        [
            ("bn2-3c16-ix-4104", ""),
            ("xs62-b01", "demo-pool-b"),
            ("xs62-b02", "demo-pool-b"),
            ("xs62-b03", "demo-pool-b"),
        ], hosts.Select(h => (h.Name, h.Pool)));
        Assert.Equal(("RISK_LEVEL_CRITICAL", "RISK_LEVEL_CRITICAL"), (hosts[0].Risk, hosts[2].Risk)); // 4104 and b02
        // b01 and b03 log no exhaustion but have the KB host's bnx2x / MTU 9000 / GRO-off NICs: latent, as the planner says.
        Assert.Equal(("RISK_LEVEL_LATENT", "RISK_LEVEL_LATENT"), (hosts[1].Risk, hosts[3].Risk));

        Assert.Equal(0, await silo.StopAsync());
        Assert.DoesNotContain("Unhandled exception", silo.Output, StringComparison.Ordinal);
    }
}
