using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using StackExchange.Redis;

namespace FleetTwin.Twin.Hosting;

/// <summary>
/// TLS and credentials for the twin's Redis (section <c>FleetTwin:Redis</c>, environment <c>FleetTwin__Redis__Tls</c>, ...).
/// Kept apart from <see cref="TwinClusterOptions.RedisConnectionString"/> so the connection string stays a non-secret
/// host:port in a ConfigMap and the password comes from a mounted Secret file.
/// </summary>
public sealed record RedisSecurityOptions
{
    /// <summary>Connect over TLS (Redis 6+ <c>tls-port</c>). Also on with <c>ssl=true</c> in the connection string.</summary>
    public bool Tls { get; init; }

    /// <summary>Name the server's certificate must carry (default: the host of the connection string's endpoint).</summary>
    public string? SslHost { get; init; }

    /// <summary>CA certificate(s), PEM, the server's certificate must chain to (instead of the system's roots).</summary>
    public string? CaPath { get; init; }

    /// <summary>ACL user (Redis 6+ <c>AUTH user password</c>); without one the password is the default user's.</summary>
    public string? User { get; init; }

    /// <summary>Password in configuration; prefer <see cref="PasswordPath"/> (a mounted Secret).</summary>
    public string? Password { get; init; }

    /// <summary>File holding the password (trailing newline ignored), e.g. a Kubernetes Secret's key mounted as a file.</summary>
    public string? PasswordPath { get; init; }
}

/// <summary>
/// The one place the StackExchange.Redis <see cref="ConfigurationOptions"/> of the twin are built: Orleans membership
/// (silo and client), grain storage and the ingest journal all take a clone of <see cref="Configuration"/>, so TLS,
/// the CA check and the ACL user apply to every connection or to none.
/// </summary>
public static class TwinRedis
{
    private const string Section = TwinClusterOptions.Section;
    private const string ConnectionSetting = $"{Section}:{nameof(TwinClusterOptions.RedisConnectionString)}";

    /// <summary>
    /// The connection string with <see cref="RedisSecurityOptions"/> applied. Throws naming the setting when one is
    /// unusable (a CA file without certificates, an unreadable password file, a password given twice).
    /// </summary>
    public static ConfigurationOptions Configuration(TwinClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.IsClusterMode)
            throw new InvalidOperationException($"{ConnectionSetting}: not set; the embedded default uses no Redis");
        ConfigurationOptions configuration;
        try
        {
            configuration = ConfigurationOptions.Parse(options.RedisConnectionString!);
        }
        catch (ArgumentException error)
        {
            throw new InvalidOperationException($"{ConnectionSetting}: '{options.RedisConnectionString}' is not a StackExchange.Redis connection string: {error.Message}", error);
        }
        var redis = options.Redis;
        if (redis.Tls)
            configuration.Ssl = true;
        if (!string.IsNullOrWhiteSpace(redis.SslHost))
            configuration.SslHost = redis.SslHost;
        if (!string.IsNullOrWhiteSpace(redis.CaPath))
        {
            if (!configuration.Ssl)
                throw new InvalidOperationException($"{Section}:Redis:CaPath: a CA is only used over TLS; set {Section}:Redis:Tls=true");
            var authorities = LoadAuthorities(redis.CaPath);
            configuration.CertificateValidation += (_, certificate, _, errors) => IssuedBy(certificate, errors, authorities);
        }
        if (!string.IsNullOrWhiteSpace(redis.User))
            configuration.User = redis.User;
        var password = Password(redis);
        if (password is not null)
        {
            if (configuration.Password is not null)
                throw new InvalidOperationException($"{Section}:Redis:Password: the password is also in {ConnectionSetting}; give it once (preferably {Section}:Redis:PasswordPath)");
            configuration.Password = password;
        }
        return configuration;
    }

    /// <summary>True when every endpoint of the connection is this machine (127.0.0.0/8, ::1, localhost).</summary>
    public static bool OnLoopback(ConfigurationOptions configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration.EndPoints.All(endpoint => endpoint switch
        {
            IPEndPoint ip => IPAddress.IsLoopback(ip.Address),
            DnsEndPoint dns => string.Equals(dns.Host, "localhost", StringComparison.OrdinalIgnoreCase),
            _ => false,
        });
    }

    /// <summary>One line for the start-up banner: where, how and as whom (never the password).</summary>
    public static string Describe(TwinClusterOptions options)
    {
        var configuration = Configuration(options);
        var endpoints = string.Join(", ", configuration.EndPoints.Select(Format));
        var tls = configuration.Ssl
            ? $"TLS{(string.IsNullOrWhiteSpace(options.Redis.CaPath) ? " (system roots)" : $" (CA {options.Redis.CaPath})")}"
            : "clear text";
        var who = configuration.User is { } user ? $"ACL user {user}" : configuration.Password is not null ? "default user with a password" : "no password";
        return $"{endpoints}, {tls}, {who}";
    }

    /// <summary>
    /// Connects once and PINGs, so a refused password, an untrusted certificate or an unreachable server stops the silo
    /// at start with one message naming the setting to fix, instead of Orleans' membership table failing to initialise.
    /// </summary>
    public static async Task VerifyAsync(TwinClusterOptions options, TimeSpan timeout)
    {
        var configuration = Configuration(options).Clone();
        configuration.AbortOnConnectFail = true;
        configuration.ConnectRetry = 1;
        configuration.ConnectTimeout = (int)timeout.TotalMilliseconds;
        var where = string.Join(", ", configuration.EndPoints.Select(Format));
        try
        {
            using var redis = await ConnectionMultiplexer.ConnectAsync(configuration).WaitAsync(timeout * 2);
            await redis.GetDatabase().PingAsync().WaitAsync(timeout);
        }
        catch (Exception error) when (error is RedisException or TimeoutException)
        {
            // A TLS-only Redis (port 0, tls-port) accepts the TCP connection and then drops the clear-text AUTH/PING:
            // StackExchange.Redis only says "error connecting", so a port that answers TCP is the hint it wants TLS.
            if (!configuration.Ssl && await AcceptsTcpAsync(configuration))
                throw new InvalidOperationException($"{Section}:Redis:Tls: Redis at {where} accepts connections but does not answer in clear text; if it listens with TLS (tls-port), set {Section}:Redis:Tls=true and {Section}:Redis:CaPath: {error.Message}", error);
            throw new InvalidOperationException(Explain(error, where, configuration), error);
        }
    }

    private static async Task<bool> AcceptsTcpAsync(ConfigurationOptions configuration)
    {
        foreach (var endpoint in configuration.EndPoints)
        {
            try
            {
                using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.ConnectAsync(endpoint, timeout.Token);
                return true;
            }
            catch (Exception error) when (error is System.Net.Sockets.SocketException or OperationCanceledException)
            {
            }
        }
        return false;
    }

    private static string Explain(Exception error, string where, ConfigurationOptions configuration)
    {
        var said = error.Message;
        for (var inner = error.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is AuthenticationException)
                return $"{Section}:Redis:CaPath / {Section}:Redis:SslHost: the TLS handshake with Redis at {where} failed ({inner.Message}): its certificate does not chain to the configured CA or does not name the host";
            said += " " + inner.Message;
        }
        if (said.Contains("WRONGPASS", StringComparison.Ordinal) || said.Contains("NOAUTH", StringComparison.Ordinal) || said.Contains("invalid password", StringComparison.OrdinalIgnoreCase)
            || error is RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure })
        {
            var user = configuration.User is { } name ? $"user '{name}'" : "the default user";
            return $"{Section}:Redis:User / {Section}:Redis:PasswordPath (or {Section}:Redis:Password): Redis at {where} refused the credentials of {user}: {error.Message}";
        }
        return $"{ConnectionSetting}: cannot reach Redis at {where}: {error.Message}";
    }

    private static X509Certificate2Collection LoadAuthorities(string path)
    {
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException($"{Section}:Redis:CaPath: cannot read certificates from '{path}': {error.Message}", error);
        }
        return authorities.Count > 0 ? authorities : throw new InvalidOperationException($"{Section}:Redis:CaPath: '{path}' holds no PEM certificate");
    }

    private static string? Password(RedisSecurityOptions redis)
    {
        var inline = !string.IsNullOrEmpty(redis.Password);
        var file = !string.IsNullOrWhiteSpace(redis.PasswordPath);
        if (inline && file)
            throw new InvalidOperationException($"{Section}:Redis:Password and {Section}:Redis:PasswordPath: set one, not both");
        if (!file)
            return inline ? redis.Password : null;
        try
        {
            return File.ReadAllText(redis.PasswordPath!).TrimEnd('\r', '\n');
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{Section}:Redis:PasswordPath: cannot read '{redis.PasswordPath}': {error.Message}", error);
        }
    }

    /// <summary>
    /// The server's certificate chains to one of <paramref name="authorities"/> and names the host (any other policy
    /// error, such as a name mismatch against SslHost, refuses it), as Redis's own <c>--tls-ca-cert-file</c> checks clients.
    /// </summary>
    private static bool IssuedBy(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection authorities)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(presented);
    }

    private static string Format(EndPoint endpoint) => endpoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endpoint.ToString() ?? "?",
    };
}
