using System.Text;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>RFC 6587 framing as the TCP door reads it: octet counting and LF framing mixed, split anywhere.</summary>
public class SyslogFramerTests
{
    private const string Stream =
        "<13>Sep 17 05:00:53 a kernel: one\n" +
        "36 <13>1 - b kernel - - - two\nstill two" +
        "<13>Sep 17 05:00:54 a kernel: three\r\n";

    private static (List<string> Records, List<string> Rejected) Frame(byte[] bytes, int split, int max = 1024)
    {
        var rejected = new List<string>();
        var framer = new SyslogFramer(max, rejected.Add);
        var chunk = new RecordChunk("test", "test", null);
        framer.Feed(bytes.AsSpan(0, split), chunk);
        framer.Feed(bytes.AsSpan(split), chunk);
        framer.Finish(chunk);
        var records = Encoding.UTF8.GetString(chunk.Bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        chunk.Release();
        return (records, rejected);
    }

    [Fact]
    public void Octet_counted_and_LF_framed_records_are_found_wherever_the_reads_split_them()
    {
        var bytes = Encoding.UTF8.GetBytes(Stream);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var (records, rejected) = Frame(bytes, split);
            Assert.Equal(["<13>Sep 17 05:00:53 a kernel: one", "<13>1 - b kernel - - - two still two", "<13>Sep 17 05:00:54 a kernel: three"], records);
            Assert.Empty(rejected);
        }
    }

    [Fact]
    public void Oversized_records_are_skipped_and_counted_and_the_next_record_is_read()
    {
        var bytes = Encoding.UTF8.GetBytes("5000 <13>" + new string('x', 4995) + "<13>" + new string('y', 3000) + "\n<13>ok\n");
        var (records, rejected) = Frame(bytes, 100, max: 1024);
        Assert.Equal(["<13>ok"], records);
        Assert.Equal([RejectReason.RecordTooLarge, RejectReason.RecordTooLarge], rejected);
    }

    [Fact]
    public void Text_without_a_PRI_and_a_frame_cut_by_the_close_are_counted_not_parsed()
    {
        var (records, rejected) = Frame(Encoding.UTF8.GetBytes("hello\n123abc\n50 <13>cut"), 3);
        Assert.Empty(records);
        Assert.Equal([RejectReason.NotSyslog, RejectReason.NotSyslog, RejectReason.TruncatedFrame], rejected);
    }
}
