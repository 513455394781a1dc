using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FleetTwin.Security;
using FleetTwin.Tests.Shared;
using FleetTwin.Twin.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
        using var credentials = new TestCredentials();
        var manifestEnv = ManifestEnvironment();
        var cluster = "k8s-local-" + Guid.NewGuid().ToString("N")[..8];
        var silos = new List<SiloProcess>();
        try
        {
            for (var i = 0; i < 2; i++)
                silos.Add(await SiloProcess.StartAsync(SiloEnvironment(manifestEnv, connection, cluster, $"fleettwin-silo-{i}", credentials)));

            // One cluster: a client of the cluster (through Redis membership, as the CLI's replay joins it) is told of
            // exactly these two silos, both active. Two silos that each formed a cluster of their own, or one that
            // never joined, would show one.
            var active = await ActiveSilosAsync(connection, cluster, credentials, expected: 2);
            Assert.Equal(silos.Select(s => $"127.0.0.1:{s.SiloPort}").Order(StringComparer.Ordinal), active);

            var hosts = Enumerable.Range(1, 12).Select(i => $"xs62-k{i:00}").ToArray();
            var log = Path.GetTempFileName();
            await File.WriteAllLinesAsync(log, hosts.Select((h, i) => string.Create(CultureInfo.InvariantCulture,
                $"Sep 17 05:05:{i:00} {h} kernel: [2777545.9727{i:00}] PCI-DMA: Out of SW-IOMMU space for {17_000 + i} bytes at device 0000:04:00.1")));
            // The replay joins as an Orleans client over the gateway's mutual TLS (FleetTwin__Client__*).
            var (replayCode, replayOut, replayErr) = RunCli($"replay --year 2014 --redis {connection} {log}", cluster, new()
            {
                ["FleetTwin__Client__CaPath"] = credentials.CaPath,
                ["FleetTwin__Client__CertificatePath"] = credentials.ClientCertificatePath,
                ["FleetTwin__Client__KeyPath"] = credentials.ClientKeyPath,
            });
            File.Delete(log);
            Assert.True(replayCode == 0, $"fleettwin replay failed ({replayCode}): {replayErr}{replayOut}");

            // The gRPC door speaks TLS and wants a read token, as the manifest configures it.
            var token = credentials.TokenFrom(manifestEnv["FleetTwin__Jwt__Issuer"]!, TimeSpan.FromMinutes(10), "read");
            var (refusedCode, _, refusedErr) = RunCli($"hosts --json --endpoint https://127.0.0.1:{silos[1].Grpc} --ca {credentials.CaPath}", cluster);
            Assert.True(refusedCode == 1 && refusedErr.Contains("wants credentials", StringComparison.Ordinal), $"without a token: {refusedCode} {refusedErr}");
            var (code, stdout, stderr) = RunCli($"hosts --json --endpoint https://127.0.0.1:{silos[1].Grpc} --ca {credentials.CaPath} --token {token}", cluster);
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
                await silo.DisposeAsync();
        }
    }

    /// <summary>
    /// The silos the cluster's membership reports active, as "address:port", once <paramref name="expected"/> are
    /// (at most 30 s: a silo is ready before every other silo has read its entry), from a client joining through Redis.
    /// </summary>
    private static Task<string[]> ActiveSilosAsync(string redis, string cluster, TestCredentials credentials, int expected) =>
        // The manifest's silos speak mutual TLS on their Orleans ports: the client presents a certificate of their CA.
        ClusterMembership.ActiveSilosAsync(new TwinClusterOptions { RedisConnectionString = redis, ClusterId = cluster, ServiceId = cluster },
            new ClientCredentialOptions { CaPath = credentials.CaPath, CertificatePath = credentials.ClientCertificatePath, KeyPath = credentials.ClientKeyPath }, expected);

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

    /// <summary>The manifest's environment with the pod-derived and in-cluster values replaced by local equivalents.</summary>
    private static Dictionary<string, string?> SiloEnvironment(Dictionary<string, string?> manifestEnv, string redis, string cluster, string podName, TestCredentials credentials)
    {
        var member = credentials.Member(podName);
        var env = new Dictionary<string, string?>(manifestEnv, StringComparer.Ordinal)
        {
            // Several silos on one machine; the ports are SiloProcess's.
            ["POD_NAME"] = podName,
            ["POD_NAMESPACE"] = "fleettwin",
            ["POD_IP"] = "127.0.0.1",
            ["ORLEANS_CLUSTER_ID"] = cluster,
            ["ORLEANS_SERVICE_ID"] = cluster,
            ["FleetTwin__KubernetesHosting"] = "false",
            ["FleetTwin__ClusterId"] = cluster,
            ["FleetTwin__ServiceId"] = cluster,
            ["FleetTwin__AdvertisedAddress"] = "127.0.0.1",
            ["FleetTwin__RedisConnectionString"] = redis,
            // The Secrets' files, made by the test (the issuer and audience stay the manifest's). The certificate is a
            // cluster member's (server and client auth: the silos dial each other over mutual TLS).
            ["FleetTwin__Tls__CertificatePath"] = member.CertificatePath,
            ["FleetTwin__Tls__KeyPath"] = member.KeyPath,
            ["FleetTwin__Tls__ClientCaPath"] = credentials.CaPath,
            ["FleetTwin__Jwt__SigningKeyPath"] = credentials.JwtKeyPath,
            // The test's Redis is a plain one on loopback (the secure cluster test covers Redis TLS and ACL).
            ["FleetTwin__Redis__Tls"] = null,
            ["FleetTwin__Redis__CaPath"] = null,
            ["FleetTwin__Redis__User"] = null,
            ["FleetTwin__Redis__PasswordPath"] = null,
        };
        return env;
    }
    /// <summary>The CLI as a client of the cluster: it joins through Redis with the cluster's ids.</summary>
    private static (int Code, string Stdout, string Stderr) RunCli(string arguments, string cluster, Dictionary<string, string>? environment = null)
    {
        var all = new Dictionary<string, string>(environment ?? [], StringComparer.Ordinal) { ["FleetTwin__ClusterId"] = cluster, ["FleetTwin__ServiceId"] = cluster };
        return Tooling.Fleettwin(arguments, all);
    }
}
