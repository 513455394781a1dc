using System.Diagnostics;

namespace FleetTwin.Tests.Shared;

/// <summary>
/// Debian's rsyslogd run in the foreground on a test's configuration (<c>-n -f CONFIG</c>, its pid file in the
/// test's directory), killed when the test ends. <see cref="StatusAsync"/> says what a failed assertion needs: its
/// error output once it has exited, else that it is still running.
/// </summary>
public sealed class RsyslogDaemon : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<string> _errors;

    private RsyslogDaemon(Process process)
    {
        _process = process;
        _errors = process.StandardError.ReadToEndAsync();
    }

    public static RsyslogDaemon Start(string rsyslogd, string config, string directory) =>
        new(Process.Start(new ProcessStartInfo(rsyslogd)
        {
            ArgumentList = { "-n", "-f", config, "-i", Path.Combine(directory, "rsyslogd.pid") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!);

    public async Task<string> StatusAsync() => _process.HasExited ? await _errors : "running";

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
