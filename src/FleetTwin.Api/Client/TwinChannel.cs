using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using FleetTwin.Security;
using Grpc.Core;
using Grpc.Net.Client;

namespace FleetTwin.Api.Client;

/// <summary>A gRPC channel to a silo with the client's credentials: a CA to trust, a client certificate, a bearer token.</summary>
public static class TwinChannel
{
    /// <summary>
    /// Opens a channel to <paramref name="endpoint"/> (http:// or https://host:port). Throws <see cref="ArgumentException"/>
    /// naming the option for an unusable address or file, and for a token on http:// (it would travel in clear text).
    /// </summary>
    public static GrpcChannel Open(string endpoint, ClientCredentialOptions credentials, int maxReceiveMessageBytes = 64 * 1024 * 1024)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"--endpoint '{endpoint}': expected http://host:port or https://host:port (the silo prints its grpc address at start-up)");
        var tls = uri.Scheme == Uri.UriSchemeHttps;
        if (!tls && (credentials.Token is not null || credentials.CertificatePath is not null || credentials.CaPath is not null))
            throw new ArgumentException($"--endpoint '{endpoint}': --token, --ca and --cert need an https:// endpoint");
        if ((credentials.CertificatePath is null) != (credentials.KeyPath is null))
            throw new ArgumentException("--cert and --key go together");

        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        if (tls)
            handler.SslOptions = SslOptions(credentials);
        var options = new GrpcChannelOptions { MaxReceiveMessageSize = maxReceiveMessageBytes, HttpHandler = handler, DisposeHttpClient = true };
        if (credentials.Token is { Length: > 0 } token)
        {
            options.Credentials = ChannelCredentials.Create(ChannelCredentials.SecureSsl, CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("Authorization", $"Bearer {token}");
                return Task.CompletedTask;
            }));
        }
        return GrpcChannel.ForAddress(uri, options);
    }

    private static SslClientAuthenticationOptions SslOptions(ClientCredentialOptions credentials)
    {
        var ssl = new SslClientAuthenticationOptions();
        if (credentials.CertificatePath is not null)
        {
            try
            {
                ssl.ClientCertificates = [X509Certificate2.CreateFromPemFile(credentials.CertificatePath, credentials.KeyPath)];
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new ArgumentException($"--cert '{credentials.CertificatePath}' / --key '{credentials.KeyPath}': {error.Message}", error);
            }
        }
        if (credentials.CaPath is not null)
        {
            X509Certificate2Collection authorities;
            try
            {
                authorities = DoorSecurity.LoadCertificates(credentials.CaPath, "--ca");
            }
            catch (InvalidOperationException error)
            {
                throw new ArgumentException(error.Message, error);
            }
            // Trust this CA only (a private CA for the twin), host name still checked against the certificate.
            ssl.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            ssl.CertificateChainPolicy.CustomTrustStore.AddRange(authorities);
        }
        return ssl;
    }
}
