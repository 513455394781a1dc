using FleetTwin.Api.Hosting;
using FleetTwin.Api.V1;
using FleetTwin.FrontDoors;
using FleetTwin.Twin.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetTwin.Tests.Shared;

/// <summary>
/// A silo as the real one composes it (Orleans with the embedded configuration, <c>AddFleetTwinApi</c> /
/// <c>MapFleetTwinApi</c>, Kestrel with an HTTP/1.1 and an h2c endpoint) on free loopback ports, in this process.
/// </summary>
public sealed class ApiSilo : IAsyncDisposable
{
    private ApiSilo(WebApplication app, GrpcEndpoint endpoint)
    {
        App = app;
        Endpoint = endpoint.Url;
        _channel = GrpcChannel.ForAddress(Endpoint);
        Calls = _channel.Intercept(new DefaultDeadline(TimeSpan.FromMinutes(2)));
    }

    public WebApplication App { get; }
    public string Endpoint { get; }
    private readonly GrpcChannel _channel;

    /// <summary>The channel's calls, each given a deadline of two minutes unless the test sets its own: a server that never answers fails the test, it does not hang it.</summary>
    public CallInvoker Calls { get; }

    public TwinService.TwinServiceClient Twin => new(Calls);
    public IngestService.IngestServiceClient Ingest => new(Calls);
    public AlertService.AlertServiceClient Alerts => new(Calls);
    public PlanService.PlanServiceClient Plans => new(Calls);

    /// <summary>
    /// Starts on free ports, again on new ones while a port was taken between probe and bind (Orleans cannot listen on
    /// port 0: see <see cref="InProcessTwin.OnFreePortsAsync{T}"/>). A given <paramref name="grpcPort"/> is kept.
    /// <paramref name="redis"/> and <paramref name="clusterId"/> start it in cluster mode (Redis membership and storage).
    /// <paramref name="settings"/> are more configuration (section FleetTwin: TLS, JWT).
    /// </summary>
    public static Task<ApiSilo> StartAsync(int? grpcPort = null, string? redis = null, string? clusterId = null, IReadOnlyDictionary<string, string?>? settings = null) =>
        InProcessTwin.OnFreePortsAsync(async () =>
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            builder.Logging.ClearProviders();
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
                builder.Configuration[key] = value;
            builder.Configuration["urls"] = $"http://127.0.0.1:{InProcessTwin.FreeLoopbackPort()}";
            builder.Configuration[GrpcEndpoint.PortKey] = (grpcPort ?? InProcessTwin.FreeLoopbackPort()).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var id = clusterId ?? "api-tests-" + Guid.NewGuid().ToString("N")[..8];
            var twin = new TwinClusterOptions
            {
                SiloPort = InProcessTwin.FreeLoopbackPort(),
                GatewayPort = InProcessTwin.FreeLoopbackPort(),
                ClusterId = id,
                ServiceId = redis is null ? "api-tests" : id, // Redis storage keys include the service id: each test its own fleet
                RedisConnectionString = redis,
                AdvertisedAddress = redis is null ? null : "127.0.0.1",
            };
            if (redis is not null)
                builder.Configuration[GrpcEndpoint.AddressKey] = "127.0.0.1"; // cluster mode listens on every address by default
            builder.UseOrleans(silo => silo.AddFleetTwin(twin));
            builder.Services.AddHealthChecks();
            var endpoint = builder.AddFleetTwinApi(twin);
            // The live ingest behind IngestStream, its listening doors closed (the front doors' own tests cover them).
            builder.Configuration["FleetTwin:FrontDoors:SyslogTcpPort"] = "-1";
            builder.Configuration["FleetTwin:FrontDoors:SyslogUdpPort"] = "-1";
            builder.Configuration["FleetTwin:FrontDoors:RelpPort"] = "-1";
            builder.Configuration["FleetTwin:FrontDoors:SyslogTlsPort"] = "-1";
            builder.AddFrontDoors();
            var app = builder.Build();
            app.MapFleetTwinApi();
            await InProcessTwin.StartOrDisposeAsync(app);
            return new ApiSilo(app, endpoint);
        });

    /// <summary>Sends files through IngestService (one call each) and returns the answers.</summary>
    public async Task<IngestResponse[]> IngestFilesAsync(string? hostHint, params string[] paths)
    {
        var answers = new List<IngestResponse>();
        foreach (var path in paths)
            answers.Add(await IngestLinesAsync(File.ReadAllLines(path), hostHint, Path.GetFileName(path)));
        return [.. answers];
    }

    public async Task<IngestResponse> IngestLinesAsync(IEnumerable<string> lines, string? hostHint = null, string source = "test", int year = 2014)
    {
        using var call = Ingest.Ingest(deadline: DateTime.UtcNow.AddMinutes(1));
        var message = new IngestRequest { HostHint = hostHint ?? "", SourceName = source, Year = year };
        message.Lines.AddRange(lines);
        await call.RequestStream.WriteAsync(message);
        await call.RequestStream.CompleteAsync();
        return await call;
    }

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        _channel.Dispose();
        await App.StopAsync(TimeSpan.FromSeconds(10));
        // Bounded: a silo that does not go away fails the test that owns it, naming what hung, instead of the run.
        await App.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(1));
    }

    /// <summary>Gives every call without a deadline one <paramref name="deadline"/> from now.</summary>
    private sealed class DefaultDeadline(TimeSpan deadline) : Interceptor
    {
        private ClientInterceptorContext<TRequest, TResponse> With<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context)
            where TRequest : class where TResponse : class =>
            context.Options.Deadline is null
                ? new(context.Method, context.Host, context.Options.WithDeadline(DateTime.UtcNow.Add(deadline)))
                : context;

        public override TResponse BlockingUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
            BlockingUnaryCallContinuation<TRequest, TResponse> continuation) => continuation(request, With(context));

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
            AsyncUnaryCallContinuation<TRequest, TResponse> continuation) => continuation(request, With(context));

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
            AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation) => continuation(request, With(context));

        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context,
            AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation) => continuation(With(context));

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context,
            AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation) => continuation(With(context));
    }
}

/// <summary>One silo for the read-only specifications (API and CLI tests): the KB incident's host and its pool's xe/ethtool transcript.</summary>
public sealed class KbSiloFixture : IAsyncLifetime
{
    public const string KbHost = "bn2-3c16-ix-4104";
    public const string KbPool = "bn2-3c16";

    public ApiSilo Silo { get; private set; } = null!;
    public IngestResponse[] Ingested { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Silo = await ApiSilo.StartAsync();
        Ingested = await Silo.IngestFilesAsync(KbHost, GoldenFile("kb-incident/kern.log"), GoldenFile("kb-incident/dom0.log"), GoldenFile("kb-pool/kb-pool-transcript.txt"));
    }

    public async Task DisposeAsync() => await Silo.DisposeAsync();

    /// <summary>A golden input (kept with the ingest tests, copied beside each test assembly that uses this fixture).</summary>
    private static string GoldenFile(string relative) => Path.Combine(AppContext.BaseDirectory, "Golden", relative);
}
