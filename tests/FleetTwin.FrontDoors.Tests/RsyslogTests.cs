using System.Globalization;
using FleetTwin.Tests.Shared;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>
/// rsyslog (Debian's package) as a dom0 or a central relay runs it: imfile tails the KB incident's kern.log and the
/// crash console, omfwd forwards to the TCP door with octet-counted framing. kern.log is relayed as written (its
/// own header names bn2-3c16-ix-4104); console lines are sent as RFC 5424 from rsyslog's localHostname, the dom0's
/// name. The twin ends as the replay test's: 17 exhaustions from kern.log, then 18 and the panic with the console.
/// </summary>
public sealed class RsyslogTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fleettwin-rsyslog-").FullName;

    [SkippableFact]
    public async Task Rsyslog_tailing_kern_log_then_the_console_forwards_17_then_18_exhaustions_and_the_panic()
    {
        var rsyslogd = Tools.Require("rsyslogd", "rsyslog");
        await using var silo = await LiveSilo.StartAsync();
        var kernLog = Path.Combine(_directory, "kern.log");
        var console = Path.Combine(_directory, "dom0-console.log");
        File.Copy(Golden.KbIncident("kern.log"), kernLog);
        File.WriteAllText(console, "");
        var config = Path.Combine(_directory, "rsyslog.conf");
        Directory.CreateDirectory(Path.Combine(_directory, "work"));
        File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $$"""
            global(workDirectory="{{_directory}}/work" localHostname="{{Golden.KbHost}}")
            module(load="imfile" mode="polling" PollingInterval="1")
            # kern.log lines already carry their syslog header: relay them unchanged behind a PRI.
            template(name="relay" type="string" string="<%pri%>%rawmsg%")
            # console lines are <level>[uptime] text: the level becomes nothing, the rest the message of an RFC 5424 record.
            template(name="console" type="string" string="<%pri%>1 %timegenerated:::date-rfc3339% %hostname% kernel - - - %rawmsg:R,ERE,1,FIELD:^<[0-9]+>(.*)--end%")
            ruleset(name="relay") { action(type="omfwd" target="127.0.0.1" port="{{silo.TcpPort}}" protocol="tcp" TCP_Framing="octet-counted" template="relay") }
            ruleset(name="console") { action(type="omfwd" target="127.0.0.1" port="{{silo.TcpPort}}" protocol="tcp" TCP_Framing="octet-counted" template="console") }
            input(type="imfile" File="{{kernLog}}" Tag="kernel" ruleset="relay")
            input(type="imfile" File="{{console}}" Tag="kernel" ruleset="console")
            """));
        await using var rsyslog = RsyslogDaemon.Start(rsyslogd, config, _directory);
        var host = await silo.HostWhen(Golden.KbHost, h => h.ExhaustionEvents >= 17);
        Assert.True(host.ExhaustionEvents == 17, $"after kern.log: {host.ExhaustionEvents} exhaustions (rsyslogd: {await rsyslog.StatusAsync()})");
        Assert.Equal([new DeviceExhaustionView("0000:04:00.0", null, 3), new DeviceExhaustionView("0000:04:00.1", null, 14)], host.Devices);
        Assert.Empty(host.Panics);

        File.AppendAllText(console, File.ReadAllText(Golden.KbIncident("dom0.log")));

        host = await silo.HostWhen(Golden.KbHost, h => h.Panics.Length > 0 && h.ExhaustionEvents >= 18);
        Assert.Equal(18, host.ExhaustionEvents);
        Assert.Equal([new DeviceExhaustionView("0000:04:00.0", null, 3), new DeviceExhaustionView("0000:04:00.1", null, 15)], host.Devices);
        var panic = Assert.Single(host.Panics);
        Assert.Equal(33_302, panic.CauseBytes);
        Assert.Equal("netback/2", panic.Comm);
        Assert.Equal("critical", host.Risk);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
