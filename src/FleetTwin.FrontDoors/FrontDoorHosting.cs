using System.Net;
using FleetTwin.FrontDoors.Relp;
using FleetTwin.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FleetTwin.FrontDoors;

/// <summary>Two lines in the silo's Program.cs: <c>builder.AddFrontDoors()</c> and <c>app.MapFrontDoors()</c>.</summary>
public static class FrontDoorHosting
{
    /// <summary>
    /// Registers the live ingest and the syslog doors with options from <c>FleetTwin:FrontDoors</c>. Call after
    /// <c>UseOrleans</c>: hosted services stop in reverse order, so the doors close first, then the ingest drains,
    /// then the silo stops.
    /// </summary>
    public static WebApplicationBuilder AddFrontDoors(this WebApplicationBuilder builder, Action<FrontDoorOptions>? configure = null)
    {
        var options = builder.Configuration.GetSection(FrontDoorOptions.Section).Get<FrontDoorOptions>() ?? new FrontDoorOptions();
        // The syslog doors' address: their own setting, else the one every door shares (FleetTwinEndpointOptions).
        var security = builder.AddDoorSecurity();
        var address = security.AddressOf(options.BindAddress, $"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.BindAddress)}");
        options = options with { BindAddress = address.ToString() };
        Validate(options);
        // Plain syslog (UDP, RFC 5426; TCP, RFC 6587) has neither TLS nor a way to authenticate a sender: in cluster
        // mode it stays on loopback unless allowed. The secure way in is the syslog-TLS door (RFC 5425) below.
        var plainRemedy = $"senders can use syslog over TLS instead ({FrontDoorOptions.Section}:{nameof(FrontDoorOptions.SyslogTlsPort)}, RFC 5425, with {FleetTwinEndpointOptions.Section}:Tls and Tls:ClientCaPath)";
        if (options.SyslogUdpPort >= 0)
            security.RequireSecure("syslog UDP", $"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.SyslogUdpPort)}", address, securable: false, plainRemedy);
        if (options.SyslogTcpPort >= 0)
            security.RequireSecure("syslog TCP", $"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.SyslogTcpPort)}", address, securable: false, plainRemedy);
        // Syslog over TLS opens with FleetTwin:Tls (there is no plain RFC 5425). Like RELP it can authenticate a sender
        // by client certificate only (RFC 5425 §5.2; a syslog frame carries no token): secure means Tls:ClientCaPath.
        var syslogTls = options.SyslogTlsPort >= 0 && security.TlsEnabled;
        if (syslogTls)
            RequireClientCertificates(security, "syslog-TLS", FrontDoorOptions.Section + ":" + nameof(FrontDoorOptions.SyslogTlsPort), address);
        // RELP speaks TLS with FleetTwin:Tls and authenticates senders by client certificate only (omrelp has no
        // tokens): secure means TLS with FleetTwin:Tls:ClientCaPath.
        if (options.RelpPort >= 0)
        {
            var setting = $"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.BindAddress)}";
            if (security.TlsEnabled)
                RequireClientCertificates(security, "RELP", $"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.RelpPort)}", address);
            security.RequireSecure("RELP", setting, address, securable: security.TlsEnabled);
        }
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddSingleton<FrontDoorMetrics>();
        builder.Services.AddSingleton<SourceRateLimiter>();
        builder.Services.AddSingleton<FrontDoorAddresses>();
        builder.Services.AddSingleton<LiveIngest>();
        builder.Services.AddHostedService(services => services.GetRequiredService<LiveIngest>());
        builder.Services.AddSingleton<LiveBatches>(); // the gRPC IngestStream's way in
        if (options.SyslogUdpPort >= 0)
            builder.Services.AddHostedService<SyslogUdpDoor>();
        if (options.SyslogTcpPort >= 0)
            builder.Services.AddHostedService<SyslogTcpDoor>();
        if (syslogTls)
            builder.Services.AddHostedService<SyslogTlsDoor>();
        if (options.RelpPort >= 0)
            builder.Services.AddHostedService<RelpDoor>();
        return builder;
    }

    /// <summary>
    /// Maps the HTTP doors and prints every door's address once the silo has started. <paramref name="isHttp1Address"/>
    /// leaves out server addresses that do not speak HTTP/1.1 (the silo's HTTP/2-only gRPC endpoint).
    /// </summary>
    public static WebApplication MapFrontDoors(this WebApplication app, Func<string, bool>? isHttp1Address = null)
    {
        var options = app.Services.GetRequiredService<IOptions<FrontDoorOptions>>().Value;
        var addresses = app.Services.GetRequiredService<FrontDoorAddresses>();
        if (!string.IsNullOrEmpty(options.HttpPathPrefix))
        {
            var prefix = "/" + options.HttpPathPrefix.Trim('/');
            app.MapPost(prefix + "/ndjson", (Func<HttpContext, Task<IResult>>)HttpDoor.NdjsonAsync)
                .RequireAuthorization(DoorRoles.Ingest).WithMetadata(new DoorName(Door.HttpNdjson));
            app.MapPost(prefix + "/text", (Func<HttpContext, Task<IResult>>)HttpDoor.TextAsync)
                .RequireAuthorization(DoorRoles.Ingest).WithMetadata(new DoorName(Door.HttpText));
            addresses.HttpPathPrefix = prefix;
        }
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var http = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            foreach (var line in addresses.Describe(isHttp1Address is null ? http : http.Where(isHttp1Address)))
                Console.WriteLine($"  {line}");
        });
        return app;
    }

    /// <summary>
    /// A door that authenticates senders by client certificate only (RELP, syslog over TLS): in cluster mode on a
    /// non-loopback address it needs <c>FleetTwin:Tls:ClientCaPath</c>, else anyone who reaches it may write (unless
    /// <c>FleetTwin:AllowInsecure</c>).
    /// </summary>
    private static void RequireClientCertificates(FleetTwinEndpointOptions security, string door, string portSetting, IPAddress address)
    {
        if (string.IsNullOrWhiteSpace(security.Tls.ClientCaPath) && security.ClusterMode && !security.AllowInsecure && !IPAddress.IsLoopback(address))
            throw new InvalidOperationException($"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.BindAddress)}: the {door} door listens on {address} in cluster mode and checks senders by client certificate only; set {FleetTwinEndpointOptions.Section}:Tls:ClientCaPath (or {FleetTwinEndpointOptions.Section}:AllowInsecure=true, or close it: {portSetting}=-1)");
    }

    internal static IPAddress BindAddressOf(FrontDoorOptions options)
        => IPAddress.TryParse(options.BindAddress ?? "127.0.0.1", out var address)
            ? address
            : throw new InvalidOperationException($"FleetTwin:FrontDoors:BindAddress '{options.BindAddress}' is not an IP address");

    private static void Validate(FrontDoorOptions options)
    {
        void Require(bool ok, string what)
        {
            if (!ok)
                throw new InvalidOperationException($"FleetTwin:FrontDoors: {what}");
        }
        Require(options.MaxRecordBytes is >= 256 and <= 16 * 1024 * 1024, $"MaxRecordBytes {options.MaxRecordBytes} must be between 256 and 16 MiB");
        Require(options.MaxRequestBytes >= options.MaxRecordBytes && options.MaxRequestBytes <= 1 << 30, $"MaxRequestBytes {options.MaxRequestBytes} must be at least MaxRecordBytes and at most 1 GiB");
        Require(options.MaxConnections >= 1, $"MaxConnections {options.MaxConnections} must be at least 1");
        Require(options.MaxUnpublishedRecords >= 1, $"MaxUnpublishedRecords {options.MaxUnpublishedRecords} must be at least 1");
        Require(options.MaxRecordsPerSecondPerSource >= 0, "MaxRecordsPerSecondPerSource must be 0 (unlimited) or more");
        Require(options.TcpIdleTimeoutSeconds > 0 && options.SourceQuietSeconds > 0 && options.FlushIntervalMilliseconds > 0 && options.HandOverTimeoutSeconds > 0, "timeouts and intervals must be positive");
        Require(options.BatchSize >= 1, "BatchSize must be at least 1");
        Require(options.SyslogUdpPort <= 65535 && options.SyslogTcpPort <= 65535 && options.SyslogTlsPort <= 65535 && options.RelpPort <= 65535, "ports must be at most 65535");
        _ = BindAddressOf(options);
    }
}
