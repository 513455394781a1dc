using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FleetTwin.Security;
using FleetTwin.Tests.Shared;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>
/// RELP over TLS on a silo with <c>FleetTwin:Tls</c> and a client CA: a sender with a certificate from that CA and the
/// ingest role gets its records acknowledged; one without a certificate or with one from another CA is refused at the
/// handshake and counted by reason (door <c>relp</c>).
/// </summary>
public sealed class RelpTlsTests : IAsyncLifetime
{
    private const string Open = "1 open 86 relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n";
    private readonly TestCredentials _credentials = new();
    private LiveSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await LiveSilo.StartAsync(_credentials.SiloSettings());

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _credentials.Dispose();
    }

    /// <summary>A TLS session to the RELP door presenting <paramref name="certificate"/> (or none); throws when the handshake fails.</summary>
    private async Task<SslStream> ConnectAsync(X509Certificate2? certificate)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _silo.RelpPort);
        var ca = X509CertificateLoader.LoadCertificateFromFile(_credentials.CaPath);
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = certificate is null ? null : new X509CertificateCollection { certificate },
            RemoteCertificateValidationCallback = (_, server, _, _) => server is not null && _credentials.IssuedByTestCa(X509CertificateLoader.LoadCertificate(server.GetRawCertData())),
        });
        // TLS 1.3: a refused client certificate shows as the first read failing, not the handshake.
        return ssl;
    }

    private static async Task<string> ReadUntilAsync(Stream stream, Func<string, bool> done)
    {
        var received = new StringBuilder();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!done(received.ToString()))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
                break;
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        return received.ToString();
    }

    [Fact]
    public async Task A_sender_with_a_certificate_from_the_CA_and_the_ingest_role_gets_its_records_acknowledged()
    {
        using var certificate = X509Certificate2.CreateFromPemFile(_credentials.ClientCertificatePath, _credentials.ClientKeyPath);
        await using var ssl = await ConnectAsync(certificate);
        var record = RelpDoorTests.Exhaustions("relp-tls", 1)[0];
        await ssl.WriteAsync(Encoding.UTF8.GetBytes(Open + $"2 syslog {Encoding.UTF8.GetByteCount(record)} {record}\n"));
        var answers = await ReadUntilAsync(ssl, r => r.Contains("2 rsp", StringComparison.Ordinal));
        Assert.EndsWith("commands=syslog\n2 rsp 6 200 OK\n", answers, StringComparison.Ordinal);
        Assert.Equal(1, (await _silo.HostWhen("relp-tls", h => h.ExhaustionEvents >= 1)).ExhaustionEvents);
    }

    [Fact]
    public async Task A_sender_with_a_certificate_from_another_CA_is_refused_at_the_handshake_and_counted()
    {
        using var stranger = X509Certificate2.CreateFromPemFile(_credentials.StrangerCertificatePath, _credentials.StrangerKeyPath);
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var ssl = await ConnectAsync(stranger);
            await ssl.WriteAsync(Encoding.UTF8.GetBytes(Open));
            var answer = await ReadUntilAsync(ssl, _ => false);
            Assert.Fail($"the door answered a refused sender: '{answer}'");
        });
        await Await.Until("the refusal counted", () => _silo.Refusals.CountOf(Door.Relp, RefusalReason.UntrustedCertificate) == 1);
        Assert.Equal(0, _silo.Metrics.AcceptedCount(Door.Relp));
    }

    [Fact]
    public async Task A_sender_without_a_certificate_is_refused_at_the_handshake_and_counted()
    {
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var ssl = await ConnectAsync(null);
            await ssl.WriteAsync(Encoding.UTF8.GetBytes(Open));
            var answer = await ReadUntilAsync(ssl, _ => false);
            Assert.Fail($"the door answered a refused sender: '{answer}'");
        });
        await Await.Until("the refusal counted", () => _silo.Refusals.CountOf(Door.Relp, RefusalReason.NoCredentials) == 1);
    }

    /// <summary>rsyslog's omrelp with <c>tls="on"</c> and its client certificate (the README's TLS configuration).</summary>
    [SkippableFact]
    public async Task Rsyslog_omrelp_over_TLS_with_its_client_certificate_forwards_every_record()
    {
        var rsyslogd = Tools.Require("rsyslogd", "rsyslog");
        Skip.IfNot(Directory.EnumerateFiles("/usr/lib", "omrelp.so", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 3, IgnoreInaccessible = true }).Any() || Tools.Required,
            "rsyslog's omrelp module is not installed (apt-get install -y rsyslog-relp)");
        const string host = "relp-tls-dom0";
        const int count = 500;
        var directory = Path.Combine(_credentials.Directory, "rsyslog");
        Directory.CreateDirectory(Path.Combine(directory, "work"));
        var console = Path.Combine(directory, "console.log");
        File.WriteAllLines(console, RelpDoorTests.Exhaustions(host, count).Select(r => "<3>" + r[(r.IndexOf(" - - - ", StringComparison.Ordinal) + 7)..]));
        var config = Path.Combine(directory, "rsyslog.conf");
        File.WriteAllText(config, RelpDoorTests.RsyslogOmrelpConfig(directory, console, host, _silo.RelpPort, tls: $"""
            tls="on" tls.caCert="{_credentials.CaPath}" tls.myCert="{_credentials.ClientCertificatePath}" tls.myPrivKey="{_credentials.ClientKeyPath}" tls.authMode="name" tls.permittedPeer=["localhost"]
            """));
        await using var rsyslog = RsyslogDaemon.Start(rsyslogd, config, directory);
        var twin = await _silo.HostWhen(host, h => h.ExhaustionEvents >= count, seconds: 60);
        Assert.True(twin.ExhaustionEvents == count, $"{twin.ExhaustionEvents} of {count} exhaustions arrived (rsyslogd: {await rsyslog.StatusAsync()}; relp refusals: {string.Join(", ", new[] { RefusalReason.NoCredentials, RefusalReason.UntrustedCertificate, RefusalReason.TlsHandshake, RefusalReason.WrongRole }.Select(r => $"{r} {_silo.Refusals.CountOf(Door.Relp, r)}"))})");
    }
}
