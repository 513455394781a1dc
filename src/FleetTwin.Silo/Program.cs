using FleetTwin.Api.Hosting;
using FleetTwin.Api.Web;
using FleetTwin.FrontDoors;
using FleetTwin.Security;
using FleetTwin.Silo;
using FleetTwin.Twin.Hosting;
using FleetTwin.Twin.Telemetry;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using OpenTelemetry.Metrics;
using Orleans.Dashboard;
using OpenTelemetry.Trace;

// The FleetTwin silo. With no configuration: a single-node twin on embedded defaults (localhost clustering, memory
// storage and streams). With FleetTwin__RedisConnectionString set: cluster mode on Redis. --demo seeds it.
var demo = args.Contains("--demo");
// Content root = the silo's own directory, so its appsettings.json (log levels among them) applies from whatever
// directory it is started: started as `dotnet path/to/fleettwin-silo.dll` from elsewhere, ASP.NET Core's default
// (the working directory) found no appsettings.json and logged every gRPC request and grain placement at Information
// (four console lines per request: 680,000 lines in one API load run).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args.Where(a => a != "--demo").ToArray(),
    ContentRootPath = AppContext.BaseDirectory,
});
var twin = builder.Configuration.GetSection(TwinClusterOptions.Section).Get<TwinClusterOptions>() ?? new TwinClusterOptions();
// Addresses, TLS and credentials of every door (FleetTwin:BindAddress, FleetTwin:Tls, FleetTwin:Jwt, FleetTwin:AllowInsecure).
var security = builder.AddDoorSecurity(twin.IsClusterMode);
if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
    builder.WebHost.UseUrls($"http://{security.AddressOf(null, "urls")}:{SiloEndpoints.HttpPort}");

// Traces are only collected when there is a collector to send them to (OTEL_EXPORTER_OTLP_ENDPOINT): a listening
// tracer makes every grain call create and tag an Activity (measured: a tenth of the silo's allocations per gRPC
// request), and the propagation filter adds two async state machines per grain call, for nothing when no exporter
// takes them.
var otlp = !string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
// The Orleans silo and gateway ports: loopback only when the silo is advertised at a loopback address (several silos
// on one machine), every interface otherwise (Kubernetes: the pod IP). Secure by default: off loopback they need TLS.
var orleansAddress = twin.OrleansListenAddress;
ClusterTls.RequireSecure(security, orleansAddress, twin.KubernetesHosting ? "FleetTwin:KubernetesHosting" : "FleetTwin:AdvertisedAddress");
// Redis (membership, grain storage, the journal): TLS and credentials checked, and tried once, before Orleans starts,
// so a wrong password or CA is one line naming the setting rather than a membership-table stack trace.
if (twin.IsClusterMode)
{
    security.RequireSecureRedis(twin);
    await TwinRedis.VerifyAsync(twin, TimeSpan.FromSeconds(10));
}
var orleansCertificate = ClusterTls.Enabled(security) ? DoorSecurity.ServerCertificate(security) : null;
builder.UseOrleans(silo =>
{
    silo.AddFleetTwin(twin);
    silo.UseClusterTls(security, orleansCertificate);
    if (otlp)
        silo.AddActivityPropagation();
    // The Orleans Dashboard's runtime view (silos, grains, calls) at /orleans. Its grain-call profiler only runs
    // while the dashboard is being looked at (GrainProfilerOptions.TraceAlways is false): no cost to an unwatched silo.
    silo.AddDashboard();
    if (twin.KubernetesHosting)
        silo.UseKubernetesHosting(); // silo name, address and ids from the pod (k8s/ sets POD_* and ORLEANS_* variables)
});
builder.AddFrontDoors(); // syslog UDP/TCP and HTTP ingest for log shippers (FleetTwin:FrontDoors)
builder.Services.AddHealthChecks().AddCheck<SiloHealthCheck>("orleans-silo");
var grpc = builder.AddFleetTwinApi(twin);
builder.Services.AddConsoleApi(); // the web console's /api/ (docs/console.md)

// Orleans' meters and activity sources plus FleetTwin's own; OTLP when the standard OTEL_* variables point at a
// collector, and a Prometheus scrape endpoint at /metrics always.
var telemetry = builder.Services.AddOpenTelemetry()
    .WithMetrics(metrics =>
    {
        metrics.AddMeter("Microsoft.Orleans", TwinMetrics.MeterName).AddRuntimeInstrumentation().AddPrometheusExporter();
        if (otlp)
            metrics.AddOtlpExporter();
    });
if (otlp)
    telemetry.WithTracing(tracing => tracing.AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application").AddOtlpExporter());
if (demo)
    builder.Services.AddHostedService<DemoSeed>();

var app = builder.Build();
app.MapPrometheusScrapingEndpoint(SiloEndpoints.MetricsPath).RequireAuthorization(DoorRoles.Read).WithMetadata(new DoorName(DoorName.Metrics));
app.MapHealthChecks(SiloEndpoints.ReadyPath);
app.MapGet(SiloEndpoints.LivePath, () => Results.Ok("live"));
app.MapFrontDoors(address => !grpc.Matches(address));
app.MapFleetTwinApi();
// The web console (Fleet, Host, Pool, Alerts pages and their /api/) behind `read`, the what-if POST behind `plan`, and
// the Orleans Dashboard behind `admin` (where authentication is on; docs/console.md).
app.MapConsole();
app.MapOrleansDashboard(routePrefix: SiloEndpoints.DashboardPath).RequireAuthorization(DoorRoles.Admin).WithMetadata(new DoorName(DoorName.Http));

if (security.AllowInsecure && security.ClusterMode)
{
    app.Logger.LogWarning("FleetTwin:AllowInsecure=true: doors may listen on non-loopback addresses without TLS or authentication; anyone who reaches them can inject logs, read the fleet and start what-if runs");
}
app.Lifetime.ApplicationStarted.Register(() =>
{
    var http = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
    Console.WriteLine($"FleetTwin silo started ({(twin.IsClusterMode ? "cluster mode, Redis membership and storage" : "embedded defaults, in-memory storage and streams")})");
    var orleans = orleansAddress?.ToString() ?? "0.0.0.0";
    var orleansTls = orleansCertificate is null ? "" : "  (mutual TLS, peers from FleetTwin:Tls:ClientCaPath)";
    Console.WriteLine($"  silo    {orleans}:{twin.SiloPort}{orleansTls}");
    Console.WriteLine($"  gateway {orleans}:{twin.GatewayPort}{orleansTls}  (fleettwin replay --gateway-port {twin.GatewayPort})");
    if (twin.IsClusterMode)
        Console.WriteLine($"  redis   {TwinRedis.Describe(twin)}");
    foreach (var address in http.Where(a => !grpc.Matches(a)))
        Console.WriteLine($"  http    {address}  (console {address}/, Orleans dashboard {address}{SiloEndpoints.DashboardPath}, metrics {address}/metrics, health {address}/healthz/ready)");
    Console.WriteLine($"  grpc    {grpc.Url}  (HTTP/2{(grpc.Tls ? " over TLS" : " cleartext")}: fleettwin.v1, grpc.health.v1, reflection; fleettwin hosts --endpoint {grpc.Url})");
    Console.WriteLine($"  auth    {security.DescribeAuthentication()}");
    Console.WriteLine("Ctrl-C stops the silo cleanly.");
});
await app.RunAsync();
