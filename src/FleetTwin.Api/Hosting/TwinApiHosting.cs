using System.Net;
using FleetTwin.Api.Services;
using FleetTwin.Security;
using FleetTwin.Twin.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FleetTwin.Api.Hosting;

/// <summary>
/// Where the gRPC API listens: HTTP/2 on its own port, beside the HTTP/1.1 endpoint of /metrics; over TLS when
/// <c>FleetTwin:Tls</c> is set, cleartext (h2c) otherwise.
/// </summary>
public sealed record GrpcEndpoint(IPAddress Address, int Port, bool Tls = false)
{
    public const string PortKey = "FleetTwin:GrpcPort";
    public const string AddressKey = "FleetTwin:GrpcAddress";
    public const int DefaultPort = 5000;

    public string Url => $"{(Tls ? "https" : "http")}://{(Address.Equals(IPAddress.Any) ? "0.0.0.0" : Address.ToString())}:{Port}";

    /// <summary>True when a server address (as Kestrel reports it) is this endpoint.</summary>
    public bool Matches(string address) =>
        Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Port == Port;
}

/// <summary>
/// One call each for the silo's Program.cs: <see cref="AddFleetTwinApi"/> on the builder, <see cref="MapFleetTwinApi"/>
/// on the app. Serves fleettwin.v1 (TwinService, AlertService, IngestService, PlanService), grpc.health.v1 and server
/// reflection on the gRPC port only.
/// </summary>
public static class TwinApiHosting
{
    /// <summary>Largest request message (an Ingest batch): past it gRPC answers RESOURCE_EXHAUSTED.</summary>
    public const int MaxReceiveMessageBytes = 4 * 1024 * 1024;

    public static GrpcEndpoint AddFleetTwinApi(this WebApplicationBuilder builder, TwinClusterOptions twin)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(twin);
        var security = builder.AddDoorSecurity(twin.IsClusterMode);
        var endpoint = new GrpcEndpoint(security.GrpcListenAddress, security.GrpcPort, security.TlsEnabled);
        security.RequireSecure("gRPC", GrpcEndpoint.AddressKey, endpoint.Address);

        // Kestrel listens on explicit endpoints once any is configured in code, and would then ignore the urls
        // setting (with a warning): take the HTTP/1.1 urls over as explicit endpoints next to the h2c one.
        var urls = (builder.Configuration[WebHostDefaults.ServerUrlsKey] ?? "http://localhost:5000")
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, "");
        var certificate = DoorSecurity.ServerCertificate(security);
        if (certificate is not null)
            builder.Services.AddSingleton(certificate); // disposed with the application
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var url in urls)
                ListenHttp1(kestrel, url, security, certificate);
            kestrel.Listen(endpoint.Address, endpoint.Port, o =>
            {
                o.Protocols = HttpProtocols.Http2;
                o.UseDoorTls(security, certificate);
            });
        });

        builder.Services.AddSingleton(endpoint);
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<TwinErrorInterceptor>();
            o.MaxReceiveMessageSize = MaxReceiveMessageBytes;
        });
        // grpc.health.v1 reports the silo's ASP.NET Core health checks (the readiness check of the silo).
        // Checked on each call (not the periodic publisher's cache, which says UNKNOWN for the first seconds).
        builder.Services.AddGrpcHealthChecks(o => o.UseHealthChecksCache = false).AddCheck<TwinApiHealthCheck>("fleettwin-api");
        builder.Services.AddGrpcReflection();
        builder.Services.AddSingleton<HostDirectory>();
        builder.Services.AddSingleton<AlertHub>();
        builder.Services.AddSingleton<ScenarioRuns>();
        builder.Services.AddSingleton<PoolPlanning>();
        return endpoint;
    }

    public static WebApplication MapFleetTwinApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var endpoint = app.Services.GetRequiredService<GrpcEndpoint>();
        var onGrpcPort = $"*:{endpoint.Port}";
        app.MapGrpcService<TwinQueryService>().RequireHost(onGrpcPort).RequireAuthorization(DoorRoles.Read);
        app.MapGrpcService<AlertWatchService>().RequireHost(onGrpcPort).RequireAuthorization(DoorRoles.Read);
        app.MapGrpcService<IngestGrpcService>().RequireHost(onGrpcPort).RequireAuthorization(DoorRoles.Ingest);
        app.MapGrpcService<PlanGrpcService>().RequireHost(onGrpcPort).RequireAuthorization(DoorRoles.Plan);
        // Health stays open: Kubernetes' gRPC probes and load balancers carry no token.
        app.MapGrpcHealthChecksService().RequireHost(onGrpcPort);
        app.MapGrpcReflectionService().RequireHost(onGrpcPort).RequireAuthorization(DoorRoles.Read);
        var hub = app.Services.GetRequiredService<AlertHub>();
        // Watch calls end cleanly (OK) when the silo stops, so clients reconnect with their resume token.
        app.Lifetime.ApplicationStopping.Register(hub.Close);
        return app;
    }

    /// <summary>
    /// One HTTP/1.1 endpoint of the urls setting (metrics, health, the HTTP ingest doors). With <c>FleetTwin:Tls</c> it
    /// speaks TLS whether the url says http:// or https://; an https:// url without it is refused.
    /// </summary>
    private static void ListenHttp1(KestrelServerOptions kestrel, string url, FleetTwinEndpointOptions security, ReloadingCertificate? certificate)
    {
        if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new InvalidOperationException($"urls: '{url}' is not an http:// or https:// address");
        if (uri.Scheme == Uri.UriSchemeHttps && certificate is null)
            throw new InvalidOperationException($"urls: '{url}' asks for TLS; set {FleetTwinEndpointOptions.Section}:Tls:CertificatePath and KeyPath");
        void Http1(ListenOptions o)
        {
            o.Protocols = HttpProtocols.Http1;
            o.UseDoorTls(security, certificate);
        }
        if (uri.IsLoopback && uri.Host == "localhost")
            kestrel.ListenLocalhost(uri.Port, Http1);
        else if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip))
        {
            security.RequireSecure("HTTP (metrics, ingest)", "urls", ip);
            kestrel.Listen(ip, uri.Port, Http1);
        }
        else
        {
            security.RequireSecure("HTTP (metrics, ingest)", "urls", IPAddress.Any);
            kestrel.ListenAnyIP(uri.Port, Http1);
        }
    }
}
