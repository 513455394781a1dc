using System.Diagnostics;
using System.Net;
using FleetTwin.Security;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>
/// A silo as fleettwin-silo builds it — the real twin configuration (<see cref="TwinOrleansConfiguration.AddFleetTwin"/>,
/// embedded defaults) and the front doors — on free loopback ports. One per test: logger names the records after this
/// machine, so each test needs a twin of its own to see only what it sent.
/// </summary>
public sealed class LiveSilo : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TwinGate? _gate;

    private LiveSilo(WebApplication app, string http, TwinGate? gate)
    {
        _app = app;
        _gate = gate;
        Http = http;
        Addresses = app.Services.GetRequiredService<FrontDoorAddresses>();
        Metrics = app.Services.GetRequiredService<FrontDoorMetrics>();
        Client = app.Services.GetRequiredService<IClusterClient>();
        Ingest = app.Services.GetRequiredService<LiveIngest>();
        Refusals = app.Services.GetRequiredService<DoorRefusals>();
    }

    /// <summary>Callers the doors refused (no or bad credentials, wrong role).</summary>
    public DoorRefusals Refusals { get; }

    /// <summary>Base address of the silo's HTTP server, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Http { get; }

    public FrontDoorAddresses Addresses { get; }

    public FrontDoorMetrics Metrics { get; }

    public IClusterClient Client { get; }

    /// <summary>The ingest behind every door (its unpublished count; stopping it as a silo shutdown does).</summary>
    public LiveIngest Ingest { get; }

    public int TcpPort => Addresses.SyslogTcp!.Port;

    public int UdpPort => Addresses.SyslogUdp!.Port;

    public int RelpPort => Addresses.Relp!.Port;

    /// <summary>The syslog-TLS door (RFC 5425), open when the settings include FleetTwin:Tls.</summary>
    public int TlsPort => Addresses.SyslogTls!.Port;

    /// <param name="gate">While closed, the twin does not take what the doors publish (see <see cref="TwinGate"/>).</param>
    /// <param name="redis">A Redis connection string: cluster mode, the doors in front of the durable journal.</param>
    public static async Task<LiveSilo> StartAsync(IDictionary<string, string?>? settings = null, TwinGate? gate = null, string? redis = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Error);
        var configuration = new Dictionary<string, string?>
        {
            ["FleetTwin:FrontDoors:SyslogTcpPort"] = "0",
            ["FleetTwin:FrontDoors:SyslogUdpPort"] = "0",
            ["FleetTwin:FrontDoors:RelpPort"] = "0",
            ["FleetTwin:FrontDoors:SyslogTlsPort"] = "0", // open only with FleetTwin:Tls
            ["FleetTwin:FrontDoors:SourceQuietSeconds"] = "1",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            configuration[key] = value;
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        if (!string.IsNullOrEmpty(builder.Configuration["FleetTwin:Tls:CertificatePath"]))
        {
            // TLS on the HTTP port as the silo's hosting sets it up (explicit endpoint, certificate from the files).
            var security = builder.AddDoorSecurity();
            var certificate = DoorSecurity.ServerCertificate(security);
            builder.Services.AddSingleton(certificate!);
            builder.WebHost.UseUrls();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, o => o.UseDoorTls(security, certificate)));
        }
        var id = $"fleettwin-doors-{Guid.NewGuid():N}";
        var twin = new TwinClusterOptions { SiloPort = InProcessTwin.FreeLoopbackPort(), GatewayPort = InProcessTwin.FreeLoopbackPort(), ClusterId = id, ServiceId = id,
            RedisConnectionString = redis, AdvertisedAddress = redis is null ? null : "127.0.0.1" };
        builder.UseOrleans(silo =>
        {
            silo.AddFleetTwin(twin);
            if (gate is not null)
                silo.AddIncomingGrainCallFilter(gate);
        });
        builder.AddFrontDoors();
        var app = builder.Build();
        app.MapFrontDoors();
        await app.StartAsync();
        var http = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LiveSilo(app, http, gate);
    }

    /// <summary>The host's view once <paramref name="settled"/> holds, or the last view seen after the timeout (so the assertion shows what was there).</summary>
    public async Task<HostView> HostWhen(string host, Func<HostView, bool> settled, double seconds = 30)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var view = await Client.GetGrain<IHostGrain>(host).GetView();
            if (settled(view) || clock.Elapsed.TotalSeconds > seconds)
                return view;
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _gate?.Open(); // what is held is handed over before the silo stops
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// A twin that is behind, on demand: while the gate is closed the fleet grain does not answer
/// <see cref="IFleetGrain.RegisterHosts"/>, which every hand-over with a new host waits for, so what the doors accepted
/// stays unpublished (HTTP requests wait, the unpublished bound stays full) until the test opens it. A hand-over that
/// registers no new host is not held: each test sends to hosts the silo has not seen while the gate is closed.
/// </summary>
public sealed class TwinGate : IIncomingGrainCallFilter
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _held;

    /// <summary>Hand-overs that have reached the closed gate so far (the ingest's consumer is waiting in one).</summary>
    public int Held => Volatile.Read(ref _held);

    public void Open() => _open.TrySetResult();

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(IFleetGrain) && context.InterfaceMethod.Name == nameof(IFleetGrain.RegisterHosts))
        {
            var open = _open.Task;
            if (!open.IsCompleted)
                Interlocked.Increment(ref _held);
            await open;
        }
        await context.Invoke();
    }
}

/// <summary>The KB incident's files, as the replay tests read them.</summary>
internal static class Golden
{
    public const string KbHost = "bn2-3c16-ix-4104";

    public static string KbIncident(string file) => Path.Combine(AppContext.BaseDirectory, "Golden", "kb-incident", file);

    /// <summary>kern.log's messages without the syslog prefix the file's writer added (<c>Sep 17 05:00:53 host kernel: </c>): what the kernel said, printk stamp included.</summary>
    public static string[] KernLogMessages() =>
        [.. File.ReadAllLines(KbIncident("kern.log")).Select(line => line[(line.IndexOf(" kernel: ", StringComparison.Ordinal) + " kernel: ".Length)..])];
}

/// <summary>This machine's name as util-linux logger writes it in the header.</summary>
internal static class ThisMachine
{
    /// <summary>RFC 5424 HOSTNAME: logger sends gethostname() as it is.</summary>
    public static string Rfc5424Name => Dns.GetHostName();

    /// <summary>RFC 3164 HOSTNAME: logger cuts gethostname() at the first dot.</summary>
    public static string Rfc3164Name => Dns.GetHostName().Split('.')[0];
}
