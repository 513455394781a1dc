using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Tests.Support;

namespace FleetTwin.Ingest.Tests;

/// <summary>
/// Paste damage: two records flattened onto one line without a space, the second glued onto the end of the first
/// (issue 18: <c>…swiotlb buffer is fullOct 28 21:00:55 frycedes kernel: [162876.240431] DMA: Out of SW-IOMMU space
/// for 65536 bytes…</c>). Both records are read, each failure is one event, and the summary counts two records.
/// </summary>
public sealed class GluedRecordTests
{
    private const string Header1 = "Oct 28 21:00:54 frycedes kernel: [162876.240427] ";
    private const string Header2 = "Oct 28 21:00:55 frycedes kernel: [162876.240431] ";
    private const string OutOfSpace = "DMA: Out of SW-IOMMU space for 65536 bytes at device 0000:02:00.0";
    private const string BufferFullSized = "xhci_hcd 0000:01:00.0: swiotlb buffer is full (sz: 512 bytes), total 32768 (slots), used 32768 (slots)";

    private static Parsed Read(string text) => Golden.Text(text + "\n", new LogParserOptions { SourceName = "pasted", Year = 2020 });

    private static void AssertCountsAddUp(IngestStatistics s, long records)
    {
        Assert.Equal(records, s.Records);
        Assert.Equal(s.Records, s.EventRecords + s.Informational + s.Unrecognised + s.Malformed);
        Assert.Equal(0, s.Unrecognised);
        Assert.Equal(0, s.Malformed);
    }

    [Fact]
    public void The_issues_shape_a_bare_buffer_full_warning_with_its_out_of_space_line_glued_on_is_one_failure()
    {
        var parsed = Read(Header1 + "swiotlb buffer is full" + Header2 + OutOfSpace);

        var failure = parsed.Single<SwiotlbExhausted>();
        Assert.Equal((65536L, "0000:02:00.0", "frycedes", 162876.240431), (failure.Bytes, failure.Device, failure.Host, failure.Uptime!.Value));
        AssertCountsAddUp(parsed.Statistics, records: 2);
    }

    [Fact]
    public void A_syslog_record_glued_onto_the_end_of_a_recognised_buffer_full_warning_is_read_too()
    {
        var parsed = Read(Header1 + BufferFullSized + Header2 + OutOfSpace);

        var failures = parsed.All<SwiotlbExhausted>();
        Assert.Equal([(512L, "0000:01:00.0", 162876.240427), (65536L, "0000:02:00.0", 162876.240431)],
            failures.Select(f => (f.Bytes, f.Device, f.Uptime!.Value)));
        Assert.Equal((32768L, 32768L), (failures[0].TotalSlots!.Value, failures[0].UsedSlots!.Value));
        Assert.All(failures, f => Assert.Equal("frycedes", f.Host));
        AssertCountsAddUp(parsed.Statistics, records: 2);
    }

    [Fact]
    public void A_syslog_record_glued_onto_the_end_of_a_recognised_out_of_space_line_is_read_too()
    {
        var parsed = Read(Header1 + OutOfSpace + Header2 + "DMA: Out of SW-IOMMU space for 4096 bytes at device 0000:03:00.0");

        Assert.Equal([(65536L, "0000:02:00.0"), (4096L, "0000:03:00.0")], parsed.All<SwiotlbExhausted>().Select(f => (f.Bytes, f.Device)));
        AssertCountsAddUp(parsed.Statistics, records: 2);
    }

    [Fact]
    public void The_same_failure_logged_on_two_lines_and_glued_into_one_is_counted_once()
    {
        var parsed = Read(Header1 + "swiotlb buffer is full (sz: 65536 bytes)" + Header2 + OutOfSpace);

        var failure = parsed.Single<SwiotlbExhausted>();
        Assert.Equal((65536L, SwiotlbMessageVariant.BufferIsFull), (failure.Bytes, failure.Variant));
        AssertCountsAddUp(parsed.Statistics, records: 2);
    }

    [Fact]
    public void An_uptime_only_record_glued_onto_the_end_of_a_recognised_record_is_read_with_its_own_uptime_and_the_first_ones_host()
    {
        var parsed = Read(Header1 + BufferFullSized + "[162876.240431] DMA: Out of SW-IOMMU space for 65536 bytes at device 0000:02:00.0");

        var failures = parsed.All<SwiotlbExhausted>();
        Assert.Equal([(512L, "0000:01:00.0", 162876.240427), (65536L, "0000:02:00.0", 162876.240431)],
            failures.Select(f => (f.Bytes, f.Device, f.Uptime!.Value)));
        Assert.All(failures, f => Assert.Equal("frycedes", f.Host));
        AssertCountsAddUp(parsed.Statistics, records: 2);
    }

    [Fact]
    public void An_uptime_only_record_with_a_padded_uptime_glued_onto_an_uptime_only_record_is_read_too()
    {
        var parsed = Read("[  123.400000] " + BufferFullSized + "[  123.456000] PCI-DMA: Out of SW-IOMMU space for 16384 bytes at device 0000:06:01.0");

        Assert.Equal([(512L, 123.4), (16384L, 123.456)], parsed.All<SwiotlbExhausted>().Select(f => (f.Bytes, f.Uptime!.Value)));
        AssertCountsAddUp(parsed.Statistics, records: 2);
    }

    [Fact]
    public void A_syslog_tag_before_the_uptime_is_not_a_record_the_uptime_was_glued_onto()
    {
        // What several syslog parsers put in an NDJSON "message", the MSG with its tag, as the HTTP door hands it on (an
        // RFC 5424 header in front of it; found by the door's own test).
        var parsed = Read("<13>1 - tagged-host - - - - kernel: [300000.000000] PCI-DMA: Out of SW-IOMMU space for 16384 bytes at device 0000:04:00.1");

        var failure = parsed.Single<SwiotlbExhausted>();
        Assert.Equal((16384L, 300000.0), (failure.Bytes, failure.Uptime!.Value));
        AssertCountsAddUp(parsed.Statistics, records: 1);
    }

    [Fact]
    public void A_record_that_merely_mentions_a_second_message_is_not_split()
    {
        // "kernel: " and "DMA:" inside one message, but no record header after them: one record, one failure.
        var parsed = Read(Header1 + "DMA: Out of SW-IOMMU space for 65536 bytes at device 0000:02:00.0 kernel: [x] DMA: note");

        Assert.Equal(65536L, parsed.Single<SwiotlbExhausted>().Bytes);
        Assert.Equal(1, parsed.Statistics.Records);
    }

    [Fact]
    public void Lines_that_only_look_glued_are_read_as_one_record_each_without_allocating()
    {
        // A second "kernel: ", bracketed text after the stamp and an uptime-like stamp without a known message after
        // it: the gate opens, the scan finds no record, and the line stays one unrecognised record.
        string[] shapes =
        [
            "[162876.240427] [drm] ring test on 0 succeeded in 1 usecs; see kernel: messages above",
            "[162876.240428] pci 0000:00:02.0: [8086:0412] type 00 class 0x030000",
            "[162876.240429] audit: note [  12.500000] printed by a script",
            "[162876.240430] nf_conntrack: table full, dropping packet on vif12.0",
        ];
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < 400; i++)
        {
            text.Append(Header1[..^("[162876.240427] ".Length)]).Append(shapes[i % shapes.Length]).Append('\n');
        }
        var bytes = System.Text.Encoding.UTF8.GetBytes(text.ToString());
        var parser = new LogParser(new TwinEventBuffer(), new LogParserOptions { SourceName = "pasted", Year = 2020 });
        parser.Write(bytes); // warms up: names interned, unrecognised samples taken up to their limit

        long before = GC.GetAllocatedBytesForCurrentThread();
        parser.Write(bytes);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal((800L, 800L), (parser.Statistics.Records, parser.Statistics.Unrecognised));
    }
}
