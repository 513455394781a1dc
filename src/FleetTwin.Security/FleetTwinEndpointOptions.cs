using System.Net;
using Microsoft.Extensions.Configuration;

namespace FleetTwin.Security;

/// <summary>
/// Where every door listens, whether it speaks TLS and who may use it; also the credentials a client (the CLI) presents.
/// Section <c>FleetTwin</c> (environment <c>FleetTwin__Tls__CertificatePath</c>, <c>FleetTwin__Jwt__Issuer</c>, ...), the
/// same section the cluster settings live in, so one place decides what used to be chosen by mode in the silo, the
/// gRPC hosting and the front doors, and read by hand from <c>FleetTwin__*</c> variables in the CLI.
/// </summary>
public sealed record FleetTwinEndpointOptions
{
    public const string Section = "FleetTwin";

    /// <summary>Address every door listens on unless a door names its own; null: 127.0.0.1 on the embedded default, 0.0.0.0 in cluster mode.</summary>
    public string? BindAddress { get; init; }

    /// <summary>Address of the gRPC door (overrides <see cref="BindAddress"/>).</summary>
    public string? GrpcAddress { get; init; }

    public int GrpcPort { get; init; } = 5000;

    /// <summary>
    /// Lets a cluster-mode silo listen on a non-loopback address without TLS and authentication. Meant for a network
    /// that is private by other means; logged as a warning at every start.
    /// </summary>
    public bool AllowInsecure { get; init; }

    public DoorTlsOptions Tls { get; init; } = new();

    public JwtOptions Jwt { get; init; } = new();

    /// <summary>What a client presents (the CLI's <c>--token</c>, <c>--ca</c>, <c>--cert</c>/<c>--key</c> default to these).</summary>
    public ClientCredentialOptions Client { get; init; } = new();

    /// <summary>True in cluster mode (a Redis connection string is set), as <c>TwinClusterOptions.IsClusterMode</c>.</summary>
    public bool ClusterMode { get; init; }

    public bool TlsEnabled => !string.IsNullOrWhiteSpace(Tls.CertificatePath);

    /// <summary>Callers must prove who they are: a JWT key is configured, or client certificates are checked against a CA.</summary>
    public bool AuthenticationEnabled => Jwt.Enabled || !string.IsNullOrWhiteSpace(Tls.ClientCaPath);

    /// <summary>One line for the start-up banner: what a caller must present.</summary>
    public string DescribeAuthentication()
    {
        if (!AuthenticationEnabled)
            return "none: every caller may use every door";
        var ways = new List<string>();
        if (Jwt.Enabled)
            ways.Add($"JWT bearer (issuer {Jwt.Issuer}, audience {Jwt.Audience})");
        if (!string.IsNullOrWhiteSpace(Tls.ClientCaPath))
            ways.Add("client certificates (roles from OU)");
        return $"{string.Join(" or ", ways)}; roles {string.Join(", ", DoorRoles.All)}";
    }

    /// <summary>Reads section <c>FleetTwin</c>; cluster mode from <c>FleetTwin:RedisConnectionString</c>.</summary>
    public static FleetTwinEndpointOptions From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(Section);
        var options = section.Get<FleetTwinEndpointOptions>() ?? new FleetTwinEndpointOptions();
        options = options with { ClusterMode = !string.IsNullOrWhiteSpace(section["RedisConnectionString"]) };
        options.Validate();
        return options;
    }

    /// <summary>
    /// The address a door listens on: its own setting (<paramref name="doorAddress"/>, named <paramref name="setting"/>),
    /// else <see cref="BindAddress"/>, else loopback on the embedded default and every interface in cluster mode.
    /// </summary>
    public IPAddress AddressOf(string? doorAddress, string setting)
    {
        var text = doorAddress ?? BindAddress;
        setting = doorAddress is null && BindAddress is not null ? $"{Section}:{nameof(BindAddress)}" : setting;
        if (text is null)
            return ClusterMode ? IPAddress.Any : IPAddress.Loopback;
        return IPAddress.TryParse(text, out var address)
            ? address
            : throw new InvalidOperationException($"{setting}: '{text}' is not an IP address");
    }

    public IPAddress GrpcListenAddress => AddressOf(GrpcAddress, $"{Section}:{nameof(GrpcAddress)}");

    /// <summary>
    /// Secure by default: in cluster mode a door on a non-loopback address needs TLS and authentication (or
    /// <see cref="AllowInsecure"/>). <paramref name="securable"/> is false for a door that cannot speak TLS (plain
    /// syslog over UDP and TCP; syslog over TLS is its own door, RFC 5425); <paramref name="remedy"/> then says what
    /// senders can use instead. Throws naming <paramref name="setting"/>, the setting that opens or places the door.
    /// </summary>
    public void RequireSecure(string door, string setting, IPAddress address, bool securable = true, string? remedy = null)
    {
        if (!ClusterMode || AllowInsecure || IPAddress.IsLoopback(address))
            return;
        if (!securable)
            throw new InvalidOperationException($"{setting}: the {door} door listens on {address} in cluster mode and cannot use TLS{(remedy is null ? "" : $" ({remedy})")}; bind it to 127.0.0.1, close it ({setting}=-1) or set {Section}:{nameof(AllowInsecure)}=true");
        if (!TlsEnabled)
            throw new InvalidOperationException($"{setting}: the {door} door listens on {address} in cluster mode without TLS; set {Section}:Tls:CertificatePath and {Section}:Tls:KeyPath (or {Section}:{nameof(AllowInsecure)}=true)");
        if (!AuthenticationEnabled)
            throw new InvalidOperationException($"{setting}: the {door} door listens on {address} in cluster mode without authentication; set {Section}:Jwt:SigningKeyPath or {Section}:Jwt:PublicKeyPath (with Issuer and Audience) or {Section}:Tls:ClientCaPath (or {Section}:{nameof(AllowInsecure)}=true)");
    }

    /// <summary>
    /// Secure by default for the twin's Redis (membership, grain state, the journal): in cluster mode a Redis that is
    /// not on this machine must be reached over TLS and with a password (an ACL user's or the default user's), unless
    /// <see cref="AllowInsecure"/>. Whoever can write there can rewrite every host's twin and the cluster's membership.
    /// </summary>
    public void RequireSecureRedis(FleetTwin.Twin.Hosting.TwinClusterOptions twin)
    {
        ArgumentNullException.ThrowIfNull(twin);
        if (!twin.IsClusterMode || AllowInsecure)
            return;
        var redis = FleetTwin.Twin.Hosting.TwinRedis.Configuration(twin);
        if (FleetTwin.Twin.Hosting.TwinRedis.OnLoopback(redis))
            return;
        var where = $"{Section}:RedisConnectionString: Redis at {twin.RedisConnectionString} is not on this machine";
        if (!redis.Ssl)
            throw new InvalidOperationException($"{where} and is reached in clear text; set {Section}:Redis:Tls=true and {Section}:Redis:CaPath (or {Section}:{nameof(AllowInsecure)}=true)");
        if (redis.Password is null)
            throw new InvalidOperationException($"{where} and is reached without a password; set {Section}:Redis:User and {Section}:Redis:PasswordPath (or {Section}:{nameof(AllowInsecure)}=true)");
    }

    private void Validate()
    {
        if (TlsEnabled && string.IsNullOrWhiteSpace(Tls.KeyPath))
            throw new InvalidOperationException($"{Section}:Tls:KeyPath: required with {Section}:Tls:CertificatePath (the private key, PEM)");
        if (!TlsEnabled && !string.IsNullOrWhiteSpace(Tls.ClientCaPath))
            throw new InvalidOperationException($"{Section}:Tls:ClientCaPath: client certificates need TLS; set {Section}:Tls:CertificatePath and KeyPath");
        if (!string.IsNullOrWhiteSpace(Jwt.SigningKeyPath) && !string.IsNullOrWhiteSpace(Jwt.PublicKeyPath))
            throw new InvalidOperationException($"{Section}:Jwt: set SigningKeyPath (HMAC) or PublicKeyPath (RSA/ECDSA), not both");
        if (Jwt.Enabled && (string.IsNullOrWhiteSpace(Jwt.Issuer) || string.IsNullOrWhiteSpace(Jwt.Audience)))
            throw new InvalidOperationException($"{Section}:Jwt:Issuer and {Section}:Jwt:Audience: required when a JWT key is set (tokens are checked against both)");
        if (Jwt.ClockSkewSeconds < 0)
            throw new InvalidOperationException($"{Section}:Jwt:ClockSkewSeconds: {Jwt.ClockSkewSeconds} must not be negative");
        if (Jwt.KeyOverlapSeconds < 0)
            throw new InvalidOperationException($"{Section}:Jwt:KeyOverlapSeconds: {Jwt.KeyOverlapSeconds} must not be negative");
    }
}

/// <summary>TLS for the gRPC and HTTP doors (section <c>FleetTwin:Tls</c>): PEM files, as a Kubernetes TLS Secret mounts them.</summary>
public sealed record DoorTlsOptions
{
    /// <summary>Server certificate, PEM (a chain: the leaf first). Re-read when the file changes.</summary>
    public string? CertificatePath { get; init; }

    /// <summary>The certificate's private key, PEM (PKCS#8 or PKCS#1/SEC1).</summary>
    public string? KeyPath { get; init; }

    /// <summary>CA certificate(s), PEM, that client certificates must chain to (mTLS); their OU values are their roles.</summary>
    public string? ClientCaPath { get; init; }
}

/// <summary>Bearer tokens (section <c>FleetTwin:Jwt</c>); the <c>role</c> claim carries the caller's roles.</summary>
public sealed record JwtOptions
{
    /// <summary>HMAC-SHA256 key file (its bytes, trailing whitespace ignored; at least 32 bytes).</summary>
    public string? SigningKeyPath { get; init; }

    /// <summary>RSA or ECDSA public key, PEM, of the token issuer (RS256/ES256 tokens).</summary>
    public string? PublicKeyPath { get; init; }

    public string? Issuer { get; init; }

    public string? Audience { get; init; }

    /// <summary>Leeway on expiry and not-before for clocks that disagree.</summary>
    public int ClockSkewSeconds { get; init; } = 30;

    /// <summary>
    /// When the key file changes (a rotated Secret), how long tokens signed with the key it replaced are still accepted,
    /// counted from the moment the silo reads the new key; 0 refuses them at once.
    /// </summary>
    public int KeyOverlapSeconds { get; init; } = 300;

    public bool Enabled => !string.IsNullOrWhiteSpace(SigningKeyPath) || !string.IsNullOrWhiteSpace(PublicKeyPath);
}

/// <summary>Credentials a client presents (section <c>FleetTwin:Client</c>).</summary>
public sealed record ClientCredentialOptions
{
    /// <summary>Bearer token (sent only over TLS).</summary>
    public string? Token { get; init; }

    /// <summary>CA certificate(s), PEM, the server's certificate must chain to (instead of the system's roots).</summary>
    public string? CaPath { get; init; }

    /// <summary>Client certificate and key, PEM, for mTLS.</summary>
    public string? CertificatePath { get; init; }

    public string? KeyPath { get; init; }
}
