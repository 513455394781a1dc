using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using FleetTwin.Security;

namespace FleetTwin.FrontDoors;

/// <summary>
/// TLS from the first byte for the stream doors that speak it: RELP as omrelp's <c>tls="on"</c> does (librelp, no
/// STARTTLS) and syslog over TLS (RFC 5425 §4.2: the TLS handshake starts the connection). The door's certificate from
/// <c>FleetTwin:Tls</c> (re-read when the files change, <see cref="ReloadingCertificate"/>) and, with
/// <c>FleetTwin:Tls:ClientCaPath</c>, a client certificate required at the handshake (RFC 5425 §5.2 mutual
/// authentication): one that does not chain to that CA, or whose OU names neither the <c>ingest</c> nor the
/// <c>admin</c> role, ends the handshake, counted in <see cref="DoorRefusals"/> under the door's name and logged once
/// per source a minute (issue 20: a syslog/RELP sender without an accepted certificate is refused at the handshake).
/// </summary>
internal sealed class DoorTls : IDisposable
{
    private readonly ReloadingCertificate _certificate;
    private readonly X509Certificate2Collection? _authorities;
    private readonly DoorRefusals _refusals;
    private readonly string _door;

    public DoorTls(string door, FleetTwinEndpointOptions security, DoorRefusals refusals)
    {
        _door = door;
        _certificate = DoorSecurity.ServerCertificate(security) ?? throw new InvalidOperationException($"{door}: TLS needs {FleetTwinEndpointOptions.Section}:Tls:CertificatePath");
        _authorities = string.IsNullOrWhiteSpace(security.Tls.ClientCaPath) ? null : DoorSecurity.LoadCertificates(security.Tls.ClientCaPath, $"{FleetTwinEndpointOptions.Section}:Tls:ClientCaPath");
        _refusals = refusals;
    }

    /// <summary>Whether senders must present a client certificate.</summary>
    public bool ClientCertificates => _authorities is not null;

    /// <summary>The TLS session over <paramref name="network"/>, or null when the handshake failed or the sender was refused (counted).</summary>
    public async Task<SslStream?> AcceptAsync(Stream network, IPAddress? peer, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string? refusal = null;
        var ssl = new SslStream(network, leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            refusal = Check(certificate);
            return refusal is null;
        });
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = _certificate.Current,
                ClientCertificateRequired = _authorities is not null,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            }, deadline.Token);
            return ssl;
        }
        catch (Exception error) when (error is AuthenticationException or IOException or OperationCanceledException)
        {
            // A refused certificate, a client that does not speak TLS, or one that gave up: no session.
            _refusals.Count(_door, refusal ?? RefusalReason.TlsHandshake, peer);
            await ssl.DisposeAsync();
            return null;
        }
    }

    private string? Check(X509Certificate? presented)
    {
        if (_authorities is null)
            return null;
        if (presented is null)
            return RefusalReason.NoCredentials;
        var certificate = presented as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        // Short-lived certificates from a private CA usually publish no CRL; expiry is still checked (as the HTTP doors do).
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (!chain.Build(certificate))
            return RefusalReason.UntrustedCertificate;
        var roles = DoorSecurity.RolesOf(certificate).ToArray();
        return roles.Contains(DoorRoles.Ingest) || roles.Contains(DoorRoles.Admin) ? null : RefusalReason.WrongRole;
    }

    public void Dispose() => _certificate.Dispose();
}
