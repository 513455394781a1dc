using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FleetTwin.Tests.Shared;

/// <summary>
/// A real redis-server (Debian's package) started on a free loopback port with append-only persistence, for the
/// cluster-mode tests. When redis-server is missing the tests are reported as skipped, unless
/// FLEETTWIN_REQUIRE_REDIS=1 (set by .ci/run, which installs Redis), where a missing server fails them instead.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private Process? _process;
    private string? _directory;

    public string? ConnectionString { get; private set; }

    public string? Unavailable { get; private set; }

    public static bool Required => Environment.GetEnvironmentVariable("FLEETTWIN_REQUIRE_REDIS") == "1";

    /// <summary>Where each attempt's port comes from (a test can hand it a taken one first).</summary>
    internal Func<int> ChoosePort { get; init; } = FreePort;

    /// <summary>Attempts at a free port before giving up (each ends early when redis-server says the port is taken).</summary>
    private const int PortAttempts = 5;

    public async Task InitializeAsync()
    {
        var executable = FindOnPath("redis-server");
        if (executable is null)
        {
            Unavailable = "redis-server is not installed (apt-get install -y redis-server)";
            return;
        }
        _directory = Directory.CreateTempSubdirectory("fleettwin-redis-").FullName;
        // redis-server binds its port itself and cannot be given a listening socket, and `--port 0` does not mean "any
        // port" to it (0 turns TCP off). So the free port found here may be taken by another test assembly before
        // redis binds it: redis then exits saying "Address already in use", and it is started again on a new port.
        // A server answering on the port is only taken for ours when INFO names our process (another assembly's
        // redis may hold the port we lost).
        for (var attempt = 1; attempt <= PortAttempts; attempt++)
        {
            var (started, portTaken) = await TryStartAsync(executable, ChoosePort());
            if (started)
                return;
            if (!portTaken)
                break;
        }
        Unavailable ??= $"redis-server found no free port in {PortAttempts} attempts";
    }

    private async Task<(bool Started, bool PortTaken)> TryStartAsync(string executable, int port)
    {
        var start = new ProcessStartInfo(executable)
        {
            ArgumentList = { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _directory!, "--appendonly", "yes", "--save", "", "--daemonize", "no" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // the rest of its output
                process.Dispose();
                var said = string.Join('\n', output);
                if (said.Contains("Address already in use", StringComparison.Ordinal))
                    return (false, true);
                Unavailable = $"redis-server exited on start: {said}";
                return (false, false);
            }
            if (await ServerProcessIdAsync(port) == process.Id)
            {
                _process = process;
                ConnectionString = $"127.0.0.1:{port}";
                return (true, false);
            }
            await Task.Delay(50);
        }
        process.Kill(entireProcessTree: true);
        process.WaitForExit(5000);
        process.Dispose();
        Unavailable = $"redis-server on port {port} did not answer within 10 s";
        return (false, false);
    }

    /// <summary>The process_id INFO reports of the Redis server on the port, or null if none answers (yet).</summary>
    private static async Task<int?> ServerProcessIdAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            await using var stream = client.GetStream();
            await stream.WriteAsync("INFO server\r\n"u8.ToArray());
            var reply = "";
            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            while (true)
            {
                var processId = System.Text.RegularExpressions.Regex.Match(reply, @"process_id:(\d+)\r\n");
                if (processId.Success)
                    return int.Parse(processId.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0)
                    return null;
                reply += System.Text.Encoding.ASCII.GetString(buffer, 0, read);
                if (reply.StartsWith('-')) // an error such as -LOADING: not ready yet
                    return null;
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Skips (locally) or fails (CI) the calling test when no Redis is running.</summary>
    public string Require()
    {
        if (ConnectionString is not null)
            return ConnectionString;
        if (Required)
            throw new InvalidOperationException($"FLEETTWIN_REQUIRE_REDIS=1 but {Unavailable}");
        Skip.If(true, Unavailable);
        return "";
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process?.Dispose();
        _process = null; // stopping twice (a test that takes the server away, then its cleanup) is harmless
        if (_directory is not null)
            Directory.Delete(_directory, recursive: true);
        _directory = null;
        return Task.CompletedTask;
    }

    /// <summary>
    /// A loopback port free at the moment of asking; closed before the caller binds it, so whoever binds it must
    /// detect "address already in use" and try a new one (as <see cref="InitializeAsync"/> does).
    /// </summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
                return candidate;
        }
        return File.Exists("/usr/bin/" + name) ? "/usr/bin/" + name : null;
    }
}
