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
    /// <summary>Small record and connection limits; the idle timeout stays long unless a test is about it.</summary>
    private static Dictionary<string, string?> SmallLimits => new()
    {
        ["FleetTwin:FrontDoors:MaxRecordBytes"] = "8192",
        ["FleetTwin:FrontDoors:MaxConnections"] = "6",
    };

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>What one door rejected since <paramref name="before"/>, by reason (reasons with none left out).</summary>
    private static Dictionary<string, long> RejectedSince(LiveSilo silo, string door, IReadOnlyDictionary<string, long> before) =>
        silo.Metrics.Rejections.Where(r => r.Key.Door == door && r.Value != before.GetValueOrDefault(r.Key.Reason))
            .ToDictionary(r => r.Key.Reason, r => r.Value - before.GetValueOrDefault(r.Key.Reason));

    private static Dictionary<string, long> Rejected(LiveSilo silo, string door) =>
        silo.Metrics.Rejections.Where(r => r.Key.Door == door).ToDictionary(r => r.Key.Reason, r => r.Value);

    /// <summary>Sends <paramref name="bytes"/> on a connection of its own and returns what the door rejected for it (it has closed its side: everything is counted).</summary>
    private static async Task<Dictionary<string, long>> RejectionsOf(LiveSilo silo, byte[] bytes)
    {
        var before = Rejected(silo, Door.SyslogTcp);
        await SendAndClose(new IPEndPoint(IPAddress.Loopback, silo.TcpPort), bytes);
        return RejectedSince(silo, Door.SyslogTcp, before);
    }

    [SkippableFact]
    public async Task TCP_door_counts_random_bytes_a_10_MB_line_a_10_MB_frame_and_a_peer_over_the_connection_limit_and_still_serves()
    {
        var logger = Tools.Require("logger", "bsdutils");
        await using var silo = await LiveSilo.StartAsync(SmallLimits);
        var door = new IPEndPoint(IPAddress.Loopback, silo.TcpPort);

        // Seed 1's 256 KiB: 1,042 LFs, a few digit runs taken for octet counts; 1,036 frames, none with a <PRI>
        // (pinned: a change in how the door frames garbage shows here).
        Assert.Equal(new Dictionary<string, long> { [RejectReason.NotSyslog] = 1036 }, await RejectionsOf(silo, RandomBytes(256 * 1024, seed: 1)));
        Assert.Equal(new Dictionary<string, long> { [RejectReason.RecordTooLarge] = 1 }, await RejectionsOf(silo, [.. "<13>"u8, .. Enumerable.Repeat((byte)'x', 10 * 1024 * 1024), (byte)'\n']));
        // MSG-LEN 10485760 counts "<13>" and all but the last 4 y's: the frame is skipped, "yyyy" is a frame of its own.
        Assert.Equal(new Dictionary<string, long> { [RejectReason.RecordTooLarge] = 1, [RejectReason.NotSyslog] = 1 }, await RejectionsOf(silo, [.. "10485760 <13>"u8, .. Enumerable.Repeat((byte)'y', 10 * 1024 * 1024)]));
        Assert.Equal(new Dictionary<string, long> { [RejectReason.NotSyslog] = 1 }, await RejectionsOf(silo, "not syslog at all\n"u8.ToArray()));
        // A frame cut by the close: counted, not parsed.
        Assert.Equal(new Dictionary<string, long> { [RejectReason.TruncatedFrame] = 1 }, await RejectionsOf(silo, "50 <13>1 - h kernel - - - cut"u8.ToArray()));
        Assert.Equal(0, silo.Metrics.AcceptedCount(Door.SyslogTcp));

        // Six peers that connect, start a record and go silent fill the six connections; a seventh is refused.
        // Sequenced so nothing depends on timing: the garbage connections have all closed, the six are being served
        // (the idle timeout is 300 s), then the seventh connects.
        await Await.Until("the garbage connections to close", () => silo.Metrics.OpenConnections == 0);
        var halfOpen = new List<TcpClient>();
        for (var i = 0; i < 6; i++)
        {
            var client = new TcpClient();
            await client.ConnectAsync(door);
            await client.GetStream().WriteAsync("<13>half a rec"u8.ToArray());
            halfOpen.Add(client);
        }
        await Await.Until("six open connections", () => silo.Metrics.OpenConnections == 6, () => $"{silo.Metrics.OpenConnections} open");
        using (var seventh = new TcpClient())
        {
            await seventh.ConnectAsync(door);
            Assert.Equal(0, await ReadUntilClosed(seventh.GetStream()));
        }
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.SyslogTcp, RejectReason.TooManyConnections));
        Assert.Equal(6, silo.Metrics.OpenConnections);
        halfOpen.ForEach(c => c.Dispose());
        await Await.Until("the six to close", () => silo.Metrics.OpenConnections == 0);
        Assert.Equal(0, silo.Metrics.RejectedCount(Door.SyslogTcp, RejectReason.IdleTimeout));

        await Tools.RunAsync(logger, ["--server", "127.0.0.1", "--port", silo.TcpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--tcp", "--rfc5424", "-t", "kernel"], string.Join('\n', Golden.KernLogMessages()) + "\n");
        Assert.Equal(17, (await silo.HostWhen(ThisMachine.Rfc5424Name, h => h.ExhaustionEvents >= 17)).ExhaustionEvents);
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.SyslogTcp, RejectReason.TooManyConnections));
    }

    [Fact]
    public async Task TCP_door_closes_each_silent_peer_once_after_the_idle_timeout_and_frees_its_connection()
    {
        await using var silo = await LiveSilo.StartAsync(new Dictionary<string, string?>
        {
            ["FleetTwin:FrontDoors:MaxConnections"] = "6",
            ["FleetTwin:FrontDoors:TcpIdleTimeoutSeconds"] = "0.5",
        });
        var door = new IPEndPoint(IPAddress.Loopback, silo.TcpPort);

        // Two rounds of six silent peers on six connections. However slowly the peers connect, each is closed once
        // for silence, and a closed one frees its connection: no peer of the second round is refused.
        for (var round = 1; round <= 2; round++)
        {
            var peers = new List<TcpClient>();
            for (var i = 0; i < 6; i++)
            {
                var client = new TcpClient();
                await client.ConnectAsync(door);
                await client.GetStream().WriteAsync("<13>half a rec"u8.ToArray());
                peers.Add(client);
            }
            foreach (var peer in peers)
                Assert.Equal(0, await ReadUntilClosed(peer.GetStream()));
            await Await.Until($"round {round}'s connections to close", () => silo.Metrics.OpenConnections == 0);
            Assert.Equal(6 * round, silo.Metrics.RejectedCount(Door.SyslogTcp, RejectReason.IdleTimeout));
            peers.ForEach(c => c.Dispose());
        }
        Assert.Equal(0, silo.Metrics.RejectedCount(Door.SyslogTcp, RejectReason.TooManyConnections));
        // The half records of peers closed for silence are dropped with them, not parsed.
        Assert.Equal(0, silo.Metrics.AcceptedCount(Door.SyslogTcp));
    }

    [SkippableFact]
    public async Task UDP_door_counts_200_random_datagrams_and_an_oversized_one_and_still_serves()
    {
        var logger = Tools.Require("logger", "bsdutils");
        await using var silo = await LiveSilo.StartAsync(SmallLimits);
        using (var udp = new UdpClient())
        {
            var door = new IPEndPoint(IPAddress.Loopback, silo.UdpPort);
            // Random datagrams of 1 to 1,394 bytes that cannot start a <PRI> or be blank: each is one not_syslog.
            // Sent 20 at a time, each batch counted before the next, so none is lost in the kernel's receive buffer.
            for (var i = 0; i < 200; i++)
            {
                var datagram = RandomBytes(1 + i * 7, seed: i).Select(b => b == '<' ? (byte)'x' : b).ToArray();
                if (datagram[0] is (byte)'\n' or (byte)'\r' or 0)
                    datagram[0] = (byte)'x';
                await udp.SendAsync(datagram, door);
                if (i % 20 == 19)
                    await Await.Until($"{i + 1} datagrams counted", () => silo.Metrics.RejectedCount(Door.SyslogUdp, RejectReason.NotSyslog) == i + 1,
                        () => $"{silo.Metrics.RejectedCount(Door.SyslogUdp, RejectReason.NotSyslog)} not_syslog");
            }
            await udp.SendAsync(new ReadOnlyMemory<byte>([.. "<13>"u8, .. Enumerable.Repeat((byte)'z', 60_000)]), door);
        }
        await Await.Until("the oversized datagram counted", () => silo.Metrics.RejectedCount(Door.SyslogUdp, RejectReason.RecordTooLarge) == 1);
        Assert.Equal(new Dictionary<string, long> { [RejectReason.NotSyslog] = 200, [RejectReason.RecordTooLarge] = 1 }, Rejected(silo, Door.SyslogUdp));
        Assert.Equal(0, silo.Metrics.AcceptedCount(Door.SyslogUdp));

        await Tools.RunAsync(logger, ["--server", "127.0.0.1", "--port", silo.UdpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--udp", "--rfc3164", "-t", "kernel"], string.Join('\n', Golden.KernLogMessages()) + "\n");
        Assert.Equal(17, (await silo.HostWhen(ThisMachine.Rfc3164Name, h => h.ExhaustionEvents >= 17)).ExhaustionEvents);
        Assert.Equal(37, silo.Metrics.AcceptedCount(Door.SyslogUdp));
        Assert.Equal(new Dictionary<string, long> { [RejectReason.NotSyslog] = 200, [RejectReason.RecordTooLarge] = 1 }, Rejected(silo, Door.SyslogUdp));
    }

    /// <summary>HttpClient is the client here: what is tested is the door's answer to bytes no shipper sends, not a shipper.</summary>
    [Fact]
    public async Task HTTP_doors_answer_400_and_413_naming_the_problem_and_still_serve()
    {
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
        await ReadUntilClosed(stream);
    }

    /// <summary>
    /// Reads until the door closes the connection; returns the bytes it sent (none: it never answers). A door that
    /// keeps the connection open fails the test after a minute (a hang guard: it closes in milliseconds).
    /// </summary>
    private static async Task<int> ReadUntilClosed(NetworkStream stream)
    {
        var buffer = new byte[16];
        var total = 0;
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, guard.Token)) > 0)
                total += read;
        }
        catch (OperationCanceledException) when (guard.IsCancellationRequested)
        {
            Assert.Fail("the door did not close the connection within 60 s");
        }
        catch (IOException error) when (error.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            // The door closed with our bytes unread: a reset is its close too.
        }
        return total;
    }
}
