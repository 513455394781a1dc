using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace FleetTwin.Security;

/// <summary>
/// Wires <see cref="FleetTwinEndpointOptions"/> into ASP.NET Core: TLS on Kestrel endpoints, JWT bearer and client
/// certificate authentication, one authorization policy per <see cref="DoorRoles">role</see>, and the refusal answers
/// (HTTP 401/403, gRPC UNAUTHENTICATED/PERMISSION_DENIED). Called by every door's hosting; the first call registers,
/// later ones return the same options.
/// </summary>
public static class DoorSecurity
{
    /// <summary>HttpContext item a failed authentication leaves its <see cref="RefusalReason"/> in.</summary>
    internal const string RefusalItem = "fleettwin.refusal";
    private const string RoleClaim = "role";

    /// <summary>OID of the X.500 organizationalUnitName attribute: a client certificate's roles.</summary>
    private const string OrganizationalUnitOid = "2.5.4.11";

    /// <summary>
    /// Registers authentication and authorization for the doors (once per application: later calls return the options
    /// the first one read). <paramref name="clusterMode"/> overrides what the configuration says (a silo whose cluster
    /// options are built in code, as the tests do).
    /// </summary>
    public static FleetTwinEndpointOptions AddDoorSecurity(this WebApplicationBuilder builder, bool? clusterMode = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.FirstOrDefault(d => d.ServiceType == typeof(FleetTwinEndpointOptions))?.ImplementationInstance is FleetTwinEndpointOptions registered)
            return registered;
        var options = FleetTwinEndpointOptions.From(builder.Configuration);
        if (clusterMode is { } mode)
            options = options with { ClusterMode = mode };
        builder.Services.AddSingleton(options);
        builder.Services.TryAddSingleton<DoorRefusals>();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, DoorRefusalHandler>();

        var schemes = new List<string>();
        var authentication = builder.Services.AddAuthentication();
        if (options.Jwt.Enabled)
        {
            schemes.Add(JwtBearerDefaults.AuthenticationScheme);
            // Read now, so a missing or short key stops the start naming the setting; re-read when the file changes.
            var keys = new ReloadingSigningKey(options.Jwt);
            builder.Services.AddSingleton(keys);
            builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
                .Configure<ILoggerFactory>((_, loggers) => keys.Logger ??= loggers.CreateLogger<ReloadingSigningKey>());
            authentication.AddJwtBearer(jwt =>
            {
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = options.Jwt.Issuer,
                    ValidAudience = options.Jwt.Audience,
                    IssuerSigningKeyResolver = (_, _, _, _) => keys.Keys,
                    RoleClaimType = RoleClaim,
                    NameClaimType = "sub",
                    ClockSkew = TimeSpan.FromSeconds(options.Jwt.ClockSkewSeconds),
                    RequireExpirationTime = true,
                };
                jwt.Events = new JwtBearerEvents
                {
                    OnAuthenticationFailed = context =>
                    {
                        context.HttpContext.Items[RefusalItem] = context.Exception is SecurityTokenExpiredException ? RefusalReason.ExpiredToken : RefusalReason.InvalidToken;
                        return Task.CompletedTask;
                    },
                };
            });
        }
        if (!string.IsNullOrWhiteSpace(options.Tls.ClientCaPath))
        {
            schemes.Add(CertificateAuthenticationDefaults.AuthenticationScheme);
            var authorities = LoadCertificates(options.Tls.ClientCaPath, $"{FleetTwinEndpointOptions.Section}:Tls:ClientCaPath");
            authentication.AddCertificate(certificate =>
            {
                certificate.AllowedCertificateTypes = CertificateTypes.Chained;
                certificate.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
                certificate.CustomTrustStore.AddRange(authorities);
                // Short-lived certificates from a private CA usually publish no CRL; expiry is still checked.
                certificate.RevocationMode = X509RevocationMode.NoCheck;
                certificate.Events = new CertificateAuthenticationEvents
                {
                    OnCertificateValidated = context =>
                    {
                        var identity = new ClaimsIdentity(context.Principal!.Claims, CertificateAuthenticationDefaults.AuthenticationScheme, ClaimTypes.Name, RoleClaim);
                        foreach (var role in RolesOf(context.ClientCertificate))
                            identity.AddClaim(new Claim(RoleClaim, role));
                        context.Principal = new ClaimsPrincipal(identity);
                        context.Success();
                        return Task.CompletedTask;
                    },
                    OnAuthenticationFailed = context =>
                    {
                        context.HttpContext.Items[RefusalItem] = RefusalReason.UntrustedCertificate;
                        return Task.CompletedTask;
                    },
                };
            });
        }
        builder.Services.AddAuthorization(authorization =>
        {
            foreach (var role in DoorRoles.All)
            {
                authorization.AddPolicy(role, policy =>
                {
                    if (!options.AuthenticationEnabled)
                    {
                        // The embedded default (loopback, plain): anyone who can reach it may use it, as before.
                        policy.RequireAssertion(_ => true);
                        return;
                    }
                    policy.AddAuthenticationSchemes([.. schemes]).RequireAuthenticatedUser();
                    policy.RequireAssertion(context => context.User.HasClaim(RoleClaim, role) || context.User.HasClaim(RoleClaim, DoorRoles.Admin));
                });
            }
        });
        return options;
    }

    /// <summary>
    /// TLS on a Kestrel endpoint when <see cref="FleetTwinEndpointOptions.TlsEnabled"/>: the certificate from
    /// <paramref name="certificate"/> (re-read when its files change) and, with a client CA, client certificates
    /// requested (not required: a token will do; the chain is checked by the authentication handler so an untrusted
    /// certificate is a counted 401, not a silent handshake failure).
    /// </summary>
    public static void UseDoorTls(this ListenOptions listen, FleetTwinEndpointOptions options, ReloadingCertificate? certificate)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(options);
        if (certificate is null)
            return;
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificateSelector = (_, _) => certificate.Current,
            ClientCertificateMode = string.IsNullOrWhiteSpace(options.Tls.ClientCaPath) ? ClientCertificateMode.NoCertificate : ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = (_, _, _) => true,
            CheckCertificateRevocation = false,
        });
    }

    /// <summary>The server certificate the doors share, or null without TLS.</summary>
    public static ReloadingCertificate? ServerCertificate(FleetTwinEndpointOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.TlsEnabled ? new ReloadingCertificate(options.Tls.CertificatePath!, options.Tls.KeyPath!, logger) : null;
    }

    /// <summary>A client certificate's roles: its subject's OU values that name a role (<c>OU=ingest</c>).</summary>
    public static IEnumerable<string> RolesOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.GetSingleElementType().Value == OrganizationalUnitOid && rdn.GetSingleElementValue() is { } value && DoorRoles.All.Contains(value))
                yield return value;
        }
    }

    /// <summary>Every certificate in a PEM file (a CA bundle).</summary>
    public static X509Certificate2Collection LoadCertificates(string path, string setting)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException($"{setting}: cannot read certificates from '{path}': {error.Message}", error);
        }
        return certificates.Count > 0 ? certificates : throw new InvalidOperationException($"{setting}: '{path}' holds no PEM certificate");
    }
}
