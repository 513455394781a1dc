using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using FleetTwin.Security;
using FleetTwin.Tests.Shared;
using FleetTwin.Twin.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace FleetTwin.Deployment.Tests.Secure;

/// <summary>
/// Secure cluster mode end to end: two silo processes talking Orleans over mutual TLS, on a redis-server that speaks
/// TLS only and admits one ACL user. What one silo ingests the other serves; a client holding a certificate from
/// another CA is refused at the gateway; a silo given the wrong Redis password refuses to start, naming the setting.
/// </summary>
public sealed class SecureClusterTests(TlsRedisServer redis, ITestOutputHelper output) : IClassFixture<TlsRedisServer>
{
    private TestCredentials Credentials => redis.Credentials;

    [SkippableFact]
    public async Task Two_silos_on_Orleans_TLS_and_a_TLS_ACL_Redis_share_one_twin_and_refuse_a_silo_or_client_of_another_CA()
    {
        redis.Require();
        var cluster = "secure-" + Guid.NewGuid().ToString("N")[..8];
        var silos = new List<SiloProcess>();
        try
        {
            var clock = Stopwatch.StartNew();
            var starting = Enumerable.Range(0, 2).Select(i => SiloProcess.StartAsync(SiloEnvironment(cluster, $"silo-{i}"))).ToArray();
            foreach (var silo in starting)
                silos.Add(await silo);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: 2 silos ready");
            Assert.Contains("mutual TLS", silos[0].Output, StringComparison.Ordinal);
            Assert.Contains($"ACL user {TlsRedisServer.User}", silos[0].Output, StringComparison.Ordinal);

            // One cluster, formed over the TLS silo ports: a client through the TLS gateway sees both silos active.
            var trusted = ClientCredentials(Credentials.ClientCertificatePath, Credentials.ClientKeyPath);
            var active = await ActiveSilosAsync(cluster, trusted, expected: 2);
            Assert.Equal(silos.Select(s => $"127.0.0.1:{s.SiloPort}").Order(StringComparer.Ordinal), active);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: one cluster of 2 seen through the TLS gateway");

            // A record ingested through one silo's HTTP door is served by the other's /api/.
            using var http = HttpClient();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Credentials.Token(TimeSpan.FromMinutes(10), "ingest", "read"));
            const string host = "xs62-tls01";
            using (var body = new StringContent(
                $"{{\"host\":\"{host}\",\"message\":\"kernel: [2777545.972700] PCI-DMA: Out of SW-IOMMU space for 65536 bytes at device 0000:04:00.1\"}}\n",
                Encoding.UTF8, "application/x-ndjson"))
            {
                using var ingested = await http.PostAsync(new Uri($"https://127.0.0.1:{silos[0].Http}/ingest/ndjson"), body);
                Assert.True(ingested.IsSuccessStatusCode, $"ingest on silo 0: {(int)ingested.StatusCode} {await ingested.Content.ReadAsStringAsync()}");
            }
            Assert.Equal(1, await ExhaustionsSeenAsync(http, silos[1], host));

            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: ingested on one silo, served by the other");

            // What a silo does when it joins: dial the members' silo ports with its certificate. A member's answer to
            // a certificate of the cluster's CA is a finished handshake that stays open (Orleans then waits for the
            // preamble); to one of another CA, an aborted connection: that silo cannot join.
            var (own, ownKey) = Credentials.Member("own-silo");
            var (foreign, foreignKey) = Credentials.Member("foreign-silo", trusted: false);
            Assert.True(await HandshakeHoldsAsync(silos[1].SiloPort, own, ownKey), "a certificate of the cluster's CA must be admitted");
            Assert.False(await HandshakeHoldsAsync(silos[1].SiloPort, foreign, foreignKey), "a certificate of another CA must be refused");

            // A client whose certificate comes from another CA is refused at the TLS handshake of the gateway: the
            // Orleans client keeps retrying the gateways (so it is given 8 s, where the trusted client above joined in
            // a few seconds) and the silo logs the failed handshake.
            var refused = await Record.ExceptionAsync(() => ActiveSilosAsync(cluster, ClientCredentials(foreign, foreignKey), expected: 2, startSeconds: 8));
            Assert.NotNull(refused);
            await silos[0].WaitForOutputAsync("Authentication failed");
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: a silo and a client of another CA refused ({refused.GetType().Name}: {refused.Message})");
        }
        finally
        {
            foreach (var silo in silos)
                await silo.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task A_silo_with_the_wrong_Redis_password_refuses_to_start_naming_the_setting()
    {
        redis.Require();
        var wrong = Path.Combine(Credentials.Directory, "wrong-password");
        await File.WriteAllTextAsync(wrong, "not-the-password\n");
        var environment = SiloEnvironment("secure-wrongpass", "wrongpass");
        environment["FleetTwin__Redis__PasswordPath"] = wrong;

        var (code, said) = await SiloProcess.RunToExitAsync(environment);

        Assert.NotEqual(0, code);
        Assert.Contains("FleetTwin:Redis:User / FleetTwin:Redis:PasswordPath", said, StringComparison.Ordinal);
        Assert.Contains($"user '{TlsRedisServer.User}'", said, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", said, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_silo_without_Redis_TLS_cannot_speak_to_a_TLS_only_Redis_and_says_which_setting()
    {
        redis.Require();
        var environment = SiloEnvironment("secure-cleartext", "cleartext");
        environment["FleetTwin__Redis__Tls"] = null;
        environment["FleetTwin__Redis__CaPath"] = null;

        var (code, said) = await SiloProcess.RunToExitAsync(environment);

        Assert.NotEqual(0, code);
        Assert.True(said.Contains("FleetTwin:Redis:Tls", StringComparison.Ordinal), said);
    }

    /// <summary>The environment of one silo of the secure cluster: every credential a file, as the k8s Secrets mount them.</summary>
    private Dictionary<string, string?> SiloEnvironment(string cluster, string name)
    {
        var (certificate, key) = Credentials.Member(name);
        return new Dictionary<string, string?>
        {
            ["FleetTwin__RedisConnectionString"] = $"127.0.0.1:{redis.Port}",
            ["FleetTwin__Redis__Tls"] = "true",
            ["FleetTwin__Redis__CaPath"] = Credentials.CaPath,
            ["FleetTwin__Redis__User"] = TlsRedisServer.User,
            ["FleetTwin__Redis__PasswordPath"] = redis.PasswordPath,
            ["FleetTwin__ClusterId"] = cluster,
            ["FleetTwin__ServiceId"] = cluster,
            ["FleetTwin__AdvertisedAddress"] = "127.0.0.1",
            ["FleetTwin__Tls__CertificatePath"] = certificate,
            ["FleetTwin__Tls__KeyPath"] = key,
            ["FleetTwin__Tls__ClientCaPath"] = Credentials.CaPath,
            ["FleetTwin__Jwt__SigningKeyPath"] = Credentials.JwtKeyPath,
            ["FleetTwin__Jwt__Issuer"] = TestCredentials.Issuer,
            ["FleetTwin__Jwt__Audience"] = TestCredentials.Audience,
            ["Logging__LogLevel__Default"] = "Warning",
        };
    }

    private ClientCredentialOptions ClientCredentials(string certificate, string key) =>
        new() { CaPath = Credentials.CaPath, CertificatePath = certificate, KeyPath = key };

    /// <summary>An Orleans client joining through the TLS Redis and a TLS gateway; the active silos once <paramref name="expected"/> are (at most 30 s).</summary>
    private Task<string[]> ActiveSilosAsync(string cluster, ClientCredentialOptions credentials, int expected, int startSeconds = 30) =>
        ClusterMembership.ActiveSilosAsync(new TwinClusterOptions
        {
            RedisConnectionString = $"127.0.0.1:{redis.Port}",
            ClusterId = cluster,
            ServiceId = cluster,
            Redis = new RedisSecurityOptions { Tls = true, CaPath = Credentials.CaPath, User = TlsRedisServer.User, PasswordPath = redis.PasswordPath },
        }, credentials, expected, startSeconds);

    /// <summary>The host's exhaustion count as <paramref name="silo"/>'s /api/hosts/NAME reports it, once it has one (at most 30 s).</summary>
    private static async Task<long> ExhaustionsSeenAsync(HttpClient http, SiloProcess silo, string host)
    {
        var waited = Stopwatch.StartNew();
        var last = "";
        while (waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            using var answer = await http.GetAsync(new Uri($"https://127.0.0.1:{silo.Http}/api/hosts/{host}"));
            last = $"{(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}";
            if (answer.StatusCode == HttpStatusCode.OK)
            {
                using var page = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
                var count = page.RootElement.EnumerateObject().First(p => p.NameEquals("exhaustionEvents") || p.NameEquals("ExhaustionEvents")).Value.GetInt64();
                if (count > 0)
                    return count;
            }
            await Task.Delay(200);
        }
        Assert.Fail($"silo {silo.Http} did not serve {host} within 30 s: {last}");
        return 0;
    }

    /// <summary>
    /// Opens a TLS connection to a silo port with a client certificate, checking the silo's against the test CA: true
    /// when the handshake completes and the silo keeps the connection open for 2 s, false when it aborts it.
    /// </summary>
    private async Task<bool> HandshakeHoldsAsync(int port, string certificatePath, string keyPath)
    {
        using var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, server, _, _) =>
            server is not null && Credentials.IssuedByTestCa(X509CertificateLoader.LoadCertificate(server.GetRawCertData())));
        try
        {
            await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = [certificate],
            });
            // TLS 1.3: the server checks the client's certificate after the client's side of the handshake is done;
            // its refusal arrives as an alert (an exception) or a closed connection on the first read.
            using var hold = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var read = await tls.ReadAsync(new byte[1], hold.Token);
            return read > 0;
        }
        catch (OperationCanceledException)
        {
            return true; // still open after 2 s: admitted
        }
        catch (Exception error) when (error is IOException or System.Security.Authentication.AuthenticationException)
        {
            return false;
        }
    }

    private HttpClient HttpClient()
    {
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate is not null && Credentials.IssuedByTestCa(certificate),
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(15) };
    }
}
