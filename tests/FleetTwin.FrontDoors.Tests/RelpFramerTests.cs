using System.Text;
using FleetTwin.FrontDoors.Relp;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>RELP frames as librelp's doc/relp.md defines them (TXNR SP COMMAND SP DATALEN [SP DATA] LF), split anywhere.</summary>
public class RelpFramerTests
{
    /// <summary>The open omrelp sends (librelp 1.11): its offers, as librelp writes them.</summary>
    private const string Open = "1 open 86 relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n";

    private sealed class Frames : IRelpFrameSink
    {
        public List<(int Txnr, RelpCommand Kind, string Command, string Data)> Seen { get; } = [];

        public bool StopAfterClose { get; init; }

        public bool OnFrame(int txnr, RelpCommand kind, ReadOnlySpan<byte> command, ReadOnlySpan<byte> data)
        {
            Seen.Add((txnr, kind, Encoding.ASCII.GetString(command), Encoding.UTF8.GetString(data)));
            return !(StopAfterClose && kind == RelpCommand.Close);
        }
    }

    private static (Frames Frames, RelpFramer Framer, bool Ok) Feed(string text, int split = -1, int max = 1024)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var framer = new RelpFramer(max);
        var frames = new Frames { StopAfterClose = true };
        if (split < 0)
            split = bytes.Length;
        var ok = framer.Feed(bytes.AsSpan(0, split), frames) && framer.Feed(bytes.AsSpan(split), frames);
        return (frames, framer, ok);
    }

    [Fact]
    public void Open_pipelined_syslog_frames_and_close_are_read_wherever_the_reads_split_them()
    {
        const string stream = Open + "2 syslog 33 <13>Sep 17 05:00:53 a kernel: one\n3 syslog 8 multi\nli\n4 syslog 0\n5 close 0\n";
        for (var split = 0; split <= Encoding.UTF8.GetByteCount(stream); split++)
        {
            var (frames, framer, ok) = Feed(stream, split);
            Assert.False(ok); // stopped by the sink after close
            Assert.Null(framer.Error);
            Assert.Equal(
                [
                    (1, RelpCommand.Open, "open", "relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog"),
                    (2, RelpCommand.Syslog, "syslog", "<13>Sep 17 05:00:53 a kernel: one"),
                    (3, RelpCommand.Syslog, "syslog", "multi\nli"),
                    (4, RelpCommand.Syslog, "syslog", ""),
                    (5, RelpCommand.Close, "close", ""),
                ], frames.Seen);
        }
    }

    [Fact]
    public void A_frame_read_byte_by_byte_is_the_same_frame()
    {
        var bytes = Encoding.UTF8.GetBytes("7 syslog 5 hello\n");
        var framer = new RelpFramer(64);
        var frames = new Frames();
        foreach (var b in bytes)
            Assert.True(framer.Feed([b], frames));
        Assert.True(framer.AtFrameBoundary);
        Assert.Equal([(7, RelpCommand.Syslog, "syslog", "hello")], frames.Seen);
        Assert.True(framer.Finish());
    }

    [Theory]
    [InlineData("x syslog 1 a\n", "byte 0: a frame starts with its TXNR (digits), not 'x'")]
    [InlineData("1234567890 syslog 1 a\n", "byte 9: TXNR longer than 9 digits")]
    [InlineData("1  syslog 1 a\n", "byte 2: COMMAND expected after TXNR 1, got SP")]
    [InlineData("1 sys-log 1 a\n", "byte 5: '-' in the COMMAND of TXNR 1")]
    [InlineData("1 syslog x a\n", "byte 9: DATALEN expected in TXNR 1, got 'x'")]
    [InlineData("1 syslog 3\nabc\n", "byte 10: SP expected after DATALEN 3 of TXNR 1, got LF")]
    [InlineData("1 syslog 2 abc\n", "byte 13: TXNR 1: LF expected after its 2 bytes of data, got 'c' (DATALEN does not match the data)")]
    [InlineData("1 syslog 0 \n", "byte 10: TXNR 1: LF expected after the frame, got SP")]
    [InlineData("1 syslog 1234567890 a\n", "byte 18: DATALEN of TXNR 1 longer than 9 digits")]
    public void Malformed_frames_are_refused_naming_what_and_where(string text, string error)
    {
        var (frames, framer, ok) = Feed(text);
        Assert.False(ok);
        Assert.Empty(frames.Seen);
        Assert.Equal(error, framer.Error);
        Assert.Equal(RejectReason.RelpMalformedFrame, framer.ErrorReason);
    }

    [Fact]
    public void Frames_before_a_malformed_one_are_still_handed_over_and_nothing_after_it()
    {
        var (frames, framer, ok) = Feed("1 syslog 1 a\n2 syslog 1 bb\n3 syslog 1 c\n");
        Assert.False(ok);
        Assert.Equal([(1, RelpCommand.Syslog, "syslog", "a")], frames.Seen);
        Assert.Equal("byte 25: TXNR 2: LF expected after its 1 bytes of data, got 'b' (DATALEN does not match the data)", framer.Error);
        Assert.False(framer.Feed("4 syslog 1 d\n"u8, frames)); // a refused stream stays refused
        Assert.Single(frames.Seen);
    }

    [Fact]
    public void A_DATALEN_over_the_limit_is_refused_before_its_data_is_read()
    {
        var (frames, framer, ok) = Feed("1 syslog 2000 ", max: 1024);
        Assert.False(ok);
        Assert.Empty(frames.Seen);
        Assert.Equal(RejectReason.RelpFrameTooLarge, framer.ErrorReason);
        Assert.Equal("byte 13: TXNR 1 announces 2000 bytes of data, more than the 1024-byte limit (FleetTwin:FrontDoors:MaxRecordBytes)", framer.Error);
    }

    [Fact]
    public void Data_of_exactly_the_limit_is_read_even_across_reads()
    {
        var data = new string('x', 1024);
        var (frames, _, ok) = Feed($"1 syslog 1024 {data}\n", split: 500, max: 1024);
        Assert.True(ok);
        Assert.Equal(data, Assert.Single(frames.Seen).Data);
    }

    [Theory]
    [InlineData("starttls", "Other")]
    [InlineData("abort", "Other")]
    [InlineData("SYSLOG", "Other")] // librelp compares command names with strcmp
    [InlineData("rsp", "Rsp")]
    [InlineData("serverclose", "ServerClose")]
    public void Unknown_commands_are_framed_and_left_to_the_session(string command, string expected)
    {
        var kind = Enum.Parse<RelpCommand>(expected);
        var (frames, _, ok) = Feed($"1 {command} 0\n");
        Assert.True(ok);
        Assert.Equal([(1, kind, command, "")], frames.Seen);
    }

    [Fact]
    public void A_stream_that_ends_inside_a_frame_is_a_truncated_frame()
    {
        var (_, framer, ok) = Feed("1 syslog 10 abc");
        Assert.True(ok);
        Assert.False(framer.Finish());
        Assert.Equal(RejectReason.TruncatedFrame, framer.ErrorReason);
        Assert.Equal("byte 15: the connection closed inside a frame (TXNR 1)", framer.Error);
    }

    [Fact]
    public void The_txnr_after_999999999_is_1()
    {
        Assert.Equal(2, RelpFramer.Next(1));
        Assert.Equal(999_999_999, RelpFramer.Next(999_999_998));
        Assert.Equal(1, RelpFramer.Next(999_999_999));
    }

    /// <summary>
    /// Hostile input, bounded: 2,000 seeded mutations of a valid session (bytes flipped, inserted, cut) fed in random
    /// splits. The framer never throws, hands over only frames whose data fits the limit, and either reads the whole
    /// stream or refuses it with a reason and a position.
    /// </summary>
    [Fact]
    public void Mutated_sessions_never_crash_the_framer_and_every_refusal_has_a_reason()
    {
        var valid = Encoding.ASCII.GetBytes(Open + "2 syslog 33 <13>Sep 17 05:00:53 a kernel: one\n3 syslog 8 multi\nli\n4 syslog 0\n5 close 0\n");
        var random = new Random(19);
        for (var run = 0; run < 2000; run++)
        {
            var bytes = new List<byte>(valid);
            for (var m = random.Next(1, 6); m > 0; m--)
            {
                var at = random.Next(bytes.Count);
                switch (random.Next(3))
                {
                    case 0: bytes[at] = (byte)random.Next(256); break;
                    case 1: bytes.Insert(at, (byte)random.Next(256)); break;
                    default: bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 20))); break;
                }
            }
            var framer = new RelpFramer(64);
            var frames = new Frames();
            var input = bytes.ToArray();
            var ok = true;
            for (var position = 0; position < input.Length && ok;)
            {
                var take = Math.Min(input.Length - position, random.Next(1, 40));
                ok = framer.Feed(input.AsSpan(position, take), frames);
                position += take;
            }
            if (ok)
                ok = framer.Finish();
            Assert.All(frames.Seen, f => Assert.True(Encoding.UTF8.GetByteCount(f.Data) <= 64 * 3)); // UTF-8 decoding may widen bytes
            if (!ok)
            {
                Assert.NotNull(framer.ErrorReason);
                Assert.StartsWith("byte ", framer.Error, StringComparison.Ordinal);
            }
        }
    }
}
