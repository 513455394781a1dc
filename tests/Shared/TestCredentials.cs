using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace FleetTwin.Tests.Shared;

/// <summary>
/// Credentials made at test time, written as PEM files to a temporary directory: a test CA, a server certificate for
/// 127.0.0.1/localhost, client certificates (their OU values are their roles), a CA the silo does not trust with a
/// client certificate of its own, and an HS256 key to sign tokens with. Nothing is committed; every run makes new ones.
/// </summary>
public sealed class TestCredentials : IDisposable
{
    public const string Issuer = "fleettwin-tests";
    public const string Audience = "fleettwin";

    private readonly X509Certificate2 _ca;
    private byte[] _jwtKey;

    public TestCredentials()
    {
        Directory = Path.Combine(Path.GetTempPath(), "fleettwin-creds-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(Directory);
        _ca = Authority("FleetTwin test CA");
        CaPath = Write("ca.pem", _ca.ExportCertificatePem());
        (ServerCertificatePath, ServerKeyPath) = WriteServer("server", "fleettwin test server");
        (ClientCertificatePath, ClientKeyPath) = WriteClient(_ca, "client-read-ingest", "dom0 shipper", "read", "ingest");
        using var other = Authority("Somebody else's CA");
        (StrangerCertificatePath, StrangerKeyPath) = WriteClient(other, "stranger", "dom0 shipper", "read", "ingest");
        _jwtKey = RandomNumberGenerator.GetBytes(48);
        JwtKeyPath = Path.Combine(Directory, "jwt.key");
        File.WriteAllText(JwtKeyPath, Convert.ToBase64String(_jwtKey) + "\n");
    }

    /// <summary>
    /// Rotates the HS256 key: a new one replaces <see cref="JwtKeyPath"/> in one step (written beside it, then renamed
    /// over it, as kubelet swaps a Secret), and tokens made from now on are signed with it.
    /// </summary>
    public void ReplaceJwtKey()
    {
        _jwtKey = RandomNumberGenerator.GetBytes(48);
        var fresh = JwtKeyPath + ".new";
        File.WriteAllText(fresh, Convert.ToBase64String(_jwtKey) + "\n");
        File.Move(fresh, JwtKeyPath, overwrite: true);
    }

    public string Directory { get; }
    public string CaPath { get; }
    public string ServerCertificatePath { get; }
    public string ServerKeyPath { get; }
    public string ClientCertificatePath { get; }
    public string ClientKeyPath { get; }
    public string StrangerCertificatePath { get; }
    public string StrangerKeyPath { get; }
    public string JwtKeyPath { get; }

    /// <summary>Configuration (section FleetTwin) for a silo with TLS, JWT and client certificates from these files.</summary>
    public Dictionary<string, string?> SiloSettings() => new()
    {
        ["FleetTwin:Tls:CertificatePath"] = ServerCertificatePath,
        ["FleetTwin:Tls:KeyPath"] = ServerKeyPath,
        ["FleetTwin:Tls:ClientCaPath"] = CaPath,
        ["FleetTwin:Jwt:SigningKeyPath"] = JwtKeyPath,
        ["FleetTwin:Jwt:Issuer"] = Issuer,
        ["FleetTwin:Jwt:Audience"] = Audience,
    };

    /// <summary>
    /// An HS256 token (RFC 7519) with these roles, expiring <paramref name="expiresIn"/> from now (negative: already
    /// expired). Written by hand so the test does not use the library the silo checks tokens with.
    /// </summary>
    public string Token(TimeSpan expiresIn, params string[] roles) => TokenFrom(Issuer, expiresIn, roles);

    /// <summary>As <see cref="Token"/>, naming another issuer.</summary>
    public string TokenFrom(string issuer, TimeSpan expiresIn, params string[] roles)
    {
        var now = DateTimeOffset.UtcNow;
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["alg"] = "HS256", ["typ"] = "JWT" }));
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = issuer,
            ["aud"] = Audience,
            ["sub"] = "fleettwin-test",
            // Issued two hours before it expires: an expired token is only expired, not also not-yet-valid.
            ["iat"] = now.Add(expiresIn).AddHours(-2).ToUnixTimeSeconds(),
            ["nbf"] = now.Add(expiresIn).AddHours(-2).ToUnixTimeSeconds(),
            ["exp"] = now.Add(expiresIn).ToUnixTimeSeconds(),
            ["role"] = roles,
        }));
        // The silo takes the key file's bytes (trailing newline dropped): here, the base64 text.
        var key = Encoding.ASCII.GetBytes(Convert.ToBase64String(_jwtKey));
        var signature = Base64Url(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes($"{header}.{payload}")));
        return $"{header}.{payload}.{signature}";
    }

    /// <summary>
    /// A cluster member's certificate and key (PEM paths): server and client authentication both (a silo answers its
    /// peers and dials them), for 127.0.0.1/localhost, issued by the test CA or, with <paramref name="trusted"/> false,
    /// by a CA of its own (written next to it as <c>NAME-ca.pem</c>).
    /// </summary>
    public (string CertificatePath, string KeyPath) Member(string name, bool trusted = true)
    {
        using var other = trusted ? null : Authority($"{name}'s own CA");
        if (other is not null)
            Write(name + "-ca.pem", other.ExportCertificatePem());
        using var certificate = Issue(other ?? _ca, $"fleettwin silo {name}", server: true, [], client: true);
        using var key = certificate.GetRSAPrivateKey()!;
        return (Write(name + ".pem", certificate.ExportCertificatePem()), Write(name + ".key", key.ExportPkcs8PrivateKeyPem()));
    }

    /// <summary>Writes a new server certificate (same CA) over <paramref name="certificatePath"/>/<paramref name="keyPath"/>; returns its thumbprint.</summary>
    public string ReplaceServerCertificate(string subject)
    {
        using var certificate = Issue(_ca, subject, server: true, []);
        using var key = certificate.GetRSAPrivateKey()!;
        File.WriteAllText(ServerKeyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(ServerCertificatePath, certificate.ExportCertificatePem());
        return certificate.Thumbprint;
    }

    /// <summary>True when the server presents a certificate that chains to the test CA.</summary>
    public bool IssuedByTestCa(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        return chain.Build(certificate);
    }

    private (string, string) WriteServer(string name, string subject)
    {
        using var certificate = Issue(_ca, subject, server: true, []);
        using var key = certificate.GetRSAPrivateKey()!;
        return (Write(name + ".pem", certificate.ExportCertificatePem()), Write(name + ".key", key.ExportPkcs8PrivateKeyPem()));
    }

    private (string, string) WriteClient(X509Certificate2 ca, string name, string subject, params string[] roles)
    {
        using var certificate = Issue(ca, subject, server: false, roles);
        using var key = certificate.GetRSAPrivateKey()!;
        return (Write(name + ".pem", certificate.ExportCertificatePem()), Write(name + ".key", key.ExportPkcs8PrivateKeyPem()));
    }

    private static X509Certificate2 Authority(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject, bool server, string[] roles, bool client = false)
    {
        using var key = RSA.Create(2048);
        var name = new StringBuilder($"CN={subject}");
        foreach (var role in roles)
            name.Append($", OU={role}");
        var request = new CertificateRequest(name.ToString(), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        var usages = new OidCollection { server ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2") };
        if (server && client)
            usages.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1), serial);
        return issued.CopyWithPrivateKey(key);
    }

    private string Write(string name, string pem)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, pem);
        return path;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose()
    {
        _ca.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
