using System.Globalization;
using FleetTwin.Tests.Shared;

namespace FleetTwin.Deployment.Tests.Chaos;

/// <summary>
/// rsyslog with omrelp (Debian's rsyslog-relp) as a relay runs it: imfile tails a kern.log the test appends to, and
/// omrelp forwards each line to one silo's RELP door, behind an in-memory action queue that retries without end
/// (<c>action.resumeRetryCount="-1"</c>, every second). rsyslogd is the test's own: loopback only, its own work
/// directory and pid file, killed when the test ends.
/// <para>
/// rsyslog does not tell anyone what the silo answered, so "acknowledged" here is "handed to rsyslog" (appended to the
/// file it tails). That is the stronger check: librelp keeps every frame not answered <c>rsp 200</c> and sends it
/// again once the session is open again, so every record handed over must arrive, and the twin applies the ones sent
/// twice once. The test restarts a killed silo on the same RELP port, so rsyslog's single target comes back.
/// </para>
/// </summary>
internal sealed class RsyslogRelpSender : IChaosSender, IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _kernLog;
    private readonly RsyslogDaemon _daemon;

    private RsyslogRelpSender(string directory, string kernLog, RsyslogDaemon daemon)
    {
        _directory = directory;
        _kernLog = kernLog;
        _daemon = daemon;
    }

    public string Name => "rsyslog-omrelp";

    /// <summary>rsyslogd, or null when it (or its omrelp module) is not installed: the caller skips or fails.</summary>
    public static string? FindRsyslogd()
    {
        var rsyslogd = new[] { "/usr/sbin/rsyslogd", "/sbin/rsyslogd" }.Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "rsyslogd"))).FirstOrDefault(File.Exists);
        // rsyslog looks for its modules in its own directory (/usr/lib/<multiarch>/rsyslog on Debian).
        var omrelp = Directory.EnumerateFiles("/usr/lib", "omrelp.so", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 3, IgnoreInaccessible = true }).Any();
        return omrelp ? rsyslogd : null;
    }

    /// <summary>Starts rsyslogd forwarding to 127.0.0.1:<paramref name="relpPort"/>, tailing an empty kern.log.</summary>
    public static RsyslogRelpSender Start(string rsyslogd, int relpPort)
    {
        var directory = Directory.CreateTempSubdirectory("fleettwin-chaos-rsyslog-").FullName;
        var kernLog = Path.Combine(directory, "kern.log");
        File.WriteAllText(kernLog, "");
        Directory.CreateDirectory(Path.Combine(directory, "work"));
        var config = Path.Combine(directory, "rsyslog.conf");
        // kern.log lines carry their syslog header (the host among them): relayed unchanged behind a PRI. The action
        // queue holds more than the test hands over (nothing is discarded while the silo is down); omrelp's window
        // (128 frames) is what it keeps unanswered and sends again after a reconnect.
        File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $$"""
            global(workDirectory="{{directory}}/work")
            module(load="imfile" mode="polling" PollingInterval="1")
            module(load="omrelp")
            template(name="relay" type="string" string="<%pri%>%rawmsg%")
            ruleset(name="twin") {
              action(type="omrelp" target="127.0.0.1" port="{{relpPort}}" template="relay"
                     queue.type="LinkedList" queue.size="200000" queue.timeoutEnqueue="60000"
                     action.resumeRetryCount="-1" action.resumeInterval="1")
            }
            input(type="imfile" File="{{kernLog}}" Tag="kernel" ruleset="twin")
            """));
        return new(directory, kernLog, RsyslogDaemon.Start(rsyslogd, config, directory));
    }

    /// <summary>What a failed assertion needs: rsyslogd's error output once it has exited, else "running".</summary>
    public Task<string> StatusAsync() => _daemon.StatusAsync();

    public async Task RunAsync(ChaosWork work, CancellationToken cancellationToken)
    {
        while (work.TryTake(out var batch))
        {
            await work.WaitDueAsync(batch, cancellationToken);
            work.Attempted();
            await File.AppendAllLinesAsync(_kernLog, batch.Records.Select(r => r.KernLogLine), cancellationToken);
            work.Acknowledge(batch); // handed over: rsyslog's to deliver from here on
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _daemon.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
