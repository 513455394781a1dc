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

    public async Task InitializeAsync()
    {
        var executable = FindOnPath("redis-server");
        if (executable is null)
        {
            Unavailable = "redis-server is not installed (apt-get install -y redis-server)";
            return;
        }
        var port = FreePort();
        _directory = Directory.CreateTempSubdirectory("fleettwin-redis-").FullName;
        var start = new ProcessStartInfo(executable)
        {
            ArgumentList = { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _directory, "--appendonly", "yes", "--save", "", "--daemonize", "no" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                await using var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer);
                if (System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    ConnectionString = $"127.0.0.1:{port}";
                    return;
                }
            }
            catch (SocketException)
            {
            }
            await Task.Delay(50);
        }
        Unavailable = $"redis-server on port {port} did not answer PING within 10 s";
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
        if (_directory is not null)
            Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

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
