using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>
/// The live ingest behind the doors: what happens when its unpublished bound is full (UDP drops and counts, TCP stops
/// reading and loses nothing) and to records it cannot give a host or cannot parse (counted with the reason). A closed
/// <see cref="TwinGate"/> keeps the bound full for as long as a test needs.
/// </summary>
public class LiveIngestTests
{
    /// <summary>An RFC 5424 record of one exhaustion at a distinct uptime (host "-": none).</summary>
    private static string Record(string host, int i) => string.Create(CultureInfo.InvariantCulture,
        $"<3>1 2014-09-17T05:05:06Z {host} kernel - - - [{2777545 + i * 0.000001:F6}] PCI-DMA: Out of SW-IOMMU space for {16384 + i % 1000} bytes at device 0000:04:00.1");

    [Fact]
    public async Task UDP_datagrams_finding_the_bound_full_are_dropped_and_counted_and_the_door_takes_records_again_once_the_twin_catches_up()
    {
        var gate = new TwinGate();
        await using var silo = await LiveSilo.StartAsync(new Dictionary<string, string?> { ["FleetTwin:FrontDoors:MaxUnpublishedRecords"] = "5" }, gate);
        using var udp = new UdpClient();
        var door = new IPEndPoint(IPAddress.Loopback, silo.UdpPort);

        // 20 records while the twin is behind: the bound takes 5, UDP cannot push back, 15 are dropped.
        for (var i = 0; i < 20; i++)
            await udp.SendAsync(Encoding.UTF8.GetBytes(Record("udp-drop-host", i)), door);
        await Await.Until("all 20 datagrams taken or dropped", () => silo.Metrics.AcceptedCount(Door.SyslogUdp) + silo.Metrics.RejectedCount(Door.SyslogUdp, RejectReason.TwinBusy) == 20,
            () => $"{silo.Metrics.AcceptedCount(Door.SyslogUdp)} accepted, {silo.Metrics.RejectedCount(Door.SyslogUdp, RejectReason.TwinBusy)} twin_busy");

        Assert.Equal(5, silo.Metrics.AcceptedCount(Door.SyslogUdp));
        Assert.Equal(15, silo.Metrics.RejectedCount(Door.SyslogUdp, RejectReason.TwinBusy));
        Assert.Equal(5, silo.Ingest.Unpublished);

        gate.Open();
        Assert.Equal(5, (await silo.HostWhen("udp-drop-host", h => h.ExhaustionEvents >= 5)).ExhaustionEvents);
        await Await.Until("the five handed over", () => silo.Ingest.Unpublished == 0);
        await udp.SendAsync(Encoding.UTF8.GetBytes(Record("udp-drop-host", 20)), door);
        Assert.Equal(6, (await silo.HostWhen("udp-drop-host", h => h.ExhaustionEvents >= 6)).ExhaustionEvents);
        Assert.Equal(15, silo.Metrics.RejectedCount(Door.SyslogUdp, RejectReason.TwinBusy));
    }

    [Fact]
    public async Task A_TCP_sender_finding_the_bound_full_is_not_read_until_the_twin_catches_up_and_loses_nothing()
    {
        var gate = new TwinGate();
        await using var silo = await LiveSilo.StartAsync(new Dictionary<string, string?> { ["FleetTwin:FrontDoors:MaxUnpublishedRecords"] = "1" }, gate);
        const int Records = 5000;
        var lines = Enumerable.Range(0, Records).Select(i => Encoding.UTF8.GetBytes(Record("tcp-bp-host", i) + "\n")).ToArray();
        // The door reads into a 64 KiB buffer: one read holds at most this many records.
        var oneRead = 64 * 1024 / lines.Min(l => l.Length) + 1;
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, silo.TcpPort);
        var stream = client.GetStream();
        var sender = Task.Run(async () =>
        {
            foreach (var line in lines)
                await stream.WriteAsync(line);
            client.Client.Shutdown(SocketShutdown.Send);
        });

        // The first read is admitted (an empty pipeline takes one chunk whole) and its hand-over is held: from then
        // on the bound is full, the door waits to admit its next read and reads nothing more.
        await Await.Until("the first hand-over held by the twin", () => gate.Held >= 1 && silo.Metrics.AcceptedCount(Door.SyslogTcp) > 0);
        var accepted = silo.Metrics.AcceptedCount(Door.SyslogTcp);
        Assert.InRange(accepted, 1, oneRead);
        Assert.Equal(accepted, silo.Ingest.Unpublished);
        Assert.DoesNotContain(silo.Metrics.Rejections, r => r.Key.Door == Door.SyslogTcp);

        gate.Open();
        await sender;
        var host = await silo.HostWhen("tcp-bp-host", h => h.ExhaustionEvents >= Records);
        Assert.Equal(Records, host.ExhaustionEvents);
        Assert.Equal(Records, silo.Metrics.AcceptedCount(Door.SyslogTcp));
        Assert.DoesNotContain(silo.Metrics.Rejections, r => r.Key.Door == Door.SyslogTcp);
    }

    [Fact]
    public async Task Records_naming_no_host_are_counted_as_no_host_and_records_the_parser_cannot_read_as_malformed_by_door()
    {
        await using var silo = await LiveSilo.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(silo.Http) };

        // Over TCP: two records without a HOSTNAME, one with, and two console records whose uptime stamp is cut off
        // (the last one right before the close).
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, silo.TcpPort);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.UTF8.GetBytes(string.Join('\n', Record("-", 0), "<4>[2777545.97", Record("-", 1), Record("named-host", 2), "<4>[2777546") + "\n"));
            client.Client.Shutdown(SocketShutdown.Send);
            while (await stream.ReadAsync(new byte[16]) > 0)
            {
            }
        }
        // Over HTTP: console lines of no host (no host parameter).
        var text = await http.PostAsync("/ingest/text", new StringContent("<3>[2777545.972710] PCI-DMA: Out of SW-IOMMU space for 25158 bytes at device 0000:04:00.0\n<3>[2777553.832648] PCI-DMA: Out of SW-IOMMU space for 16918 bytes at device 0000:04:00.0\n"));
        Assert.Equal("""{"accepted":2,"recognised":2,"unrecognised":0,"malformed":0}""", await text.Content.ReadAsStringAsync());

        Assert.Equal(1, (await silo.HostWhen("named-host", h => h.ExhaustionEvents >= 1)).ExhaustionEvents);
        await Await.Until("the rejections counted", () => silo.Metrics.RejectedCount(Door.SyslogTcp, RejectReason.NoHost) >= 2 && silo.Metrics.RejectedCount(Door.SyslogTcp, RejectReason.MalformedRecord) >= 2
                && silo.Metrics.RejectedCount(Door.HttpText, RejectReason.NoHost) >= 2,
            () => string.Join(", ", silo.Metrics.Rejections.Select(r => $"{r.Key.Door}/{r.Key.Reason}={r.Value}")));
        Assert.Equal(new Dictionary<string, long> { [RejectReason.NoHost] = 2, [RejectReason.MalformedRecord] = 2 },
            silo.Metrics.Rejections.Where(r => r.Key.Door == Door.SyslogTcp).ToDictionary(r => r.Key.Reason, r => r.Value));
        Assert.Equal(new Dictionary<string, long> { [RejectReason.NoHost] = 2 },
            silo.Metrics.Rejections.Where(r => r.Key.Door == Door.HttpText).ToDictionary(r => r.Key.Reason, r => r.Value));
        Assert.Equal(5, silo.Metrics.AcceptedCount(Door.SyslogTcp));
    }
}
