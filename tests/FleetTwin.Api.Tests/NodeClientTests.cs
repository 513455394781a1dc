using System.Diagnostics;
using FleetTwin.Security;
using FleetTwin.Tests.Shared;

namespace FleetTwin.Api.Tests;

/// <summary>
/// A real, independent client: tests/node-client/client.js (Node.js, @grpc/grpc-js + @grpc/proto-loader) connects over
/// TLS with a bearer token, loads the repository's .proto files, ingests the KB incident through IngestService, reads the host back, and runs a what-if of
/// the KB pool through PlanService.RunScenario's server stream. npm packages are
/// installed by <c>npm ci</c> from the committed package-lock.json (kept in tests/node-client/node_modules). Without
/// node/npm the test is skipped locally, and fails when FLEETTWIN_REQUIRE_TOOLS=1 (CI).
/// </summary>
public class NodeClientTests
{
    [SkippableFact]
    public async Task The_Node_client_ingests_the_KB_incident_reads_back_18_exhaustions_and_critical_risk_and_streams_a_what_if()
    {
        var required = Environment.GetEnvironmentVariable("FLEETTWIN_REQUIRE_TOOLS") == "1";
        var node = OnPath("node");
        var npm = OnPath("npm");
        if (node is null || npm is null)
        {
            Assert.False(required, "FLEETTWIN_REQUIRE_TOOLS=1 but node or npm is not on PATH (.ci/run installs Debian's nodejs and npm)");
            Skip.If(true, "node/npm not installed");
        }
        var dir = Path.Combine(Golden.RepoRoot(), "tests", "node-client");
        if (!File.Exists(Path.Combine(dir, "node_modules", "@grpc", "grpc-js", "package.json"))
            || !File.Exists(Path.Combine(dir, "node_modules", "@grpc", "proto-loader", "package.json")))
        {
            var install = await RunAsync(npm!, "ci --no-audit --no-fund --loglevel=error", dir, TimeSpan.FromMinutes(3));
            Assert.True(install.Exit == 0, $"npm ci failed ({install.Exit}): {install.Output}");
        }

        // Over TLS (a test CA) with a bearer token holding the three roles the client uses.
        using var credentials = new TestCredentials();
        await using var silo = await ApiSilo.StartAsync(settings: credentials.SiloSettings());
        Assert.StartsWith("https://", silo.Endpoint, StringComparison.Ordinal);
        var environment = new Dictionary<string, string>
        {
            ["FLEETTWIN_CA"] = credentials.CaPath,
            ["FLEETTWIN_TOKEN"] = credentials.Token(TimeSpan.FromMinutes(10), DoorRoles.Ingest, DoorRoles.Read, DoorRoles.Plan),
        };
        var run = await RunAsync(node!, $"client.js {silo.Endpoint}", dir, TimeSpan.FromMinutes(1), environment);

        Assert.True(run.Exit == 0, $"node client.js exited {run.Exit}: {run.Output}");
        Assert.Contains("bn2-3c16-ix-4104: 18 exhaustion events, risk RISK_LEVEL_CRITICAL", run.Output, StringComparison.Ordinal);
        Assert.Contains("node client: RunScenario bn2-3c16: ", run.Output, StringComparison.Ordinal);
        Assert.Contains("node client: ok", run.Output, StringComparison.Ordinal);
    }

    private static string? OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    private static async Task<(int Exit, string Output)> RunAsync(string file, string arguments, string directory, TimeSpan timeout, Dictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment ?? [])
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {timeout.TotalSeconds} s: {await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
