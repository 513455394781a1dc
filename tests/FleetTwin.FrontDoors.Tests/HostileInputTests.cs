using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FleetTwin.FrontDoors.Relp;
using FleetTwin.Tests.Shared;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>
/// Hostile input on every door that parses (issue 20, "Hostile input"): seeded generators of syslog streams (octet
/// counts, huge counts, truncated frames, NULs, random bytes), RELP frames (valid frames mutated, cut, with huge
/// DATALEN) and NDJSON lines (mutated JSON, invalid UTF-8, deep nesting), each fed split at random read boundaries. No
/// exception escapes a framer; each outcome is one of its documented refusals; every record kept is within the record
/// limit; what comes out does not depend on where the reads split (the state carried between reads is right); inputs
/// are bounded, so nothing can hang. Seeds are fixed: a failure names its seed and case and replays exactly.
/// </summary>
public sealed class HostileInputTests
{
    private const int Cases = 1500;
    private const int MaxRecord = 1024;

    private static readonly string[] SyslogRefusals = [RejectReason.RecordTooLarge, RejectReason.NotSyslog, RejectReason.TruncatedFrame];
    private static readonly string[] RelpRefusals = [RejectReason.RelpMalformedFrame, RejectReason.RelpFrameTooLarge, RejectReason.TruncatedFrame];
    private static readonly string[] NdjsonRefusals = [RejectReason.MalformedJson, RejectReason.MissingField];

    /// <summary>One syslog record as senders write them (RFC 5424 or RFC 3164), sometimes with odd bytes inside.</summary>
    private static string Record(Random random) => random.Next(4) switch
    {
        0 => string.Create(CultureInfo.InvariantCulture, $"<{random.Next(192)}>1 2026-12-03T10:00:00Z h{random.Next(9)} kernel - - - [{random.Next(99999)}.000001] PCI-DMA: Out of SW-IOMMU space for {random.Next(65536)} bytes"),
        1 => string.Create(CultureInfo.InvariantCulture, $"<13>Sep 17 05:00:{random.Next(60):00} h kernel: nf_conntrack: table full"),
        2 => "<3>" + new string((char)random.Next(32, 127), random.Next(0, 2 * MaxRecord)),
        _ => "<13>1 - h - - - - with\0NUL\rand\nbreaks",
    };

    /// <summary>A hostile syslog TCP/TLS stream: well-formed frames mixed with everything RFC 6587 framing can get wrong.</summary>
    private static byte[] SyslogStream(Random random)
    {
        var stream = new List<byte>();
        var pieces = random.Next(1, 24);
        for (var i = 0; i < pieces; i++)
        {
            var record = Encoding.UTF8.GetBytes(Record(random));
            switch (random.Next(10))
            {
                case 0 or 1: // octet-counted, right count
                    stream.AddRange(Encoding.ASCII.GetBytes(record.Length.ToString(CultureInfo.InvariantCulture) + " "));
                    stream.AddRange(record);
                    break;
                case 2: // LF-framed
                    stream.AddRange(record);
                    stream.Add((byte)'\n');
                    break;
                case 3: // a count larger or smaller than the frame
                    stream.AddRange(Encoding.ASCII.GetBytes((record.Length + random.Next(-20, 20)).ToString(CultureInfo.InvariantCulture) + " "));
                    stream.AddRange(record);
                    break;
                case 4: // a huge count: the frame is skipped, never buffered
                    stream.AddRange(Encoding.ASCII.GetBytes(random.Next(2) == 0 ? "999999999 " : "2147483648 "));
                    stream.AddRange(record);
                    break;
                case 5: // digits that are no count: too many, leading zeros, zero
                    stream.AddRange(Encoding.ASCII.GetBytes(random.Next(3) switch { 0 => "12345678901234567890 ", 1 => "0007 ", _ => "0 " }));
                    stream.AddRange(record);
                    break;
                case 6: // NULs and line ends between frames
                    stream.AddRange(Enumerable.Repeat(random.Next(2) == 0 ? (byte)0 : (byte)'\n', random.Next(1, 50)));
                    break;
                case 7: // random bytes
                    var garbage = new byte[random.Next(1, 4 * MaxRecord)];
                    random.NextBytes(garbage);
                    stream.AddRange(garbage);
                    break;
                case 8: // a line longer than the record limit
                    stream.AddRange(Encoding.ASCII.GetBytes("<13>" + new string('x', MaxRecord + random.Next(1, 3 * MaxRecord)) + "\n"));
                    break;
                default: // truncated: a frame cut short, maybe by the end of the stream
                    stream.AddRange(Encoding.ASCII.GetBytes(record.Length.ToString(CultureInfo.InvariantCulture) + " "));
                    stream.AddRange(record.AsSpan(0, random.Next(record.Length)).ToArray());
                    break;
            }
        }
        return [.. stream];
    }

    /// <summary>Random read boundaries: as a socket delivers a stream.</summary>
    private static IEnumerable<(int Start, int Length)> Reads(Random random, int length)
    {
        var at = 0;
        while (at < length)
        {
            var take = Math.Min(length - at, random.Next(4) == 0 ? random.Next(1, 8) : random.Next(1, 4096));
            yield return (at, take);
            at += take;
        }
    }

    private static (string Records, List<string> Refused) FrameSyslog(byte[] stream, Random splits)
    {
        var refused = new List<string>();
        var framer = new SyslogFramer(MaxRecord, refused.Add);
        var records = new StringBuilder();
        foreach (var (start, length) in Reads(splits, stream.Length).Append((stream.Length, -1)))
        {
            var chunk = new RecordChunk("fuzz", "fuzz", null, 64);
            if (length < 0)
                framer.Finish(chunk);
            else
                framer.Feed(stream.AsSpan(start, length), chunk);
            foreach (var record in Encoding.Latin1.GetString(chunk.Bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                Assert.True(record.Length <= MaxRecord, $"a record of {record.Length} bytes passed the {MaxRecord}-byte limit");
                Assert.True(SyslogRecord.HasPri(Encoding.Latin1.GetBytes(record)), $"a record without <PRI> passed: '{record[..Math.Min(40, record.Length)]}'");
                records.Append(record).Append('\n');
            }
            chunk.Release();
        }
        return (records.ToString(), refused);
    }

    [Fact]
    public void Syslog_framing_of_hostile_streams_keeps_only_records_within_the_limit_refuses_only_by_documented_reasons_and_ignores_read_boundaries()
    {
        for (var seed = 0; seed < Cases; seed++)
        {
            var random = new Random(seed);
            var stream = SyslogStream(random);
            var (records, refused) = FrameSyslog(stream, new Random(seed + 1_000_000));
            var (again, refusedAgain) = FrameSyslog(stream, new Random(seed + 2_000_000));
            Assert.All(refused, reason => Assert.Contains(reason, SyslogRefusals));
            Assert.True(records == again, $"seed {seed}: other read boundaries gave other records");
            Assert.True(refused.SequenceEqual(refusedAgain), $"seed {seed}: other read boundaries gave other refusals ({string.Join(",", refused)} / {string.Join(",", refusedAgain)})");
        }
    }

    private sealed class FrameLog : IRelpFrameSink
    {
        public StringBuilder Frames { get; } = new();

        public bool OnFrame(int txnr, RelpCommand kind, ReadOnlySpan<byte> command, ReadOnlySpan<byte> data)
        {
            Assert.True(data.Length <= MaxRecord, $"a RELP frame of {data.Length} data bytes passed the {MaxRecord}-byte limit");
            Frames.Append(CultureInfo.InvariantCulture, $"{txnr} {kind} {Encoding.Latin1.GetString(command)} {Convert.ToHexString(data)}\n");
            return kind != RelpCommand.Close;
        }
    }

    /// <summary>A RELP client's stream with faults: valid frames, then mutated, cut, oversized or random ones.</summary>
    private static byte[] RelpStream(Random random)
    {
        var stream = new List<byte>();
        var frames = random.Next(1, 20);
        for (var txnr = 1; txnr <= frames; txnr++)
        {
            var data = txnr == 1 ? "relp_version=0\ncommands=syslog" : Record(random);
            var command = txnr == 1 ? "open" : random.Next(20) == 0 ? "starttls" : "syslog";
            var frame = Encoding.UTF8.GetBytes($"{txnr} {command} {Encoding.UTF8.GetByteCount(data)} {data}\n");
            switch (random.Next(12))
            {
                case 0: // a flipped byte anywhere
                    frame[random.Next(frame.Length)] = (byte)random.Next(256);
                    break;
                case 1: // cut short
                    frame = frame[..random.Next(frame.Length)];
                    break;
                case 2: // DATALEN over the limit or over nine digits
                    frame = Encoding.ASCII.GetBytes(random.Next(2) == 0 ? $"{txnr} syslog {MaxRecord + 1} x\n" : $"{txnr} syslog 1234567890 x\n");
                    break;
                case 3: // random bytes
                    frame = new byte[random.Next(1, 2048)];
                    random.NextBytes(frame);
                    break;
                case 4: // a command too long, a NUL in the header
                    frame = Encoding.ASCII.GetBytes(random.Next(2) == 0 ? $"{txnr} {new string('a', 40)} 0\n" : $"{txnr}\0syslog 0\n");
                    break;
            }
            stream.AddRange(frame);
        }
        return [.. stream];
    }

    private static (string Frames, string? Refusal) FrameRelp(byte[] stream, Random splits)
    {
        var framer = new RelpFramer(MaxRecord);
        var log = new FrameLog();
        var whole = true;
        foreach (var (start, length) in Reads(splits, stream.Length))
        {
            if (!(whole = framer.Feed(stream.AsSpan(start, length), log)))
                break;
        }
        if (whole && !framer.Finish())
            whole = false;
        if (!whole && framer.ErrorReason is { } reason)
        {
            Assert.Contains(reason, RelpRefusals);
            Assert.False(string.IsNullOrEmpty(framer.Error));
        }
        return (log.Frames.ToString(), framer.ErrorReason);
    }

    [Fact]
    public void RELP_framing_of_hostile_streams_ends_each_with_a_documented_refusal_and_ignores_read_boundaries()
    {
        for (var seed = 0; seed < Cases; seed++)
        {
            var stream = RelpStream(new Random(seed));
            var (frames, refusal) = FrameRelp(stream, new Random(seed + 1_000_000));
            var (again, refusalAgain) = FrameRelp(stream, new Random(seed + 2_000_000));
            Assert.True(frames == again && refusal == refusalAgain, $"seed {seed}: other read boundaries gave another outcome ({refusal} / {refusalAgain})");
        }
    }

    /// <summary>NDJSON lines as a broken or hostile shipper might send them.</summary>
    private static byte[] NdjsonLine(Random random)
    {
        var good = Encoding.UTF8.GetBytes($$"""{"message":"{{Record(random).Replace("\\", "", StringComparison.Ordinal).Replace("\"", "", StringComparison.Ordinal).Replace("\0", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal)}}","host":"h{{random.Next(9)}}","timestamp":{{(random.Next(2) == 0 ? "\"2026-12-03T10:00:00Z\"" : "1764756000.5")}}}""");
        switch (random.Next(9))
        {
            case 0:
                return good;
            case 1: // a flipped byte
                good[random.Next(good.Length)] = (byte)random.Next(256);
                return good;
            case 2: // cut
                return good[..random.Next(good.Length)];
            case 3: // invalid UTF-8 inside the message string
                return [.. """{"message":"bad """u8, 0xC3, 0x28, 0xFF, 0xFE, .. "\"}"u8];
            case 4: // deep nesting
                var depth = random.Next(10, 2000);
                return Encoding.ASCII.GetBytes("""{"message":"m","x":""" + new string('[', depth) + new string(']', depth) + "}");
            case 5: // wrong types, duplicate fields, a lone surrogate escape
                return Encoding.ASCII.GetBytes(random.Next(3) switch { 0 => """{"message":42,"host":[]}""", 1 => """{"message":"a","message":"b","timestamp":-1e400}""", _ => """{"message":"\ud800x","host":"\udfff"}""" });
            case 6: // two objects, or none
                return Encoding.ASCII.GetBytes(random.Next(2) == 0 ? """{"message":"a"}{"message":"b"}""" : "[1,2,3]");
            default: // random bytes
                var bytes = new byte[random.Next(1, 512)];
                random.NextBytes(bytes);
                return bytes;
        }
    }

    [Fact]
    public void NDJSON_lines_that_are_hostile_are_read_or_refused_by_a_documented_reason_and_never_throw()
    {
        var options = new FrontDoorOptions();
        for (var seed = 0; seed < Cases * 2; seed++)
        {
            var line = NdjsonLine(new Random(seed));
            bool read;
            try
            {
                read = HttpDoor.TryReadRecord(line, options, out var message, out _, out _, out var problem);
                if (read)
                    Assert.NotNull(message);
                else
                    Assert.Contains(problem!.Value.Reason, NdjsonRefusals);
            }
            catch (Exception error) when (error is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"seed {seed}: {error.GetType().Name} escaped the NDJSON reader for line {Convert.ToHexString(line)}: {error.Message}");
            }
        }
    }

    /// <summary>
    /// One live silo: hostile streams on the syslog TCP door, the RELP door and the NDJSON door (each answered, counted,
    /// never a server error), then a good record on each, which must reach its host twin.
    /// </summary>
    [Fact]
    public async Task Each_parsing_door_keeps_serving_after_hostile_input()
    {
        await using var silo = await LiveSilo.StartAsync(new Dictionary<string, string?> { ["FleetTwin:FrontDoors:MaxRecordBytes"] = "4096" });
        for (var seed = 0; seed < 10; seed++)
        {
            await SendAndCloseAsync(silo.TcpPort, SyslogStream(new Random(seed)));
            await SendAndCloseAsync(silo.RelpPort, RelpStream(new Random(seed)));
        }
        using var http = new HttpClient { BaseAddress = new Uri(silo.Http), Timeout = TimeSpan.FromSeconds(30) };
        for (var seed = 0; seed < 30; seed++)
        {
            var lines = Enumerable.Range(0, 5).Select(i => NdjsonLine(new Random(seed * 10 + i))).SelectMany(l => l.Append((byte)'\n')).ToArray();
            using var answer = await http.PostAsync("/ingest/ndjson", new ByteArrayContent(lines));
            Assert.True((int)answer.StatusCode is 200 or 400 or 413, $"seed {seed}: the NDJSON door answered {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
        }

        var record = RelpDoorTests.Exhaustions("after-hostile-tcp", 1)[0];
        await SendAndCloseAsync(silo.TcpPort, Encoding.UTF8.GetBytes($"{Encoding.UTF8.GetByteCount(record)} {record}"));
        record = RelpDoorTests.Exhaustions("after-hostile-relp", 1)[0];
        await SendAndCloseAsync(silo.RelpPort, Encoding.UTF8.GetBytes($"1 open 14 relp_version=0\n2 syslog {Encoding.UTF8.GetByteCount(record)} {record}\n3 close 0\n"));
        using (var answer = await http.PostAsync("/ingest/ndjson", new StringContent("""{"message":"[2777545.972710] PCI-DMA: Out of SW-IOMMU space for 16384 bytes at device 0000:04:00.1","host":"after-hostile-http"}""" + "\n")))
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        foreach (var host in new[] { "after-hostile-tcp", "after-hostile-relp", "after-hostile-http" })
            Assert.True((await silo.HostWhen(host, h => h.ExhaustionEvents >= 1)).ExhaustionEvents == 1, $"{host}: the good record after the hostile input did not arrive");
    }

    /// <summary>The syslog-TLS door: hostile bytes inside an accepted TLS session, then a good record on a new one.</summary>
    [Fact]
    public async Task The_syslog_TLS_door_keeps_serving_after_hostile_input_inside_TLS()
    {
        using var credentials = new TestCredentials();
        await using var silo = await LiveSilo.StartAsync(new Dictionary<string, string?>
        {
            ["FleetTwin:Tls:CertificatePath"] = credentials.ServerCertificatePath,
            ["FleetTwin:Tls:KeyPath"] = credentials.ServerKeyPath,
            ["FleetTwin:Tls:ClientCaPath"] = credentials.CaPath,
            ["FleetTwin:FrontDoors:MaxRecordBytes"] = "4096",
        });
        using var certificate = X509Certificate2.CreateFromPemFile(credentials.ClientCertificatePath, credentials.ClientKeyPath);
        for (var seed = 0; seed < 5; seed++)
            await SendOverTlsAsync(silo.TlsPort, certificate, credentials, SyslogStream(new Random(seed)));
        Assert.Contains(silo.Metrics.Rejections, r => r.Key.Door == Door.SyslogTls && r.Value > 0);
        var record = RelpDoorTests.Exhaustions("after-hostile-tls", 1)[0];
        await SendOverTlsAsync(silo.TlsPort, certificate, credentials, Encoding.UTF8.GetBytes($"{Encoding.UTF8.GetByteCount(record)} {record}"));
        Assert.True((await silo.HostWhen("after-hostile-tls", h => h.ExhaustionEvents >= 1)).ExhaustionEvents == 1, "the good record after the hostile input did not arrive");
    }

    private static async Task SendAndCloseAsync(int port, byte[] bytes)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        try
        {
            await socket.SendAsync(bytes);
            socket.Shutdown(SocketShutdown.Send);
            // Until the door closes its side (RELP ends a malformed session; syslog reads to our close).
            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // The door reset a session it refused: what matters is that it keeps serving.
        }
    }

    private static async Task SendOverTlsAsync(int port, X509Certificate2 certificate, TestCredentials credentials, byte[] bytes)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = new X509CertificateCollection { certificate },
            RemoteCertificateValidationCallback = (_, server, _, _) => server is not null && credentials.IssuedByTestCa(X509CertificateLoader.LoadCertificate(server.GetRawCertData())),
        });
        await ssl.WriteAsync(bytes);
        await ssl.ShutdownAsync();
        socket.Shutdown(SocketShutdown.Send);
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await ssl.ReadAsync(buffer, timeout.Token) > 0)
        {
        }
    }
}
