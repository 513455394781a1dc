using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FleetTwin.Api.Client;
using FleetTwin.Api.Hosting;
using FleetTwin.Api.V1;
using FleetTwin.Security;
using FleetTwin.Tests.Shared;
using FleetTwin.Twin.Hosting;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FleetTwin.Api.Tests;

/// <summary>A silo with TLS, JWT bearer tokens and client certificates from test-made files, shared by the specifications below.</summary>
public sealed class SecureSiloFixture : IAsyncLifetime
{
    public TestCredentials Credentials { get; } = new();
    public ApiSilo Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Silo = await ApiSilo.StartAsync(settings: Credentials.SiloSettings());
        // The KB host to read back, ingested with the ingest role.
        using var channel = TwinChannel.Open(Silo.Endpoint, new ClientCredentialOptions { CaPath = Credentials.CaPath, Token = Credentials.Token(TimeSpan.FromMinutes(10), DoorRoles.Ingest) });
        foreach (var file in new[] { "kb-incident/kern.log", "kb-incident/dom0.log" })
        {
            using var call = new IngestService.IngestServiceClient(channel).Ingest(deadline: DateTime.UtcNow.AddMinutes(1));
            var message = new IngestRequest { HostHint = KbSiloFixture.KbHost, SourceName = file, Year = 2014 };
            message.Lines.AddRange(File.ReadAllLines(Golden.Path(file)));
            await call.RequestStream.WriteAsync(message);
            await call.RequestStream.CompleteAsync();
            Assert.True((await call).Applied);
        }
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        Credentials.Dispose();
    }
}

public class DoorSecurityTests(SecureSiloFixture fixture) : IClassFixture<SecureSiloFixture>
{
    private TestCredentials Credentials => fixture.Credentials;

    private TwinService.TwinServiceClient Twin(ClientCredentialOptions credentials) => new(TwinChannel.Open(fixture.Silo.Endpoint, credentials));

    private ClientCredentialOptions WithToken(TimeSpan expiresIn, params string[] roles) =>
        new() { CaPath = Credentials.CaPath, Token = Credentials.Token(expiresIn, roles) };

    /// <summary>The silo's refusals so far at <paramref name="door"/> for <paramref name="reason"/>: what /metrics exports.</summary>
    private long Refused(string door, string reason) => fixture.Silo.App.Services.GetRequiredService<DoorRefusals>().CountOf(door, reason);

    private Task<Host> GetKbHost(ClientCredentialOptions credentials) =>
        Twin(credentials).GetHostAsync(new GetHostRequest { Name = KbSiloFixture.KbHost }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync;

    [Fact]
    public void The_gRPC_endpoint_speaks_TLS()
    {
        Assert.StartsWith("https://127.0.0.1:", fixture.Silo.Endpoint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_read_token_reads_the_fleet()
    {
        var host = await GetKbHost(WithToken(TimeSpan.FromMinutes(5), DoorRoles.Read));
        Assert.Equal(18, host.ExhaustionEvents);
    }

    [Fact]
    public async Task An_admin_token_passes_every_door()
    {
        var host = await GetKbHost(WithToken(TimeSpan.FromMinutes(5), DoorRoles.Admin));
        Assert.Equal(KbSiloFixture.KbHost, host.Name);
    }

    [Fact]
    public async Task No_credentials_is_UNAUTHENTICATED_and_counted_as_no_credentials()
    {
        var before = Refused(DoorName.Grpc, RefusalReason.NoCredentials);
        var status = await Rpc.FailureOf(() => GetKbHost(new ClientCredentialOptions { CaPath = Credentials.CaPath }));
        Assert.Equal(StatusCode.Unauthenticated, status.StatusCode);
        Assert.True(Refused(DoorName.Grpc, RefusalReason.NoCredentials) - before >= 1);
    }

    [Fact]
    public async Task An_ingest_token_may_not_read_PERMISSION_DENIED()
    {
        var before = Refused(DoorName.Grpc, RefusalReason.WrongRole);
        var status = await Rpc.FailureOf(() => GetKbHost(WithToken(TimeSpan.FromMinutes(5), DoorRoles.Ingest)));
        Assert.Equal(StatusCode.PermissionDenied, status.StatusCode);
        Assert.Contains("read", status.Detail, StringComparison.Ordinal);
        Assert.True(Refused(DoorName.Grpc, RefusalReason.WrongRole) - before >= 1);
    }

    [Fact]
    public async Task A_read_token_may_not_plan_PERMISSION_DENIED()
    {
        using var channel = TwinChannel.Open(fixture.Silo.Endpoint, WithToken(TimeSpan.FromMinutes(5), DoorRoles.Read));
        var status = await Rpc.FailureOf(() => new PlanService.PlanServiceClient(channel)
            .ProposePlanAsync(new ProposePlanRequest { Pool = KbSiloFixture.KbPool }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, status.StatusCode);
    }

    [Fact]
    public async Task An_expired_token_is_UNAUTHENTICATED_and_counted_as_expired()
    {
        var before = Refused(DoorName.Grpc, RefusalReason.ExpiredToken);
        var status = await Rpc.FailureOf(() => GetKbHost(WithToken(TimeSpan.FromHours(-1), DoorRoles.Read)));
        Assert.Equal(StatusCode.Unauthenticated, status.StatusCode);
        Assert.True(Refused(DoorName.Grpc, RefusalReason.ExpiredToken) - before >= 1);
    }

    [Fact]
    public async Task A_token_from_another_issuer_is_UNAUTHENTICATED()
    {
        var credentials = new ClientCredentialOptions { CaPath = Credentials.CaPath, Token = Credentials.TokenFrom("someone-else", TimeSpan.FromMinutes(5), DoorRoles.Read) };
        var before = Refused(DoorName.Grpc, RefusalReason.InvalidToken);
        var status = await Rpc.FailureOf(() => GetKbHost(credentials));
        Assert.Equal(StatusCode.Unauthenticated, status.StatusCode);
        Assert.True(Refused(DoorName.Grpc, RefusalReason.InvalidToken) - before >= 1);
    }

    [Fact]
    public async Task A_client_certificate_from_the_configured_CA_reads_with_the_roles_in_its_OU()
    {
        var host = await GetKbHost(new ClientCredentialOptions { CaPath = Credentials.CaPath, CertificatePath = Credentials.ClientCertificatePath, KeyPath = Credentials.ClientKeyPath });
        Assert.Equal(18, host.ExhaustionEvents);
    }

    [Fact]
    public async Task A_client_certificate_from_another_CA_is_UNAUTHENTICATED_and_counted_as_untrusted()
    {
        var before = Refused(DoorName.Grpc, RefusalReason.UntrustedCertificate);
        var status = await Rpc.FailureOf(() => GetKbHost(new ClientCredentialOptions { CaPath = Credentials.CaPath, CertificatePath = Credentials.StrangerCertificatePath, KeyPath = Credentials.StrangerKeyPath }));
        Assert.Equal(StatusCode.Unauthenticated, status.StatusCode);
        Assert.True(Refused(DoorName.Grpc, RefusalReason.UntrustedCertificate) - before >= 1);
    }

    [Fact]
    public async Task Health_answers_without_credentials_for_probes()
    {
        using var channel = TwinChannel.Open(fixture.Silo.Endpoint, new ClientCredentialOptions { CaPath = Credentials.CaPath });
        var health = await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new Grpc.Health.V1.HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Fact]
    public void A_token_over_cleartext_is_refused_by_the_client_before_it_is_sent()
    {
        var error = Assert.Throws<ArgumentException>(() => TwinChannel.Open("http://127.0.0.1:5000", new ClientCredentialOptions { Token = "x" }));
        Assert.Contains("https://", error.Message, StringComparison.Ordinal);
    }

    /// <summary>One batch through IngestStream with <paramref name="credentials"/>: its ack, or the call's failure.</summary>
    private async Task<IngestAck> StreamOneBatch(ClientCredentialOptions credentials)
    {
        using var channel = TwinChannel.Open(fixture.Silo.Endpoint, credentials);
        using var call = new IngestService.IngestServiceClient(channel).IngestStream(deadline: DateTime.UtcNow.AddSeconds(30));
        try
        {
            await call.RequestStream.WriteAsync(new IngestBatch { BatchId = "secure-1", HostHint = "secure-stream", Lines = { "<3>[1.000000] PCI-DMA: Out of SW-IOMMU space for 16384 bytes at device 0000:04:00.1" } });
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // A refused call may end before the batch is written: its status is the call's.
        }
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        return call.ResponseStream.Current;
    }

    [Fact]
    public async Task IngestStream_takes_an_ingest_token_and_refuses_no_credentials_and_a_read_token()
    {
        var ack = await StreamOneBatch(WithToken(TimeSpan.FromMinutes(5), DoorRoles.Ingest));
        Assert.Equal(new IngestAck { BatchId = "secure-1", Accepted = 1, Recognised = 1 }, ack);

        var none = await Rpc.FailureOf(() => StreamOneBatch(new ClientCredentialOptions { CaPath = Credentials.CaPath }));
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
        var read = await Rpc.FailureOf(() => StreamOneBatch(WithToken(TimeSpan.FromMinutes(5), DoorRoles.Read)));
        Assert.Equal(StatusCode.PermissionDenied, read.StatusCode);
        Assert.Contains("ingest", read.Detail, StringComparison.Ordinal);
    }
}

/// <summary>The server certificate is re-read when its files change: renewals need no restart.</summary>
public class CertificateReloadTests
{
    [Fact]
    public async Task Replacing_the_certificate_files_serves_the_new_certificate_to_new_connections()
    {
        using var credentials = new TestCredentials();
        await using var silo = await ApiSilo.StartAsync(settings: credentials.SiloSettings());
        var port = new Uri(silo.Endpoint).Port;
        var before = await ServedCertificate(port);
        Assert.True(credentials.IssuedByTestCa(before));
        Assert.Contains("fleettwin test server", before.Subject, StringComparison.Ordinal);

        var renewed = credentials.ReplaceServerCertificate("fleettwin renewed server");

        // The files are compared at most once a second (ReloadingCertificate.CheckInterval): new handshakes until one
        // sees the renewal, for at most 30 s.
        var clock = Stopwatch.StartNew();
        var served = before;
        while (served.Thumbprint != renewed && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(200);
            served = await ServedCertificate(port);
        }
        Assert.Equal(renewed, served.Thumbprint);
        Assert.Contains("fleettwin renewed server", served.Subject, StringComparison.Ordinal);
    }

    private static async Task<X509Certificate2> ServedCertificate(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", ApplicationProtocols = [SslApplicationProtocol.Http2] });
        return new X509Certificate2(tls.RemoteCertificate!);
    }
}

/// <summary>Secure by default: a cluster-mode door on a non-loopback address needs TLS and authentication, or an explicit AllowInsecure.</summary>
public class SecureByDefaultTests
{
    private static Exception? StartClusterApi(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder();
        foreach (var (key, value) in settings)
            builder.Configuration[key] = value;
        builder.Configuration["urls"] = "http://127.0.0.1:0";
        // Cluster mode by its options; nothing connects to Redis before the application is built and started.
        var twin = new TwinClusterOptions { RedisConnectionString = "127.0.0.1:1" };
        return Record.Exception(() => builder.AddFleetTwinApi(twin));
    }

    [Fact]
    public void Cluster_mode_on_every_address_without_TLS_refuses_to_start_naming_the_setting()
    {
        var error = StartClusterApi(new() { [GrpcEndpoint.AddressKey] = "0.0.0.0" });
        Assert.IsType<InvalidOperationException>(error);
        Assert.StartsWith("FleetTwin:GrpcAddress:", error.Message, StringComparison.Ordinal);
        Assert.Contains("without TLS", error.Message, StringComparison.Ordinal);
        Assert.Contains("FleetTwin:AllowInsecure", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cluster_mode_defaults_to_every_address_so_no_setting_at_all_refuses_too()
    {
        var error = StartClusterApi([]);
        Assert.IsType<InvalidOperationException>(error);
        Assert.Contains("0.0.0.0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cluster_mode_with_TLS_but_no_authentication_refuses_to_start()
    {
        using var credentials = new TestCredentials();
        var error = StartClusterApi(new()
        {
            [GrpcEndpoint.AddressKey] = "0.0.0.0",
            ["FleetTwin:Tls:CertificatePath"] = credentials.ServerCertificatePath,
            ["FleetTwin:Tls:KeyPath"] = credentials.ServerKeyPath,
        });
        Assert.IsType<InvalidOperationException>(error);
        Assert.Contains("without authentication", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cluster_mode_with_TLS_and_tokens_starts_on_every_address()
    {
        using var credentials = new TestCredentials();
        var settings = credentials.SiloSettings();
        settings[GrpcEndpoint.AddressKey] = "0.0.0.0";
        Assert.Null(StartClusterApi(settings));
    }

    [Fact]
    public void AllowInsecure_lets_a_cluster_mode_door_listen_in_clear_text()
    {
        Assert.Null(StartClusterApi(new() { [GrpcEndpoint.AddressKey] = "0.0.0.0", ["FleetTwin:AllowInsecure"] = "true" }));
    }

    [Fact]
    public void Cluster_mode_on_loopback_stays_plain()
    {
        Assert.Null(StartClusterApi(new() { [GrpcEndpoint.AddressKey] = "127.0.0.1" }));
    }
}

/// <summary>The JWT key is re-read when its file changes (a rotated Secret): no restart, and a short overlap for the old key.</summary>
public class JwtKeyRotationTests
{
    [Fact]
    public async Task A_rotated_key_file_is_accepted_without_a_restart_and_the_old_key_is_refused_after_the_overlap()
    {
        using var credentials = new TestCredentials();
        var settings = credentials.SiloSettings();
        settings["FleetTwin:Jwt:KeyOverlapSeconds"] = "1";
        await using var silo = await ApiSilo.StartAsync(settings: settings);
        var refusals = silo.App.Services.GetRequiredService<DoorRefusals>();

        async Task<StatusCode> ListHosts(string token)
        {
            using var channel = TwinChannel.Open(silo.Endpoint, new ClientCredentialOptions { CaPath = credentials.CaPath, Token = token });
            try
            {
                await new TwinService.TwinServiceClient(channel).ListHostsAsync(new ListHostsRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
                return StatusCode.OK;
            }
            catch (RpcException error)
            {
                return error.StatusCode;
            }
        }

        // Polls (for at most 30 s) until the call answers `expected`: the file is read at most once a second.
        async Task<StatusCode> Eventually(StatusCode expected, string token)
        {
            var clock = Stopwatch.StartNew();
            var status = await ListHosts(token);
            while (status != expected && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(200);
                status = await ListHosts(token);
            }
            return status;
        }

        var signedByA = credentials.Token(TimeSpan.FromMinutes(10), DoorRoles.Read);
        Assert.Equal(StatusCode.OK, await ListHosts(signedByA));

        credentials.ReplaceJwtKey();
        var signedByB = credentials.Token(TimeSpan.FromMinutes(10), DoorRoles.Read);
        Assert.NotEqual(signedByA, signedByB);
        Assert.Equal(StatusCode.OK, await Eventually(StatusCode.OK, signedByB));

        var before = refusals.CountOf(DoorName.Grpc, RefusalReason.InvalidToken);
        Assert.Equal(StatusCode.Unauthenticated, await Eventually(StatusCode.Unauthenticated, signedByA));
        Assert.True(refusals.CountOf(DoorName.Grpc, RefusalReason.InvalidToken) - before >= 1);
        Assert.Equal(StatusCode.OK, await ListHosts(signedByB));
    }
}

/// <summary>The rotation rule itself, on a clock the test moves: which keys a token may be signed with, and when.</summary>
public sealed class ReloadingSigningKeyTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fleettwin-jwt-").FullName;
    private readonly ManualClock _clock = new();

    private string KeyPath => Path.Combine(_directory, "signing-key");

    private void WriteKey(string text)
    {
        File.WriteAllText(KeyPath + ".new", text + "\n");
        File.Move(KeyPath + ".new", KeyPath, overwrite: true);
    }

    private ReloadingSigningKey Keys(int overlapSeconds) => new(new JwtOptions { SigningKeyPath = KeyPath, KeyOverlapSeconds = overlapSeconds }, _clock);

    private static string Text(Microsoft.IdentityModel.Tokens.SecurityKey key) =>
        System.Text.Encoding.ASCII.GetString(((Microsoft.IdentityModel.Tokens.SymmetricSecurityKey)key).Key);

    private static List<string> Texts(ReloadingSigningKey keys) => [.. keys.Keys.Select(Text)];

    /// <summary>The keys after one more check interval has passed (the file is read again).</summary>
    private List<string> NextCheck(ReloadingSigningKey keys)
    {
        _clock.Advance(ReloadingSigningKey.CheckInterval);
        return Texts(keys);
    }

    private const string A = "key-A-0123456789abcdef0123456789abcdef";
    private const string B = "key-B-0123456789abcdef0123456789abcdef";
    private const string C = "key-C-0123456789abcdef0123456789abcdef";

    [Fact]
    public void A_new_key_is_taken_within_two_checks_and_the_old_one_is_accepted_until_the_overlap_ends()
    {
        WriteKey(A);
        var keys = Keys(overlapSeconds: 60);
        Assert.Equal([A], Texts(keys));

        WriteKey(B);
        Assert.Equal([A], Texts(keys)); // not read again before the check interval
        Assert.Equal([A], NextCheck(keys)); // read once; a second check reading the same bytes makes it the key
        Assert.Equal([B, A], NextCheck(keys));

        _clock.Advance(TimeSpan.FromSeconds(58));
        Assert.Equal([B, A], NextCheck(keys)); // 59 s into the overlap
        Assert.Equal([B], NextCheck(keys)); // 60 s: over
    }

    [Fact]
    public void With_no_overlap_the_old_key_is_refused_at_once()
    {
        WriteKey(A);
        var keys = Keys(overlapSeconds: 0);
        WriteKey(B);
        Assert.Equal([A], NextCheck(keys));
        Assert.Equal([B], NextCheck(keys));
    }

    [Fact]
    public void A_second_rotation_within_the_overlap_keeps_only_the_key_it_replaced()
    {
        WriteKey(A);
        var keys = Keys(overlapSeconds: 60);
        WriteKey(B);
        NextCheck(keys);
        Assert.Equal([B, A], NextCheck(keys));
        WriteKey(C);
        NextCheck(keys);
        Assert.Equal([C, B], NextCheck(keys));
    }

    [Fact]
    public void A_touched_file_with_the_same_key_is_no_rotation()
    {
        WriteKey(A);
        var keys = Keys(overlapSeconds: 60);
        WriteKey(A);
        NextCheck(keys);
        Assert.Equal([A], NextCheck(keys));
    }

    [Fact]
    public void A_missing_or_short_key_file_keeps_the_current_key()
    {
        WriteKey(A);
        var keys = Keys(overlapSeconds: 60);
        File.Delete(KeyPath);
        Assert.Equal([A], NextCheck(keys));
        WriteKey("short");
        for (var check = 0; check < 3; check++)
            Assert.Equal([A], NextCheck(keys));
        WriteKey(B);
        NextCheck(keys);
        Assert.Equal([B, A], NextCheck(keys));
    }

    [Fact]
    public void A_short_key_at_start_is_an_error_naming_the_setting()
    {
        WriteKey("short");
        var error = Assert.Throws<InvalidOperationException>(() => Keys(overlapSeconds: 60));
        Assert.StartsWith("FleetTwin:Jwt:SigningKeyPath:", error.Message, StringComparison.Ordinal);
        Assert.Contains("at least 32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_overlap_is_an_error_naming_the_setting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FleetTwin:Jwt:SigningKeyPath"] = KeyPath,
            ["FleetTwin:Jwt:Issuer"] = "i",
            ["FleetTwin:Jwt:Audience"] = "a",
            ["FleetTwin:Jwt:KeyOverlapSeconds"] = "-1",
        }).Build();
        var error = Assert.Throws<InvalidOperationException>(() => FleetTwinEndpointOptions.From(configuration));
        Assert.StartsWith("FleetTwin:Jwt:KeyOverlapSeconds:", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A clock that moves only when told.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan span) => _ticks += span.Ticks;
    }
}
