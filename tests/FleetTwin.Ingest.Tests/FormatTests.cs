using System.Text;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Tests.Support;

namespace FleetTwin.Ingest.Tests;

/// <summary>One realistic sample per input format (Golden/formats); each states what the twin must get from it.</summary>
public class FormatTests
{
    [Fact]
    public void Journalctl_short_reads_the_dev_warn_forms_with_slots_and_the_reboot_separator()
    {
        var parsed = Golden.File_("formats/journal-short.txt", year: 2019);

        var exhausted = parsed.All<SwiotlbExhausted>();
        Assert.Equal(4, exhausted.Count);
        Assert.Equal(("0000:04:00.0", "bnx2x", 65536L, SwiotlbMessageVariant.BufferIsFull), (exhausted[0].Device, exhausted[0].Driver, exhausted[0].Bytes, exhausted[0].Variant));
        Assert.Equal((32768L, 32752L), (exhausted[1].TotalSlots!.Value, exhausted[1].UsedSlots!.Value));
        Assert.Equal(("0000:03:00.0", 2097152L, SwiotlbMessageVariant.CoherentAllocationFailed), (exhausted[2].Device, exhausted[2].Bytes, exhausted[2].Variant));
        Assert.Equal(("0000:07:00.0", 1048576L), (exhausted[3].Device, exhausted[3].Bytes));
        Assert.All(exhausted, e => Assert.Equal("xcpng-b02", e.Host));
        Assert.Null(exhausted[0].Uptime);
        Assert.Equal("journal", parsed.Single<LogDaemonRestart>().Daemon);
        var boot = parsed.Single<KernelBoot>();
        Assert.Equal("4.19.0+1", boot.KernelVersion);
        Assert.Null(boot.XenServerRelease);
    }

    [Fact]
    public void Journalctl_short_precise_keeps_microseconds_and_tells_the_three_out_of_space_variants_apart()
    {
        var exhausted = Golden.File_("formats/journal-short-precise.txt", year: 2019).All<SwiotlbExhausted>();

        Assert.Equal(
            [SwiotlbMessageVariant.PciDmaOutOfSwIommu, SwiotlbMessageVariant.DmaOutOfSwIommu, SwiotlbMessageVariant.DeviceOutOfSwIommu],
            exhausted.Select(e => e.Variant));
        Assert.Equal(new DateTimeOffset(2019, 9, 17, 5, 5, 6, TimeSpan.Zero).AddTicks(9727100), exhausted[0].Time);
        Assert.Equal("0000:04:00.1", exhausted[2].Device);
        Assert.Equal("bnx2x", exhausted[2].Driver);
    }

    [Fact]
    public void Journalctl_short_iso_keeps_the_zone_offset()
    {
        var parsed = Golden.File_("formats/journal-short-iso.txt", year: null);

        Assert.Equal(2, parsed.All<SwiotlbExhausted>().Count);
        var started = parsed.Single<VmStarted>();
        Assert.Equal(175, started.Domid);
        Assert.Equal(new DateTimeOffset(2019, 9, 17, 7, 5, 14, TimeSpan.FromHours(2)), started.Time);
    }

    [Fact]
    public void Journalctl_json_reads_string_and_byte_array_messages_with_printk_uptime()
    {
        var parsed = Golden.File_("formats/journal.json", year: null);

        var exhausted = parsed.All<SwiotlbExhausted>();
        Assert.Equal(2, exhausted.Count);
        Assert.Equal(2777545.972710, exhausted[0].Uptime!.Value, 6);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1568696706972).AddTicks(7100), exhausted[0].Time);
        Assert.Equal("bn2-3c16-ix-4104", exhausted[0].Host);
        Assert.Equal(17574, exhausted[1].Bytes);
        // No _SOURCE_MONOTONIC_TIMESTAMP: the journal's own monotonic time stands in.
        Assert.Equal(2777689.0, parsed.Single<VmStarted>().Uptime);
        Assert.Equal(1, parsed.Statistics.Unrecognised);
    }

    [Fact]
    public void Plain_dmesg_reads_boot_command_line_slots_and_blkback_and_keeps_warn_traces_informational()
    {
        var parsed = Golden.File_("formats/dmesg.txt", host: "xcpng-b02");

        Assert.Equal("65536", parsed.Single<Dom0CommandLine>().Swiotlb);
        var exhausted = parsed.Single<SwiotlbExhausted>();
        Assert.Equal((65536L, 32768L, 32704L), (exhausted.Bytes, exhausted.TotalSlots!.Value, exhausted.UsedSlots!.Value));
        Assert.Equal("xcpng-b02", exhausted.Host);
        Assert.Equal(3, parsed.Single<VmStarted>().Domid);
        Assert.Empty(parsed.All<KernelPanic>());
        Assert.Equal(1, parsed.Statistics.Unrecognised);
        Assert.Equal(4, parsed.Statistics.Informational);
    }

    [Fact]
    public void Dmesg_T_takes_the_time_and_year_from_the_ctime_stamp_even_with_a_padded_day()
    {
        var exhausted = Golden.File_("formats/dmesg-T.txt", year: null).All<SwiotlbExhausted>();

        Assert.Equal(new DateTimeOffset(2019, 9, 17, 5, 5, 6, TimeSpan.Zero), exhausted[0].Time);
        Assert.Equal(new DateTimeOffset(2019, 9, 3, 5, 5, 14, TimeSpan.Zero), exhausted[1].Time);
    }

    [Fact]
    public void Rfc3164_with_PRI_reads_host_uptime_and_a_frame_without_host_falls_back_to_the_default()
    {
        var parsed = Golden.File_("formats/rfc3164.txt", host: "fallback", year: 2019);

        Assert.Equal("bn2-3c16-ix-4104", parsed.Single<SwiotlbExhausted>().Host);
        var started = parsed.All<VmStarted>();
        Assert.Equal(["bn2-3c16-ix-4104", "fallback"], started.Select(s => s.Host));
        Assert.Equal(new DateTimeOffset(2019, 9, 7, 5, 1, 18, TimeSpan.Zero), started[1].Time);
    }

    [Fact]
    public void Rfc5424_reads_nil_and_structured_data_and_a_BOM_before_the_message()
    {
        var parsed = Golden.File_("formats/rfc5424.txt", host: "fallback", year: null);

        var exhausted = parsed.All<SwiotlbExhausted>();
        Assert.Equal(2, exhausted.Count);
        Assert.Equal(2777553.832648, exhausted[1].Uptime!.Value, 6);
        Assert.Equal(new DateTimeOffset(2019, 9, 17, 5, 5, 14, TimeSpan.Zero).AddTicks(8326480), exhausted[1].Time);
        Assert.Equal("fallback", parsed.Single<LogDaemonRestart>().Host);
    }

    [Fact]
    public void Rfc6587_octet_counted_frames_on_one_line_are_three_records()
    {
        var parsed = Golden.File_("formats/rfc5424-octet-counted.txt", year: 2019);

        Assert.Equal(1, parsed.Statistics.LinesRead);
        Assert.Equal(3, parsed.Statistics.Records);
        Assert.Equal([25158L, 16918L, 17574L], parsed.All<SwiotlbExhausted>().Select(e => e.Bytes));
    }

    [Fact]
    public void CRLF_line_ends_read_like_LF()
    {
        var crlf = Golden.File_("formats/crlf.log");
        var lf = Golden.Text(Encoding.UTF8.GetString(Golden.Bytes("formats/crlf.log")).Replace("\r\n", "\n", StringComparison.Ordinal));

        Assert.Equal(2, crlf.All<SwiotlbExhausted>().Count);
        Assert.Equal(lf.Events.Select(Golden.Content), crlf.Events.Select(Golden.Content));
        Assert.Equal("0000:04:00.0", crlf.All<SwiotlbExhausted>()[1].Device);
    }

    [Fact]
    public void Invalid_UTF8_neither_throws_nor_hides_the_records_around_it()
    {
        var parsed = Golden.File_("formats/invalid-utf8.log");

        var exhausted = parsed.All<SwiotlbExhausted>();
        Assert.Equal(2, exhausted.Count);
        Assert.Equal("bn2\uFFFD\uFFFDhost", exhausted[1].Host);
        Assert.Equal(1, parsed.Statistics.Unrecognised);
    }

    [Fact]
    public void A_truncated_last_line_without_newline_is_read_and_counted_as_malformed_when_cut_mid_message()
    {
        var parsed = Golden.File_("formats/truncated.log", host: "h");

        Assert.Single(parsed.All<SwiotlbExhausted>());
        Assert.Equal(2, parsed.Statistics.LinesRead);
        Assert.Equal(1, parsed.Statistics.Malformed);
        Assert.Equal(2, parsed.Statistics.MalformedSamples[0].Line);
    }

    [Fact]
    public void A_record_prefix_cut_off_is_malformed_and_names_its_line()
    {
        var parsed = Golden.Text("<3>[2777553.83\n<3>[2777553.832648] PCI-DMA: Out of SW-IOMMU space for 1 bytes at device 0000:04:00.0\n");

        Assert.Equal(1, parsed.Statistics.Malformed);
        Assert.Equal(1, parsed.Statistics.MalformedSamples[0].Line);
        Assert.Single(parsed.All<SwiotlbExhausted>());
    }

    [Fact]
    public void A_very_long_pasted_line_is_split_on_record_prefixes_without_losing_any()
    {
        var line = Golden.Lines("kb-incident/kern.log")[17];
        var pasted = string.Join(' ', Enumerable.Repeat(line, 5000));

        var parsed = Golden.Text(pasted + "\n");

        Assert.Equal(5000, parsed.All<SwiotlbExhausted>().Count);
        Assert.Equal(0, parsed.Statistics.LinesCut);
    }

    [Fact]
    public void A_line_over_the_limit_is_read_in_pieces_and_counted_as_cut()
    {
        var junk = new string('x', 300) + "\n";
        var record = "<3>[1.000000] PCI-DMA: Out of SW-IOMMU space for 9 bytes at device 0000:04:00.0\n";

        var parsed = Golden.Bytes_(Encoding.UTF8.GetBytes(junk + record), new LogParserOptions { MaxLineLength = 128 }, chunk: 7);

        Assert.Equal(2, parsed.Statistics.LinesCut);
        Assert.Single(parsed.All<SwiotlbExhausted>());
    }

    [Fact]
    public void Formats_mixed_in_one_input_are_each_recognised()
    {
        var text = string.Join('\n',
            Golden.Lines("kb-incident/kern.log")[17],
            Golden.Lines("kb-incident/dom0.log")[18],
            File.ReadAllLines(Golden.PathOf("formats/journal.json"))[0],
            File.ReadAllLines(Golden.PathOf("formats/rfc5424.txt"))[0],
            File.ReadAllLines(Golden.PathOf("formats/dmesg-T.txt"))[0]) + "\n";

        Assert.Equal(5, Golden.Text(text).All<SwiotlbExhausted>().Count);
    }
}
