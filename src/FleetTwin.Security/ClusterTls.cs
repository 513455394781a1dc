using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;
using Orleans.Hosting;

namespace FleetTwin.Security;

/// <summary>
/// TLS on the Orleans silo-to-silo and client-gateway ports (Microsoft.Orleans.Connections.Security), configured from
/// the doors' own <see cref="FleetTwinEndpointOptions"/>: the silo presents <c>FleetTwin:Tls:CertificatePath</c>/<c>KeyPath</c>
/// (re-read when the files change, as the doors' certificate) on both ends of every connection, and accepts only a
/// peer (another silo, or a client such as <c>fleettwin replay</c>) whose certificate chains to the cluster's CA,
/// <c>FleetTwin:Tls:ClientCaPath</c>. Mutual TLS is the membership check: an Orleans connection carries grain calls
/// with no further authentication, so whoever completes the handshake is a member (docs/security.md).
/// </summary>
public static class ClusterTls
{
    /// <summary>Extended key usage OIDs (RFC 5280 §4.2.1.12): a silo is a TLS server and, dialling its peers, a client.</summary>
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    /// <summary>True when a silo with these options speaks TLS on its Orleans ports: cluster mode with a certificate.</summary>
    public static bool Enabled(FleetTwinEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.ClusterMode && options.TlsEnabled;
    }

    /// <summary>
    /// Secure by default: a cluster-mode silo whose silo and gateway ports are reachable from other machines
    /// (<paramref name="address"/>, from <paramref name="setting"/>; null: every interface) needs TLS there, unless
    /// <see cref="FleetTwinEndpointOptions.AllowInsecure"/>. With TLS it needs the cluster's CA to check its peers by.
    /// </summary>
    public static void RequireSecure(FleetTwinEndpointOptions options, IPAddress? address, string setting)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.ClusterMode)
            return;
        var section = FleetTwinEndpointOptions.Section;
        if (Enabled(options) && string.IsNullOrWhiteSpace(options.Tls.ClientCaPath))
            throw new InvalidOperationException($"{section}:Tls:ClientCaPath: the Orleans silo and gateway ports speak TLS ({section}:Tls:CertificatePath is set) and need the cluster's CA certificate (PEM) to check other silos and clients by");
        if (Enabled(options) || options.AllowInsecure || (address is not null && IPAddress.IsLoopback(address)))
            return;
        var where = address is null ? "every interface" : address.ToString();
        throw new InvalidOperationException($"{setting}: the Orleans silo and gateway ports listen on {where} in cluster mode without TLS; set {section}:Tls:CertificatePath, {section}:Tls:KeyPath and {section}:Tls:ClientCaPath (or {section}:{nameof(FleetTwinEndpointOptions.AllowInsecure)}=true)");
    }

    /// <summary>
    /// Mutual TLS on the silo's Orleans ports when <see cref="Enabled"/>: its certificate must allow both server and
    /// client authentication (it answers its peers and dials them); peers must present one from the cluster's CA.
    /// </summary>
    public static ISiloBuilder UseClusterTls(this ISiloBuilder silo, FleetTwinEndpointOptions options, ReloadingCertificate? certificate)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(options);
        if (!Enabled(options) || certificate is null)
            return silo;
        var section = FleetTwinEndpointOptions.Section;
        var current = certificate.Current;
        foreach (var (oid, role) in new[] { (ServerAuthentication, "serverAuth"), (ClientAuthentication, "clientAuth") })
        {
            if (!AllowsUsage(current, oid))
                throw new InvalidOperationException($"{section}:Tls:CertificatePath: '{options.Tls.CertificatePath}' does not allow {role}; a silo's certificate needs both serverAuth and clientAuth (extended key usage) because silos dial each other (cert-manager: usages [server auth, client auth])");
        }
        var authorities = DoorSecurity.LoadCertificates(options.Tls.ClientCaPath!, $"{section}:Tls:ClientCaPath");
        return silo.UseTls(tls =>
        {
            tls.LocalCertificate = current;
            tls.LocalServerCertificateSelector = (_, _) => certificate.Current;
            tls.LocalClientCertificateSelector = (_, _, _, _, _) => certificate.Current;
            tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate; // clients and silos dialling in
            tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate; // this silo dialling its peers
            tls.RemoteCertificateValidation = (peer, _, errors) => IssuedBy(peer, errors, authorities);
        });
    }

    /// <summary>
    /// TLS from an Orleans client (the CLI's replay, tools) to a gateway when <paramref name="credentials"/> name a CA or
    /// a client certificate (<c>FleetTwin:Client:CaPath</c>, <c>CertificatePath</c>/<c>KeyPath</c>). The gateway must
    /// present a certificate from that CA; a cluster-mode gateway with TLS refuses a client without a certificate of its CA.
    /// </summary>
    public static IClientBuilder UseClusterTls(this IClientBuilder client, ClientCredentialOptions credentials)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(credentials);
        var hasCertificate = !string.IsNullOrWhiteSpace(credentials.CertificatePath);
        if (!hasCertificate && string.IsNullOrWhiteSpace(credentials.CaPath))
            return client;
        var section = FleetTwinEndpointOptions.Section;
        if (hasCertificate && string.IsNullOrWhiteSpace(credentials.KeyPath))
            throw new InvalidOperationException($"{section}:Client:KeyPath: required with {section}:Client:CertificatePath (the client certificate's private key, PEM)");
        var certificate = hasCertificate ? ReloadingCertificate.Load(credentials.CertificatePath!, credentials.KeyPath!) : null;
        var authorities = string.IsNullOrWhiteSpace(credentials.CaPath) ? null : DoorSecurity.LoadCertificates(credentials.CaPath, $"{section}:Client:CaPath");
        return client.UseTls(tls =>
        {
            tls.LocalCertificate = certificate;
            tls.ClientCertificateMode = certificate is null ? RemoteCertificateMode.AllowCertificate : RemoteCertificateMode.RequireCertificate;
            tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            if (authorities is not null)
                tls.RemoteCertificateValidation = (gateway, _, errors) => IssuedBy(gateway, errors, authorities);
        });
    }

    /// <summary>
    /// The peer's certificate chains to one of <paramref name="authorities"/> (and only to them: the system's roots do
    /// not make a cluster member). Name checks are left out on purpose: silos dial each other by pod IP, which a
    /// certificate renewed by cert-manager cannot list in advance; membership is "holds a certificate of the
    /// cluster's CA", as in Orleans' own mTLS sample.
    /// </summary>
    private static bool IssuedBy(X509Certificate2 peer, SslPolicyErrors errors, X509Certificate2Collection authorities)
    {
        if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        // Short-lived certificates from a private CA usually publish no CRL; expiry is still checked.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(peer);
    }

    private static bool AllowsUsage(X509Certificate2 certificate, string oid)
    {
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        // No extended key usage extension: every usage is allowed (RFC 5280 §4.2.1.12).
        return usages is null || usages.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Any(u => u.Value == oid);
    }
}
