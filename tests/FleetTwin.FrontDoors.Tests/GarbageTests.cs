using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>
/// Garbage on every door — random bytes, a 10 MB line, half-open TCP connections, too many connections — is counted
/// with its reason, and each listener still serves the KB incident afterwards.
/// </summary>
public class GarbageTests
{
    private static Dictionary<string, string?> SmallLimits => new()
    {
        ["FleetTwin:FrontDoors:MaxRecordBytes"] = "8192",
        ["FleetTwin:FrontDoors:MaxConnections"] = "6",
        ["FleetTwin:FrontDoors:TcpIdleTimeoutSeconds"] = "1",
    };

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [SkippableFact]
    public async Task TCP_door_counts_random_bytes_a_10_MB_line_a_10_MB_frame_and_half_open_peers_and_still_serves()
    {
        var logger = Tools.Require("logger", "bsdutils");
        await using var silo = await LiveSilo.StartAsync(SmallLimits);
        var door = new IPEndPoint(IPAddress.Loopback, silo.TcpPort);

        await SendAndClose(door, RandomBytes(256 * 1024, seed: 1));
        await SendAndClose(door, [.. "<13>"u8, .. Enumerable.Repeat((byte)'x', 10 * 1024 * 1024), (byte)'\n']);
        await SendAndClose(door, [.. "10485760 <13>"u8, .. Enumerable.Repeat((byte)'y', 10 * 1024 * 1024)]);
        await SendAndClose(door, "not syslog at all\n"u8.ToArray());
        // Half-open: peers that connect, start a record and go silent; one more than the limit is refused.
        var halfOpen = new List<TcpClient>();
        for (var i = 0; i < 7; i++)
        {
            var client = new TcpClient();
            await client.ConnectAsync(door);
            await client.GetStream().WriteAsync("<13>half a rec"u8.ToArray());
            halfOpen.Add(client);
        }
        await Eventually(() => silo.Metrics.RejectedCount(Door.SyslogTcp, RejectReason.IdleTimeout) >= 6 && silo.Metrics.OpenConnections == 0);
        halfOpen.ForEach(c => c.Dispose());

        Assert.True(silo.Metrics.RejectedCount(Door.SyslogTcp, RejectReason.NotSyslog) >= 2, "random bytes and a line without <PRI>");
        Assert.True(silo.Metrics.RejectedCount(Door.SyslogTcp, RejectReason.RecordTooLarge) >= 2, "the 10 MB line and the 10 MB frame");
        Assert.True(silo.Metrics.RejectedCount(Door.SyslogTcp, RejectReason.TooManyConnections) >= 1);
        Assert.True(silo.Metrics.RejectedCount(Door.SyslogTcp, RejectReason.IdleTimeout) >= 6);

        await Tools.RunAsync(logger, ["--server", "127.0.0.1", "--port", silo.TcpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--tcp", "--rfc5424", "-t", "kernel"], string.Join('\n', Golden.KernLogMessages()) + "\n");
        Assert.Equal(17, (await silo.HostWhen(ThisMachine.Rfc5424Name, h => h.ExhaustionEvents >= 17)).ExhaustionEvents);
    }

    [SkippableFact]
    public async Task UDP_door_counts_random_datagrams_and_an_oversized_one_and_still_serves()
    {
        var logger = Tools.Require("logger", "bsdutils");
        await using var silo = await LiveSilo.StartAsync(SmallLimits);
        using (var udp = new UdpClient())
        {
            var door = new IPEndPoint(IPAddress.Loopback, silo.UdpPort);
            for (var i = 0; i < 200; i++)
                await udp.SendAsync(new ReadOnlyMemory<byte>(RandomBytes(1 + i * 7, seed: i).Select(b => b == '<' ? (byte)'x' : b).ToArray()), door);
            await udp.SendAsync(new ReadOnlyMemory<byte>([.. "<13>"u8, .. Enumerable.Repeat((byte)'z', 60_000)]), door);
        }
        await Eventually(() => silo.Metrics.RejectedCount(Door.SyslogUdp, RejectReason.NotSyslog) >= 150 && silo.Metrics.RejectedCount(Door.SyslogUdp, RejectReason.RecordTooLarge) == 1);

        await Tools.RunAsync(logger, ["--server", "127.0.0.1", "--port", silo.UdpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--udp", "--rfc3164", "-t", "kernel"], string.Join('\n', Golden.KernLogMessages()) + "\n");
        Assert.Equal(17, (await silo.HostWhen(ThisMachine.Rfc3164Name, h => h.ExhaustionEvents >= 17)).ExhaustionEvents);
        Assert.True(silo.Metrics.RejectedCount(Door.SyslogUdp, RejectReason.NotSyslog) >= 150);
    }

    [SkippableFact]
    public async Task HTTP_doors_answer_400_and_413_naming_the_problem_and_still_serve()
    {
        Tools.Require("curl", "curl");
        await using var silo = await LiveSilo.StartAsync(SmallLimits);
        using var http = new HttpClient { BaseAddress = new Uri(silo.Http) };

        var random = await http.PostAsync("/ingest/ndjson", new ByteArrayContent(RandomBytes(4000, seed: 7).Select(b => b == '\n' ? (byte)' ' : b).ToArray()));
        var tenMegabyteLine = await http.PostAsync("/ingest/text?host=h1", new ByteArrayContent(Enumerable.Repeat((byte)'x', 10 * 1024 * 1024).ToArray()));
        var notAnObject = await http.PostAsync("/ingest/ndjson", new StringContent("{\"message\":\"ok\"}\n[1,2]\n"));
        var noMessage = await http.PostAsync("/ingest/ndjson", new StringContent("{\"host\":\"h1\"}\n"));
        var badHost = await http.PostAsync("/ingest/text?host=a%20b", new StringContent("x\n"));
        var tooLarge = await http.PostAsync("/ingest/text", new ByteArrayContent(new byte[17 * 1024 * 1024]));

        Assert.Equal(HttpStatusCode.BadRequest, random.StatusCode);
        Assert.Contains("line 1: not JSON", await random.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tenMegabyteLine.StatusCode);
        Assert.Contains("line 1: 10485760 bytes", await tenMegabyteLine.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, notAnObject.StatusCode);
        Assert.Contains("line 2: not a JSON object", await notAnObject.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, noMessage.StatusCode);
        Assert.Contains("no string field 'message'", await noMessage.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, badHost.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(2, silo.Metrics.RejectedCount(Door.HttpNdjson, RejectReason.MalformedJson));
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.HttpNdjson, RejectReason.MissingField));
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.HttpText, RejectReason.RecordTooLarge));
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.HttpText, RejectReason.RequestTooLarge));
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.HttpText, RejectReason.InvalidHost));
        Assert.Equal(0, silo.Metrics.AcceptedCount(Door.HttpNdjson));

        var good = await http.PostAsync($"/ingest/text?host={Golden.KbHost}", new StringContent(File.ReadAllText(Golden.KbIncident("dom0.log"))));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.Equal(18, (await silo.HostWhen(Golden.KbHost, h => h.ExhaustionEvents >= 18)).ExhaustionEvents);
    }

    private static async Task SendAndClose(IPEndPoint door, byte[] bytes)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(door);
        var stream = client.GetStream();
        await stream.WriteAsync(bytes);
        client.Client.Shutdown(SocketShutdown.Send);
        // Wait for the door to close its side: it has read everything.
        var buffer = new byte[16];
        while (await stream.ReadAsync(buffer) > 0)
        {
        }
    }

    private static async Task Eventually(Func<bool> condition, double seconds = 20)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition() && clock.Elapsed.TotalSeconds < seconds)
            await Task.Delay(20);
    }
}
