using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FleetTwin.FrontDoors.Relp;
using FleetTwin.Tests.Shared;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>
/// The RELP door as a RELP client sees it on the wire (librelp doc/relp.md): the open answered with the server's
/// offers, each syslog txnr answered 200 only once its record is handed over to the twin (a closed
/// <see cref="TwinGate"/> holds the hand-over as long as the test needs), answers in txnr order, and a stream that
/// breaks the protocol closed after the answers owed, counted by reason.
/// </summary>
public class RelpDoorTests
{
    /// <summary>The open omrelp sends (librelp 1.11): its offers, as librelp writes them.</summary>
    private const string Open = "1 open 86 relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n";

    private static readonly string OpenAnswer = $"1 rsp {RelpResponder.OpenAnswer.Length} {Encoding.ASCII.GetString(RelpResponder.OpenAnswer)}\n";

    /// <summary>Console lines of exhaustions at distinct uptimes, as RFC 5424 records of <paramref name="host"/>.</summary>
    internal static string[] Exhaustions(string host, int count, double firstUptime = 2777545.972710) => [.. Enumerable.Range(0, count).Select(i =>
        string.Create(CultureInfo.InvariantCulture, $"<3>1 2026-12-03T10:00:00Z {host} kernel - - - [{firstUptime + i:F6}] PCI-DMA: Out of SW-IOMMU space for {16384 + i} bytes at device 0000:04:00.1"))];

    private static string Syslog(int txnr, string record) => $"{txnr} syslog {Encoding.UTF8.GetByteCount(record)} {record}\n";

    /// <summary>A RELP client on a raw socket: what it sends is exactly the test's bytes.</summary>
    private sealed class Client : IAsyncDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly StringBuilder _received = new();
        private readonly byte[] _buffer = new byte[64 * 1024];

        public bool Closed { get; private set; }

        public string Received => _received.ToString();

        public static async Task<Client> ConnectAsync(int port)
        {
            var client = new Client();
            await client._socket.ConnectAsync(IPAddress.Loopback, port);
            return client;
        }

        public async Task SendAsync(string text) => await _socket.SendAsync(Encoding.UTF8.GetBytes(text));

        /// <summary>Reads until <paramref name="done"/> holds for what was received (or the door closed the session).</summary>
        public async Task<string> ReadUntilAsync(string what, Func<string, bool> done)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (!done(Received) && !Closed)
            {
                int read;
                try
                {
                    read = await _socket.ReceiveAsync(_buffer, SocketFlags.None, timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"waited 60 s for {what}; received: {Received}");
                    throw;
                }
                if (read == 0)
                    Closed = true;
                _received.Append(Encoding.ASCII.GetString(_buffer, 0, read));
            }
            return Received;
        }

        /// <summary>Reads until the door closes the connection.</summary>
        public Task<string> ReadToCloseAsync() => ReadUntilAsync("the door to close the session", _ => false);

        public int Available => _socket.Available;

        public ValueTask DisposeAsync()
        {
            _socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task A_record_is_answered_200_only_once_handed_over_and_the_door_keeps_reading_meanwhile()
    {
        var gate = new TwinGate();
        await using var silo = await LiveSilo.StartAsync(gate: gate);
        await using var client = await Client.ConnectAsync(silo.RelpPort);
        await client.SendAsync(Open);
        Assert.Equal(OpenAnswer, await client.ReadUntilAsync("the open's answer", r => r.EndsWith("commands=syslog\n", StringComparison.Ordinal)));

        var records = Exhaustions("relp-held", 5);
        await client.SendAsync(Syslog(2, records[0]) + Syslog(3, records[1]));
        await Await.Until("the hand-over of txnrs 2 and 3 held at the closed gate", () => gate.Held > 0);
        // Pipelined while 2 and 3 wait: the door reads on.
        await client.SendAsync(Syslog(4, records[2]) + Syslog(5, records[3]) + Syslog(6, records[4]));
        await Await.Until("txnrs 4 to 6 read", () => silo.Metrics.AcceptedCount(Door.Relp) == 5, () => $"{silo.Metrics.AcceptedCount(Door.Relp)} accepted");
        Assert.Equal(0, client.Available);
        Assert.Equal(OpenAnswer, client.Received);

        gate.Open();
        var answers = await client.ReadUntilAsync("the answers to txnrs 2 to 6", r => r.Contains("6 rsp", StringComparison.Ordinal));
        Assert.Equal(OpenAnswer + "2 rsp 6 200 OK\n3 rsp 6 200 OK\n4 rsp 6 200 OK\n5 rsp 6 200 OK\n6 rsp 6 200 OK\n", answers);
        Assert.Equal(5, (await silo.HostWhen("relp-held", h => h.ExhaustionEvents >= 5)).ExhaustionEvents);

        await client.SendAsync("7 close 0\n");
        Assert.Equal(answers + "7 rsp 6 200 OK\n", await client.ReadToCloseAsync());
    }

    [Fact]
    public async Task A_malformed_frame_closes_the_session_after_the_answers_owed_with_the_serverclose_hint_and_is_counted()
    {
        await using var silo = await LiveSilo.StartAsync();
        await using var client = await Client.ConnectAsync(silo.RelpPort);
        var record = Exhaustions("relp-malformed", 1)[0];
        await client.SendAsync(Open + Syslog(2, record) + "3 syslog 5 abcdefgh\n4 syslog 1 x\n");

        var received = await client.ReadToCloseAsync();
        Assert.Equal(OpenAnswer + "2 rsp 6 200 OK\n0 serverclose 0\n", received);
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.Relp, RejectReason.RelpMalformedFrame));
        Assert.Equal(1, (await silo.HostWhen("relp-malformed", h => h.ExhaustionEvents >= 1)).ExhaustionEvents);
    }

    [Fact]
    public async Task Commands_out_of_protocol_are_refused_each_with_its_reason()
    {
        await using var silo = await LiveSilo.StartAsync();

        await using (var before = await Client.ConnectAsync(silo.RelpPort))
        {
            await before.SendAsync(Syslog(1, "<13>hello"));
            Assert.Equal("0 serverclose 0\n", await before.ReadToCloseAsync());
        }
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.Relp, RejectReason.RelpNotOpen));

        await using (var skipping = await Client.ConnectAsync(silo.RelpPort))
        {
            await skipping.SendAsync(Open + Syslog(3, "<13>hello"));
            Assert.Equal(OpenAnswer + "0 serverclose 0\n", await skipping.ReadToCloseAsync());
        }
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.Relp, RejectReason.RelpTxnrOutOfOrder));

        await using (var huge = await Client.ConnectAsync(silo.RelpPort))
        {
            await huge.SendAsync(Open + "2 syslog 999999999 ");
            Assert.Equal(OpenAnswer + "0 serverclose 0\n", await huge.ReadToCloseAsync());
        }
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.Relp, RejectReason.RelpFrameTooLarge));

        // A command the door does not offer is answered 500 and the session goes on.
        await using var unknown = await Client.ConnectAsync(silo.RelpPort);
        await unknown.SendAsync(Open + "2 starttls 0\n" + Syslog(3, Exhaustions("relp-unknown", 1)[0]));
        var answers = await unknown.ReadUntilAsync("the answers to txnrs 2 and 3", r => r.Contains("3 rsp", StringComparison.Ordinal));
        Assert.Equal(OpenAnswer + "2 rsp 54 500 command 'starttls' not supported (commands=syslog)\n3 rsp 6 200 OK\n", answers);
        Assert.Equal(1, silo.Metrics.RejectedCount(Door.Relp, RejectReason.RelpUnknownCommand));
    }

    [Fact]
    public async Task Random_bytes_end_their_sessions_counted_and_the_door_still_serves()
    {
        await using var silo = await LiveSilo.StartAsync();
        var random = new Random(20);
        for (var i = 0; i < 20; i++)
        {
            var garbage = new byte[random.Next(1, 64 * 1024)];
            random.NextBytes(garbage);
            await using var client = await Client.ConnectAsync(silo.RelpPort);
            await client.SendAsync(Encoding.Latin1.GetString(garbage));
            // Not a session: the serverclose hint, then the door closes. (Seeded: none of these streams is a frame prefix
            // waiting for more bytes, which would wait for the idle timeout.)
            var received = await client.ReadUntilAsync("the door to refuse the garbage", r => r.Length > 0);
            Assert.Equal("0 serverclose 0\n", received);
        }
        Assert.Equal(20, silo.Metrics.Rejections.Where(r => r.Key.Door == Door.Relp).Sum(r => r.Value));
        Assert.Equal(0, silo.Metrics.AcceptedCount(Door.Relp));

        await using var session = await Client.ConnectAsync(silo.RelpPort);
        await session.SendAsync(Open + Syslog(2, Exhaustions("relp-after-garbage", 1)[0]));
        Assert.Equal(OpenAnswer + "2 rsp 6 200 OK\n", await session.ReadUntilAsync("the answer to txnr 2", r => r.Contains("2 rsp", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_silo_that_stops_answers_what_it_owes_and_hints_serverclose()
    {
        var silo = await LiveSilo.StartAsync();
        await using var client = await Client.ConnectAsync(silo.RelpPort);
        await client.SendAsync(Open + Syslog(2, Exhaustions("relp-stopping", 1)[0]));
        await client.ReadUntilAsync("the answer to txnr 2", r => r.Contains("2 rsp", StringComparison.Ordinal));
        await silo.DisposeAsync();
        Assert.Equal(OpenAnswer + "2 rsp 6 200 OK\n0 serverclose 0\n", await client.ReadToCloseAsync());
    }

    /// <summary>
    /// rsyslog with omrelp (Debian's rsyslog-relp) as a dom0 or a relay runs it: imfile tails a console log, omrelp
    /// forwards each line as an RFC 5424 record to the RELP door. Every record arrives.
    /// </summary>
    [SkippableFact]
    public async Task Rsyslog_omrelp_forwards_every_record_into_the_twin()
    {
        var rsyslogd = Tools.Require("rsyslogd", "rsyslog");
        // rsyslog looks for its modules in its own directory (/usr/lib/<multiarch>/rsyslog on Debian).
        if (!Directory.EnumerateFiles("/usr/lib", "omrelp.so", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 3, IgnoreInaccessible = true }).Any())
        {
            var message = "rsyslog's omrelp module is not installed (apt-get install -y rsyslog-relp)";
            if (Tools.Required)
                throw new InvalidOperationException(message + " and FLEETTWIN_REQUIRE_TOOLS=1");
            Skip.If(true, message);
        }
        const string host = "relp-dom0";
        const int count = 2000;
        var directory = Directory.CreateTempSubdirectory("fleettwin-relp-").FullName;
        try
        {
            await using var silo = await LiveSilo.StartAsync();
            var console = Path.Combine(directory, "console.log");
            // Console lines as the crash console prints them: <level>[uptime] text.
            File.WriteAllLines(console, Exhaustions(host, count).Select(r => r[(r.IndexOf(" - - - ", StringComparison.Ordinal) + 7)..]).Select(l => "<3>" + l));
            var config = Path.Combine(directory, "rsyslog.conf");
            Directory.CreateDirectory(Path.Combine(directory, "work"));
            File.WriteAllText(config, RsyslogOmrelpConfig(directory, console, host, silo.RelpPort));
            await using var rsyslog = RsyslogDaemon.Start(rsyslogd, config, directory);
            var twin = await silo.HostWhen(host, h => h.ExhaustionEvents >= count, seconds: 60);
            Assert.True(twin.ExhaustionEvents == count, $"{twin.ExhaustionEvents} of {count} exhaustions arrived (rsyslogd: {await rsyslog.StatusAsync()})");
            Assert.Equal(count, silo.Metrics.AcceptedCount(Door.Relp));
            Assert.DoesNotContain(silo.Metrics.Rejections, r => r.Key.Door == Door.Relp);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The rsyslog configuration the README shows (omrelp to the twin's RELP door), with the test's paths and port.</summary>
    internal static string RsyslogOmrelpConfig(string directory, string console, string host, int port, string tls = "") => string.Create(CultureInfo.InvariantCulture, $$"""
        global(workDirectory="{{directory}}/work" localHostname="{{host}}")
        module(load="imfile" mode="polling" PollingInterval="1")
        module(load="omrelp")
        # console lines are <level>[uptime] text: the level becomes nothing, the rest the message of an RFC 5424 record.
        template(name="console" type="string" string="<%pri%>1 %timegenerated:::date-rfc3339% %hostname% kernel - - - %rawmsg:R,ERE,1,FIELD:^<[0-9]+>(.*)--end%")
        ruleset(name="twin") {
          action(type="omrelp" target="127.0.0.1" port="{{port}}" template="console" {{tls}}
                 queue.type="LinkedList" action.resumeRetryCount="-1")
        }
        input(type="imfile" File="{{console}}" Tag="kernel" ruleset="twin")
        """);
}
