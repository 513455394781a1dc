using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using FleetTwin.Tests.Shared;

namespace FleetTwin.Deployment.Tests;

/// <summary>
/// The silo (<c>fleettwin-silo.dll</c>) as a separate process on free loopback ports, its console output kept.
/// <para>
/// The process binds its four ports itself (silo, gateway, HTTP, gRPC), so the test can neither hand it a listening
/// socket nor ask for port 0 (Orleans refuses it, see <c>InProcessTwin.OnFreePortsAsync</c>): a port found free here
/// may be taken by a parallel test assembly before the silo binds it. The silo then exits saying "address already in
/// use", and is started again on new ports; any other early exit fails the test with the silo's output.
/// </para>
/// </summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private const int PortAttempts = 5;
    private readonly ConcurrentQueue<string> _output = new();

    private SiloProcess(Process process, int http, int grpc, int siloPort, int gatewayPort)
    {
        Process = process;
        Http = http;
        Grpc = grpc;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
    }

    public Process Process { get; }
    public int Http { get; }
    public int Grpc { get; }
    public int SiloPort { get; }
    public int GatewayPort { get; }

    /// <summary>Everything the silo wrote to stdout and stderr so far, one line each.</summary>
    public string Output => string.Join('\n', _output);

    private const string RelpPortSetting = "FleetTwin__FrontDoors__RelpPort";

    /// <summary>
    /// Starts the silo with <paramref name="environment"/> (null values are left out) and the local ports, which win
    /// over it but for a fixed <c>FleetTwin__FrontDoors__RelpPort</c>, and waits until <c>/healthz/ready</c> answers.
    /// </summary>
    public static async Task<SiloProcess> StartAsync(IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        for (var attempt = 1; ; attempt++)
        {
            var silo = Launch(environment, arguments);
            var ready = await silo.WaitReadyAsync();
            if (ready)
                return silo;
            var output = silo.Output;
            await silo.DisposeAsync();
            if (attempt == PortAttempts || !output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                Assert.Fail($"silo (http port {silo.Http}) did not become ready:\n{output}");
        }
    }

    /// <summary>
    /// Starts a silo that is expected to refuse to start: its exit code and output once it has exited (at most 60 s;
    /// a silo still running then fails the test).
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(IReadOnlyDictionary<string, string?> environment)
    {
        await using var silo = Launch(environment, []);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await silo.Process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the silo was expected to refuse to start but still runs after 60 s:\n{silo.Output}");
        }
        silo.Process.WaitForExit(); // the rest of its output
        return (silo.Process.ExitCode, silo.Output);
    }

    private static SiloProcess Launch(IReadOnlyDictionary<string, string?> environment, string[] arguments)
    {
        int http = RedisServer.FreePort(), grpc = RedisServer.FreePort(), siloPort = RedisServer.FreePort(), gatewayPort = RedisServer.FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "fleettwin-silo.dll"));
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment)
        {
            if (value is not null)
                start.Environment[name] = value;
        }
        start.Environment["FleetTwin__SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["FleetTwin__GatewayPort"] = gatewayPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["FleetTwin__GrpcPort"] = grpc.ToString(CultureInfo.InvariantCulture);
        start.Environment["FleetTwin__GrpcAddress"] = "127.0.0.1";
        start.Environment["FleetTwin__FrontDoors__SyslogTcpPort"] = "0";
        start.Environment["FleetTwin__FrontDoors__SyslogUdpPort"] = "0";
        start.Environment["FleetTwin__FrontDoors__RelpPort"] = "0";
        start.Environment["FleetTwin__FrontDoors__SyslogTlsPort"] = "0"; // opens with FleetTwin:Tls; 6514 would clash between silos
        start.Environment["FleetTwin__FrontDoors__BindAddress"] = "127.0.0.1";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{http}";
        start.Environment["DOTNET_gcServer"] = "0";
        // The local ports above win over the test's environment (LocalClusterTests passes the manifest's, with its 8080),
        // except a RELP port the test fixes: the chaos test restarts a killed silo on the port rsyslog sends to.
        if (environment.TryGetValue(RelpPortSetting, out var relp) && relp is not null)
            start.Environment[RelpPortSetting] = relp;
        var process = Process.Start(start) ?? throw new InvalidOperationException("the silo did not start");
        var silo = new SiloProcess(process, http, grpc, siloPort, gatewayPort)
        {
            HttpScheme = environment.TryGetValue("FleetTwin__Tls__CertificatePath", out var certificate) && certificate is not null ? "https" : "http",
        };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) silo._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) silo._output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>https when the silo was given a TLS certificate (its HTTP port then speaks TLS), http otherwise.</summary>
    public string HttpScheme { get; private init; } = "http";

    /// <summary>True once /healthz/ready says so; false if the process exits first or 90 s pass.</summary>
    private async Task<bool> WaitReadyAsync()
    {
        // Readiness only: the certificate's chain is what the tests' clients check, not this probe (as kubelet's).
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (Process.HasExited)
            {
                Process.WaitForExit(); // the rest of its output
                return false;
            }
            try
            {
                if ((await client.GetAsync(new Uri($"{HttpScheme}://127.0.0.1:{Http}/healthz/ready"))).IsSuccessStatusCode)
                    return true;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(250);
        }
        return false;
    }

    /// <summary>Waits (at most 60 s) until the silo has written a line containing <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text)
    {
        var waited = Stopwatch.StartNew();
        while (!_output.Any(l => l.Contains(text, StringComparison.Ordinal)))
        {
            Assert.False(Process.HasExited, $"the silo exited before writing '{text}':\n{Output}");
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), $"the silo did not write '{text}' within 60 s:\n{Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>SIGTERM, as Kubernetes and Ctrl-C stop it; the exit code once it has stopped (at most 30 s).</summary>
    public async Task<int> StopAsync()
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", Process.Id.ToString(CultureInfo.InvariantCulture) } })!)
            await kill.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Process.WaitForExitAsync(timeout.Token);
        return Process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await Process.WaitForExitAsync(timeout.Token);
        }
        Process.Dispose();
    }
}
