using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FleetTwin.Security;
using FleetTwin.Tests.Shared;
using Microsoft.AspNetCore.Builder;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>
/// Syslog over TLS (RFC 5425) on a silo with <c>FleetTwin:Tls</c>: rsyslog's omfwd with the gtls stream driver
/// forwards into the twin, with its client certificate when the door requires one; a certificate from another CA, no
/// certificate, and plain TCP on the TLS port are refused at the handshake and counted (door <c>syslog-tls</c>).
/// </summary>
public sealed class SyslogTlsTests : IDisposable
{
    private readonly TestCredentials _credentials = new();

    public void Dispose() => _credentials.Dispose();

    /// <summary>TLS with client certificates from the test CA (the mTLS door).</summary>
    private Dictionary<string, string?> MutualTls() => new()
    {
        ["FleetTwin:Tls:CertificatePath"] = _credentials.ServerCertificatePath,
        ["FleetTwin:Tls:KeyPath"] = _credentials.ServerKeyPath,
        ["FleetTwin:Tls:ClientCaPath"] = _credentials.CaPath,
    };

    /// <summary>TLS that authenticates the server only (no client certificate asked for).</summary>
    private Dictionary<string, string?> ServerOnlyTls() => new()
    {
        ["FleetTwin:Tls:CertificatePath"] = _credentials.ServerCertificatePath,
        ["FleetTwin:Tls:KeyPath"] = _credentials.ServerKeyPath,
    };

    /// <summary>A TLS session to the syslog-TLS door presenting <paramref name="certificate"/> (or none); throws when the handshake fails.</summary>
    private async Task<SslStream> ConnectAsync(int port, X509Certificate2? certificate)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = certificate is null ? null : new X509CertificateCollection { certificate },
            RemoteCertificateValidationCallback = (_, server, _, _) => server is not null && _credentials.IssuedByTestCa(X509CertificateLoader.LoadCertificate(server.GetRawCertData())),
        });
        return ssl;
    }

    /// <summary>RFC 5425 §4.3: <c>MSG-LEN SP SYSLOG-MSG</c> per record.</summary>
    internal static string OctetCounted(IEnumerable<string> records) =>
        string.Concat(records.Select(r => string.Create(CultureInfo.InvariantCulture, $"{Encoding.UTF8.GetByteCount(r)} {r}")));

    /// <summary>Reads until the door closes the session (a refused client certificate shows on TLS 1.3 as the first read failing).</summary>
    private static async Task<int> ReadToCloseAsync(Stream stream)
    {
        var buffer = new byte[4096];
        var total = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
                return total;
            total += read;
        }
    }

    [Fact]
    public async Task Octet_counted_records_from_a_sender_with_a_certificate_from_the_CA_reach_the_twin()
    {
        await using var silo = await LiveSilo.StartAsync(MutualTls());
        using var certificate = X509Certificate2.CreateFromPemFile(_credentials.ClientCertificatePath, _credentials.ClientKeyPath);
        await using (var ssl = await ConnectAsync(silo.TlsPort, certificate))
            await ssl.WriteAsync(Encoding.UTF8.GetBytes(OctetCounted(RelpDoorTests.Exhaustions("tls-sender", 3))));
        Assert.Equal(3, (await silo.HostWhen("tls-sender", h => h.ExhaustionEvents >= 3)).ExhaustionEvents);
        Assert.Equal(3, silo.Metrics.AcceptedCount(Door.SyslogTls));
        Assert.True(silo.Addresses.SyslogTlsClientCertificates);
    }

    [Fact]
    public async Task A_sender_with_a_certificate_from_another_CA_is_refused_at_the_handshake_and_counted()
    {
        await using var silo = await LiveSilo.StartAsync(MutualTls());
        using var stranger = X509Certificate2.CreateFromPemFile(_credentials.StrangerCertificatePath, _credentials.StrangerKeyPath);
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var ssl = await ConnectAsync(silo.TlsPort, stranger);
            await ssl.WriteAsync(Encoding.UTF8.GetBytes(OctetCounted(RelpDoorTests.Exhaustions("tls-stranger", 1))));
            var read = await ReadToCloseAsync(ssl);
            // TLS 1.2 would have failed the handshake; TLS 1.3 reports the alert on the first read, never a clean close.
            Assert.Fail($"the door kept a refused sender's session ({read} bytes answered)");
        });
        await Await.Until("the refusal counted", () => silo.Refusals.CountOf(Door.SyslogTls, RefusalReason.UntrustedCertificate) == 1);
        Assert.Equal(0, silo.Metrics.AcceptedCount(Door.SyslogTls));
    }

    [Fact]
    public async Task A_sender_without_a_certificate_is_refused_when_the_door_requires_one()
    {
        await using var silo = await LiveSilo.StartAsync(MutualTls());
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var ssl = await ConnectAsync(silo.TlsPort, null);
            await ssl.WriteAsync(Encoding.UTF8.GetBytes(OctetCounted(RelpDoorTests.Exhaustions("tls-anonymous", 1))));
            var read = await ReadToCloseAsync(ssl);
            Assert.Fail($"the door kept a sender without a certificate ({read} bytes answered)");
        });
        await Await.Until("the refusal counted", () => silo.Refusals.CountOf(Door.SyslogTls, RefusalReason.NoCredentials) == 1);
        Assert.Equal(0, silo.Metrics.AcceptedCount(Door.SyslogTls));
    }

    [Fact]
    public async Task Plain_TCP_syslog_on_the_TLS_port_is_refused_at_the_handshake_and_counted()
    {
        await using var silo = await LiveSilo.StartAsync(MutualTls());
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, silo.TlsPort);
        await socket.SendAsync(Encoding.UTF8.GetBytes(OctetCounted(RelpDoorTests.Exhaustions("tls-plain", 5)) + "\n"));
        // The door closes the connection (after a TLS alert at most); nothing is parsed.
        await using var stream = new NetworkStream(socket);
        try
        {
            await ReadToCloseAsync(stream);
        }
        catch (IOException)
        {
            // reset by the door: refused as well
        }
        await Await.Until("the refusal counted", () => silo.Refusals.CountOf(Door.SyslogTls, RefusalReason.TlsHandshake) == 1);
        Assert.Equal(0, silo.Metrics.AcceptedCount(Door.SyslogTls));
        Assert.Equal(0, (await silo.Client.GetGrain<FleetTwin.Twin.Contracts.IHostGrain>("tls-plain").GetView()).ExhaustionEvents);
    }

    /// <summary>rsyslog (omfwd, gtls, x509/name) with its client certificate into the door that requires one: the README's configuration.</summary>
    [SkippableFact]
    public async Task Rsyslog_omfwd_over_gtls_with_its_client_certificate_forwards_every_record()
    {
        await using var silo = await LiveSilo.StartAsync(MutualTls());
        var (arrived, count, diagnosis) = await ForwardWithRsyslogAsync(silo, "gtls-dom0", $"""
            StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="localhost"
                     StreamDriver.CAFile="{_credentials.CaPath}" StreamDriver.CertFile="{_credentials.ClientCertificatePath}" StreamDriver.KeyFile="{_credentials.ClientKeyPath}"
            """);
        Assert.True(arrived == count, $"{arrived} of {count} exhaustions arrived ({diagnosis})");
        Assert.Equal(count, silo.Metrics.AcceptedCount(Door.SyslogTls));
        Assert.DoesNotContain(silo.Metrics.Rejections, r => r.Key.Door == Door.SyslogTls);
    }

    /// <summary>rsyslog (omfwd, gtls, anon: no certificate of its own) into a door that authenticates only itself.</summary>
    [SkippableFact]
    public async Task Rsyslog_omfwd_over_gtls_without_a_certificate_forwards_into_a_door_that_asks_for_none()
    {
        await using var silo = await LiveSilo.StartAsync(ServerOnlyTls());
        Assert.False(silo.Addresses.SyslogTlsClientCertificates);
        var (arrived, count, diagnosis) = await ForwardWithRsyslogAsync(silo, "gtls-anon-dom0", $"""
            StreamDriverAuthMode="anon" StreamDriver.CAFile="{_credentials.CaPath}"
            """);
        Assert.True(arrived == count, $"{arrived} of {count} exhaustions arrived ({diagnosis})");
    }

    /// <summary>rsyslog's TLS driver is a package of its own on Debian (rsyslog-gnutls); the test needs it.</summary>
    private static string RequireRsyslogGtls()
    {
        var rsyslogd = Tools.Require("rsyslogd", "rsyslog");
        if (!Directory.EnumerateFiles("/usr/lib", "lmnsd_gtls.so", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 3, IgnoreInaccessible = true }).Any())
        {
            var message = "rsyslog's gtls stream driver is not installed (apt-get install -y rsyslog-gnutls)";
            if (Tools.Required)
                throw new InvalidOperationException(message + " and FLEETTWIN_REQUIRE_TOOLS=1");
            Skip.If(true, message);
        }
        return rsyslogd;
    }

    private async Task<(long Arrived, long Count, string Diagnosis)> ForwardWithRsyslogAsync(LiveSilo silo, string host, string tls)
    {
        var rsyslogd = RequireRsyslogGtls();
        const int count = 500;
        var directory = Path.Combine(_credentials.Directory, "rsyslog-" + host);
        Directory.CreateDirectory(Path.Combine(directory, "work"));
        var console = Path.Combine(directory, "console.log");
        File.WriteAllLines(console, RelpDoorTests.Exhaustions(host, count).Select(r => "<3>" + r[(r.IndexOf(" - - - ", StringComparison.Ordinal) + 7)..]));
        var config = Path.Combine(directory, "rsyslog.conf");
        File.WriteAllText(config, RsyslogOmfwdGtlsConfig(directory, console, host, silo.TlsPort, tls));
        await using var rsyslog = RsyslogDaemon.Start(rsyslogd, config, directory);
        var twin = await silo.HostWhen(host, h => h.ExhaustionEvents >= count, seconds: 60);
        var refusals = string.Join(", ", new[] { RefusalReason.NoCredentials, RefusalReason.UntrustedCertificate, RefusalReason.TlsHandshake, RefusalReason.WrongRole }
            .Select(r => $"{r} {silo.Refusals.CountOf(Door.SyslogTls, r)}"));
        return (twin.ExhaustionEvents, count, $"rsyslogd: {await rsyslog.StatusAsync()}; syslog-tls refusals: {refusals}");
    }

    /// <summary>
    /// The rsyslog configuration the README shows: omfwd over TCP with the gtls stream driver (package rsyslog-gnutls),
    /// StreamDriverMode 1 (TLS only) and octet-counted framing (RFC 5425 §4.3; omfwd's default is LF framing, which
    /// the door also takes), with the test's paths and port.
    /// </summary>
    internal static string RsyslogOmfwdGtlsConfig(string directory, string console, string host, int port, string tls) => string.Create(CultureInfo.InvariantCulture, $$"""
        global(workDirectory="{{directory}}/work" localHostname="{{host}}")
        module(load="imfile" mode="polling" PollingInterval="1")
        # console lines are <level>[uptime] text: the level becomes nothing, the rest the message of an RFC 5424 record.
        template(name="console" type="string" string="<%pri%>1 %timegenerated:::date-rfc3339% %hostname% kernel - - - %rawmsg:R,ERE,1,FIELD:^<[0-9]+>(.*)--end%")
        ruleset(name="twin") {
          action(type="omfwd" target="127.0.0.1" port="{{port}}" protocol="tcp" TCP_Framing="octet-counted" template="console"
                 StreamDriver="gtls" StreamDriverMode="1" {{tls}}
                 queue.type="LinkedList" action.resumeRetryCount="-1")
        }
        input(type="imfile" File="{{console}}" Tag="kernel" ruleset="twin")
        """);
}

/// <summary>
/// Secure by default for the syslog doors: in cluster mode on a non-loopback address plain syslog (UDP, TCP) refuses to
/// start naming its port setting, the syslog-TLS door needs client certificates, and AllowInsecure lets both through.
/// </summary>
public sealed class SyslogSecureByDefaultTests : IDisposable
{
    private readonly TestCredentials _credentials = new();

    public void Dispose() => _credentials.Dispose();

    /// <summary>Registers the front doors of a cluster-mode silo on every address (nothing listens: the rules run at registration).</summary>
    private static Exception? AddClusterDoors(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["FleetTwin:RedisConnectionString"] = "127.0.0.1:1";
        builder.Configuration["FleetTwin:FrontDoors:RelpPort"] = "-1";
        foreach (var (key, value) in settings)
            builder.Configuration[key] = value;
        return Record.Exception(() => builder.AddFrontDoors());
    }

    private Dictionary<string, string?> Tls(bool clientCertificates)
    {
        var settings = new Dictionary<string, string?>
        {
            ["FleetTwin:Tls:CertificatePath"] = _credentials.ServerCertificatePath,
            ["FleetTwin:Tls:KeyPath"] = _credentials.ServerKeyPath,
        };
        if (clientCertificates)
            settings["FleetTwin:Tls:ClientCaPath"] = _credentials.CaPath;
        return settings;
    }

    [Fact]
    public void Plain_syslog_UDP_on_every_address_refuses_to_start_naming_its_port_and_the_TLS_door()
    {
        var error = Assert.IsType<InvalidOperationException>(AddClusterDoors(Tls(clientCertificates: true)));
        Assert.StartsWith("FleetTwin:FrontDoors:SyslogUdpPort:", error.Message, StringComparison.Ordinal);
        Assert.Contains("0.0.0.0", error.Message, StringComparison.Ordinal);
        Assert.Contains("FleetTwin:FrontDoors:SyslogTlsPort", error.Message, StringComparison.Ordinal);
        Assert.Contains("FleetTwin:AllowInsecure", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plain_syslog_TCP_on_every_address_refuses_to_start_naming_its_port()
    {
        var settings = Tls(clientCertificates: true);
        settings["FleetTwin:FrontDoors:SyslogUdpPort"] = "-1";
        var error = Assert.IsType<InvalidOperationException>(AddClusterDoors(settings));
        Assert.StartsWith("FleetTwin:FrontDoors:SyslogTcpPort:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Syslog_over_TLS_without_client_certificates_refuses_to_start_naming_ClientCaPath()
    {
        var settings = Tls(clientCertificates: false);
        settings["FleetTwin:FrontDoors:SyslogUdpPort"] = "-1";
        settings["FleetTwin:FrontDoors:SyslogTcpPort"] = "-1";
        var error = Assert.IsType<InvalidOperationException>(AddClusterDoors(settings));
        Assert.Contains("syslog-TLS", error.Message, StringComparison.Ordinal);
        Assert.Contains("FleetTwin:Tls:ClientCaPath", error.Message, StringComparison.Ordinal);
        Assert.Contains("FleetTwin:FrontDoors:SyslogTlsPort=-1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Syslog_over_TLS_with_client_certificates_starts_on_every_address_and_AllowInsecure_lets_plain_syslog_through()
    {
        var settings = Tls(clientCertificates: true);
        settings["FleetTwin:FrontDoors:SyslogUdpPort"] = "-1";
        settings["FleetTwin:FrontDoors:SyslogTcpPort"] = "-1";
        Assert.Null(AddClusterDoors(settings));
        Assert.Null(AddClusterDoors(new() { ["FleetTwin:AllowInsecure"] = "true" }));
    }

    [Fact]
    public void Plain_syslog_on_loopback_stays_allowed_in_cluster_mode()
    {
        Assert.Null(AddClusterDoors(new() { ["FleetTwin:FrontDoors:BindAddress"] = "127.0.0.1" }));
    }
}
