using FleetTwin.Twin.Contracts;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>
/// util-linux logger, as a dom0 script would forward kernel messages, sends the KB incident's kern.log to the
/// syslog doors: the host twin ends as the replay test's (17 exhaustions in kern.log: 3 on 0000:04:00.0, 14 on
/// 0000:04:00.1), and with the crash console sent too, 18 and the panic.
/// </summary>
public class LoggerTests
{
    private static string[] LoggerArguments(LiveSilo silo, string transport, string format) =>
    [
        "--server", "127.0.0.1",
        "--port", (transport == "udp" ? silo.UdpPort : silo.TcpPort).ToString(System.Globalization.CultureInfo.InvariantCulture),
        transport == "udp" ? "--udp" : "--tcp",
        .. format.Split(' '),
        "-t", "kernel", "-p", "kern.warning",
    ];

    private static string HostNameFor(string format) => format.StartsWith("--rfc3164", StringComparison.Ordinal) ? ThisMachine.Rfc3164Name : ThisMachine.Rfc5424Name;

    [SkippableTheory]
    [InlineData("udp", "--rfc3164")]
    [InlineData("udp", "--rfc5424")]
    [InlineData("tcp", "--rfc3164")]
    [InlineData("tcp", "--rfc5424")]
    [InlineData("tcp", "--rfc5424 --octet-count")]
    public async Task Kern_log_sent_by_logger_gives_the_host_its_17_exhaustions_3_on_port_0_and_14_on_port_1(string transport, string format)
    {
        var logger = Tools.Require("logger", "bsdutils");
        await using var silo = await LiveSilo.StartAsync();

        await Tools.RunAsync(logger, LoggerArguments(silo, transport, format), string.Join('\n', Golden.KernLogMessages()) + "\n");

        var host = await silo.HostWhen(HostNameFor(format), h => h.ExhaustionEvents >= 17);
        Assert.Equal(17, host.ExhaustionEvents);
        Assert.Equal([new DeviceExhaustionView("0000:04:00.0", null, 3), new DeviceExhaustionView("0000:04:00.1", null, 14)], host.Devices);
        Assert.Equal(2777545.972710, host.FirstExhaustionUptime!.Value, 6);
        Assert.Single(host.VmStarts, v => v.Domid == 174);
        Assert.Equal(37, silo.Metrics.AcceptedCount(transport == "udp" ? Door.SyslogUdp : Door.SyslogTcp));
    }

    [SkippableFact]
    public async Task Kern_log_then_the_crash_console_over_TCP_gives_18_exhaustions_counted_once_and_the_panic()
    {
        var logger = Tools.Require("logger", "bsdutils");
        await using var silo = await LiveSilo.StartAsync();
        var arguments = LoggerArguments(silo, "tcp", "--rfc5424");

        await Tools.RunAsync(logger, arguments, string.Join('\n', Golden.KernLogMessages()) + "\n");
        // The console keeps each line's printk level (<4>, <3>…): --prio-prefix sends it as the record's PRI.
        await Tools.RunAsync(logger, [.. arguments, "--prio-prefix"], File.ReadAllText(Golden.KbIncident("dom0.log")));

        var host = await silo.HostWhen(ThisMachine.Rfc5424Name, h => h.Panics.Length > 0 && h.ExhaustionEvents >= 18);
        Assert.Equal(18, host.ExhaustionEvents);
        Assert.Equal([new DeviceExhaustionView("0000:04:00.0", null, 3), new DeviceExhaustionView("0000:04:00.1", null, 15)], host.Devices);
        // The 34 lines the console shares with kern.log carry 18 keyed records: the 17 exhaustions and domain 174's
        // start. Each is a duplicate once; the console's own lines (the 18th exhaustion, the panic) are not.
        Assert.Equal(18, host.DuplicateRecords);
        Assert.Single(host.VmStarts, v => v.Domid == 174);
        var panic = Assert.Single(host.Panics);
        Assert.Equal("DMA: Random memory could be DMA read", panic.Message);
        Assert.Equal(33_302, panic.CauseBytes);
        Assert.Equal("0000:04:00.1", panic.CauseDevice);
        Assert.Equal("bnx2x_start_xmit", panic.Via);
        Assert.Equal("critical", host.Risk);
    }
}
