using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using FleetTwin.Tests.Shared;
using StackExchange.Redis;

namespace FleetTwin.Deployment.Tests.Secure;

/// <summary>
/// A real redis-server (Debian's 7.0) that speaks TLS only (<c>--port 0 --tls-port N</c>, its certificate from the
/// test CA) and admits one ACL user (<c>--user default off</c>, <c>--user fleettwin on &gt;PASSWORD ...</c>), on a free
/// loopback port. Skipped without redis-server unless FLEETTWIN_REQUIRE_REDIS=1, as <see cref="RedisServer"/>.
/// </summary>
public sealed class TlsRedisServer : IAsyncLifetime
{
    public const string User = "fleettwin";
    private const int PortAttempts = 5;

    private Process? _process;
    private string? _directory;
    private readonly ConcurrentQueue<string> _output = new();

    public TestCredentials Credentials { get; } = new();

    /// <summary>The ACL user's password (random per run), also written to <see cref="PasswordPath"/> as a mounted Secret would be.</summary>
    public string Password { get; } = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    public string PasswordPath => Path.Combine(Credentials.Directory, "redis-password");

    public int Port { get; private set; }

    public string? Unavailable { get; private set; }

    public async Task InitializeAsync()
    {
        var executable = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);
        if (executable is null)
        {
            Unavailable = "redis-server is not installed (apt-get install -y redis-server)";
            return;
        }
        await File.WriteAllTextAsync(PasswordPath, Password + "\n");
        _directory = Directory.CreateTempSubdirectory("fleettwin-redis-tls-").FullName;
        for (var attempt = 1; attempt <= PortAttempts && _process is null; attempt++)
        {
            var port = RedisServer.FreePort();
            var process = Start(executable, port);
            if (await ReadyAsync(process, port))
            {
                _process = process;
                Port = port;
                return;
            }
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
            if (!_output.Any(l => l.Contains("Address already in use", StringComparison.Ordinal)))
                break;
            _output.Clear();
        }
        Unavailable = $"redis-server with TLS did not start: {string.Join('\n', _output)}";
    }

    private Process Start(string executable, int port)
    {
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            "--port", "0", "--tls-port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--tls-cert-file", Credentials.ServerCertificatePath, "--tls-key-file", Credentials.ServerKeyPath,
            "--tls-ca-cert-file", Credentials.CaPath,
            // The silos authenticate with the ACL user's password; client certificates are not asked for.
            "--tls-auth-clients", "no",
            "--dir", _directory!, "--save", "", "--appendonly", "no", "--daemonize", "no",
            // The default user is off: a client that does not AUTH as the ACL user can do nothing.
            "--user", "default", "off",
            "--user", User, "on", ">" + Password, "~*", "&*", "+@all",
        })
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>True once our process answers PING over TLS as the ACL user (at most 10 s).</summary>
    private async Task<bool> ReadyAsync(Process process, int port)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
        {
            try
            {
                using var redis = await ConnectionMultiplexer.ConnectAsync(ClientConfiguration(port));
                var info = await redis.GetServer(redis.GetEndPoints()[0]).InfoRawAsync("server");
                if (info is not null && info.Contains($"process_id:{process.Id}\r\n", StringComparison.Ordinal))
                    return true;
            }
            catch (RedisException)
            {
            }
            await Task.Delay(100);
        }
        return false;
    }

    /// <summary>The test's own client configuration (not the silo's TwinRedis): TLS against the test CA, the ACL user.</summary>
    private ConfigurationOptions ClientConfiguration(int port)
    {
        var options = ConfigurationOptions.Parse($"127.0.0.1:{port}");
        options.Ssl = true;
        options.User = User;
        options.Password = Password;
        options.ConnectTimeout = 2000;
        options.AllowAdmin = true; // INFO, to tell our server from another on the port
        options.CertificateValidation += (_, certificate, _, _) =>
            certificate is not null && Credentials.IssuedByTestCa(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
        return options;
    }

    /// <summary>Skips (locally) or fails (CI) the calling test when the server could not be started.</summary>
    public void Require()
    {
        if (_process is not null)
            return;
        if (RedisServer.Required)
            throw new InvalidOperationException($"FLEETTWIN_REQUIRE_REDIS=1 but {Unavailable}");
        Skip.If(true, Unavailable);
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        if (_directory is not null)
            Directory.Delete(_directory, recursive: true);
        Credentials.Dispose();
    }
}
