using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using FleetTwin.Tests.Shared;
using YamlDotNet.RepresentationModel;

namespace FleetTwin.Deployment.Tests;

/// <summary>
/// The silo started twice as separate processes with the environment the manifests set (cluster mode on a real
/// Redis) forms one cluster, and a third process, the CLI, sees every host once. Locally there is no Kubernetes API, so
/// the pod-derived values are given their local equivalents and Orleans' Kubernetes hosting is off; everything else
/// comes from the rendered Deployment.
/// </summary>
public class LocalClusterTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [SkippableFact]
    public async Task Two_silos_with_the_manifest_environment_form_one_cluster_and_the_CLI_sees_every_host_once()
    {
        var connection = redis.Require();
        var manifestEnv = ManifestEnvironment();
        var cluster = "k8s-local-" + Guid.NewGuid().ToString("N")[..8];
        var silos = new List<(Process Process, int Http, int Grpc)>();
        try
        {
            for (var i = 0; i < 2; i++)
                silos.Add(StartSilo(manifestEnv, connection, cluster, $"fleettwin-silo-{i}"));
            foreach (var silo in silos)
                await WaitReady(silo.Process, silo.Http);

            var hosts = Enumerable.Range(1, 12).Select(i => $"xs62-k{i:00}").ToArray();
            var log = Path.GetTempFileName();
            await File.WriteAllLinesAsync(log, hosts.Select((h, i) => string.Create(CultureInfo.InvariantCulture,
                $"Sep 17 05:05:{i:00} {h} kernel: [2777545.9727{i:00}] PCI-DMA: Out of SW-IOMMU space for {17_000 + i} bytes at device 0000:04:00.1")));
            var (replayCode, replayOut, replayErr) = RunCli($"replay --year 2014 --redis {connection} {log}", cluster);
            Assert.True(replayCode == 0, $"fleettwin replay failed ({replayCode}): {replayErr}{replayOut}");

            var (code, stdout, stderr) = RunCli($"hosts --json --endpoint http://127.0.0.1:{silos[1].Grpc}", cluster);
            Assert.True(code == 0, $"fleettwin hosts failed ({code}): {stderr}");
            using var listing = JsonDocument.Parse(stdout);
            var names = listing.RootElement.EnumerateArray().Select(h => h.GetProperty("name").GetString()).ToList();
            foreach (var host in hosts)
                Assert.Equal(1, names.Count(n => n == host));
            Assert.Equal(hosts.Length, names.Count);
        }
        finally
        {
            foreach (var silo in silos)
            {
                if (!silo.Process.HasExited)
                    silo.Process.Kill(entireProcessTree: true);
                silo.Process.WaitForExit(10_000);
                silo.Process.Dispose();
            }
        }
    }

    /// <summary>The silo container's literal environment variables from the rendered base kustomization.</summary>
    private static Dictionary<string, string?> ManifestEnvironment()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(Tooling.Render("")));
        var deployment = stream.Documents.Select(d => (YamlMappingNode)d.RootNode)
            .Single(o => ((YamlScalarNode)o["kind"]).Value == "Deployment" && ((YamlScalarNode)((YamlMappingNode)o["metadata"])["name"]).Value == "fleettwin-silo");
        var container = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)deployment["spec"])["template"])["spec"])["containers"]).Children[0];
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (YamlMappingNode entry in ((YamlSequenceNode)container["env"]).Children)
        {
            var name = ((YamlScalarNode)entry["name"]).Value!;
            env[name] = entry.Children.TryGetValue(new YamlScalarNode("value"), out var value) ? ((YamlScalarNode)value).Value : null;
        }
        return env;
    }

    private static (Process Process, int Http, int Grpc) StartSilo(Dictionary<string, string?> manifestEnv, string redis, string cluster, string podName)
    {
        int http = RedisServer.FreePort(), grpc = RedisServer.FreePort();
        var silo = Path.Combine(AppContext.BaseDirectory, "fleettwin-silo.dll");
        var start = new ProcessStartInfo("dotnet", $"\"{silo}\"") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in manifestEnv)
        {
            if (value is not null)
                start.Environment[name] = value;
        }
        // Pod-derived and in-cluster values, replaced by their local equivalents (several silos on one machine).
        start.Environment["POD_NAME"] = podName;
        start.Environment["POD_NAMESPACE"] = "fleettwin";
        start.Environment["POD_IP"] = "127.0.0.1";
        start.Environment["ORLEANS_CLUSTER_ID"] = cluster;
        start.Environment["ORLEANS_SERVICE_ID"] = cluster;
        start.Environment["FleetTwin__KubernetesHosting"] = "false";
        start.Environment["FleetTwin__ClusterId"] = cluster;
        start.Environment["FleetTwin__ServiceId"] = cluster;
        start.Environment["FleetTwin__AdvertisedAddress"] = "127.0.0.1";
        start.Environment["FleetTwin__RedisConnectionString"] = redis;
        start.Environment["FleetTwin__SiloPort"] = RedisServer.FreePort().ToString(CultureInfo.InvariantCulture);
        start.Environment["FleetTwin__GatewayPort"] = RedisServer.FreePort().ToString(CultureInfo.InvariantCulture);
        start.Environment["FleetTwin__GrpcPort"] = grpc.ToString(CultureInfo.InvariantCulture);
        start.Environment["FleetTwin__FrontDoors__SyslogTcpPort"] = "0";
        start.Environment["FleetTwin__FrontDoors__SyslogUdpPort"] = "0";
        start.Environment["FleetTwin__FrontDoors__BindAddress"] = "127.0.0.1";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{http}";
        start.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(start) ?? throw new InvalidOperationException("the silo did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, http, grpc);
    }

    private static async Task WaitReady(Process silo, int httpPort)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(90))
        {
            Assert.False(silo.HasExited, $"silo on http port {httpPort} exited with {(silo.HasExited ? silo.ExitCode : 0)}");
            try
            {
                if ((await client.GetAsync($"http://127.0.0.1:{httpPort}/healthz/ready")).IsSuccessStatusCode)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(250);
        }
        Assert.Fail($"silo on http port {httpPort} was not ready within 90 s");
    }

    private static (int Code, string Stdout, string Stderr) RunCli(string arguments, string cluster)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "fleettwin.dll");
        var start = new ProcessStartInfo("dotnet", $"\"{cli}\" {arguments}") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["FleetTwin__ClusterId"] = cluster;
        start.Environment["FleetTwin__ServiceId"] = cluster;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            return (-1, stdout.Result, "timed out: " + stderr.Result);
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
