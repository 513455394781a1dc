using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Tests.Support;
using FsCheck.Xunit;

namespace FleetTwin.Ingest.Tests;

/// <summary>
/// The reader faces whatever a dom0 or a paste produces: random bytes, lines spliced mid-record, chunks cut
/// anywhere. It must never throw, account for every record, and never lose a record it can recognise.
/// </summary>
public class RobustnessPropertyTests
{
    private static readonly string[] KernLines = Golden.Lines("kb-incident/kern.log");
    private static readonly string[] Dom0Lines = Golden.Lines("kb-incident/dom0.log");
    private static readonly string[] ExhaustionLines = [.. KernLines.Concat(Dom0Lines).Where(l => l.Contains("Out of SW-IOMMU", StringComparison.Ordinal))];

    [Property(MaxTest = 300)]
    public void Random_bytes_never_throw_and_every_record_lands_in_one_bucket(byte[] bytes)
    {
        var parsed = Golden.Bytes_(bytes ?? [], new LogParserOptions { DefaultHost = "h" });

        var s = parsed.Statistics;
        Assert.Equal(s.Records, s.EventRecords + s.Informational + s.Unrecognised + s.Malformed);
    }

    /// <summary>
    /// Pieces of real records (prefixes, stamps, hosts, tags, message phrases, numbers, bus ids, frames, prompts, JSON,
    /// CR, BOM): random lines of them form whole records, cut ones, pasted ones and near-misses. Never a newline.
    /// </summary>
    private static readonly string[] LogFragments =
    [
        "<3>", "<4>", "<", ">", "[", "]", " ", " ", "\t", "\r", "0", "7", "42", ".", ":", "-", "=", "(", ")", "\uFEFF", "é",
        "154 ", "1 ", "Sep 17 05:05:06 ", "Sep", "17 ", "2019-09-17T05:05:06.972710+00:00 ", "[2777545.972710] ", "[    0.500000] ",
        "bn2-3c16-ix-4104 ", "kernel: ", "kernel - - - ", "bnx2x ", "0000:04:00.1", "0000:04:00.0: ",
        "PCI-DMA: ", "DMA: ", "Out of SW-IOMMU space for ", "25158", "33302", " bytes at device ", " bytes", "swiotlb buffer is full (sz: ", " bytes)", "swiotlb: coherent allocation failed", " for device ", ", size=",
        "Kernel panic - not syncing: ", "DMA: Random memory could be DMA read", "Pid: 1196, comm: netback/2 ", "Call Trace:",
        " [<ffffffff8123a4b5>] swiotlb_full+0x4a/0x80", "device vif12.0 entered promiscuous mode", "/local/domain/174/device/vif/0",
        "Linux version 2.6.32.43-0.4.1.xs1.8.0.853.170791xen ", "-- Reboot --", "[root@bn2-3c16-ix-4101 ~]# ", "xe pif-list params=all",
        "{", "}", "\"", "{\"MESSAGE\":\"", "\",\"_HOSTNAME\":\"", "\"__REALTIME_TIMESTAMP\":\"1568696706972710\"",
    ];

    private static readonly Regex ExhaustionPhrase =
        new(@"(?:Out of SW-IOMMU space for |swiotlb buffer is full \(sz: )(\d{1,18}) bytes|coherent allocation failed.*?size=(\d{1,18})", RegexOptions.CultureInvariant);

    /// <summary>
    /// Real lines to start from: the KB incident's records in each shape it reached us in, command output and a
    /// transcript. Not journal.json: its MESSAGE may be a byte array, so its text need not spell the record.
    /// </summary>
    private static readonly string[] RealLines =
    [
        .. KernLines, .. Dom0Lines,
        .. new[] { "dmesg.txt", "dmesg-T.txt", "rfc3164.txt", "rfc5424.txt", "journal-short.txt", "journal-short-iso.txt", "command-output.txt", "transcript.txt" }
            .SelectMany(f => Golden.Lines("formats/" + f)),
    ];

    /// <summary>
    /// Lines a dom0 or a paste could produce: a third fragment soup, the rest real lines left whole or given up to three
    /// edits (a fragment inserted, a span cut out, a span doubled), so whole records, near-misses and splices all occur.
    /// </summary>
    private static List<string> LogShapedLines(Random random, int count, Func<string, bool>? keep = null)
    {
        var lines = new List<string>();
        while (lines.Count < count)
        {
            var line = new StringBuilder();
            if (random.Next(3) == 0)
            {
                for (int n = random.Next(0, 14); n > 0; n--)
                    line.Append(LogFragments[random.Next(LogFragments.Length)]);
            }
            else
            {
                line.Append(RealLines[random.Next(RealLines.Length)]);
                for (int edits = random.Next(0, 4); edits > 0; edits--)
                {
                    int at = random.Next(line.Length + 1), length = random.Next(0, Math.Min(12, line.Length - at) + 1);
                    switch (random.Next(3))
                    {
                        case 0: line.Insert(at, LogFragments[random.Next(LogFragments.Length)]); break;
                        case 1: line.Remove(at, length); break;
                        default: line.Insert(at, line.ToString(at, length)); break;
                    }
                }
            }
            if (keep is null || keep(line.ToString()))
                lines.Add(line.ToString());
        }
        return lines;
    }

    /// <summary>The lines the reader must count: LF-terminated ones, plus a last one without LF if it has any bytes.</summary>
    private static (string Text, List<string> Lines) Join(List<string> lines, bool lastTerminated)
    {
        var text = string.Join("\n", lines) + (lastTerminated && lines.Count > 0 ? "\n" : "");
        return (text, !lastTerminated && lines.Count > 0 && lines[^1].Length == 0 ? lines[..^1] : lines);
    }

    private static bool IsBlankAsRead(string line, int index)
    {
        // LogParser.ParseLine: one trailing CR is dropped, a BOM is skipped on the first line, blank is spaces and tabs only.
        var s = line.EndsWith('\r') ? line[..^1] : line;
        if (index == 0 && s.StartsWith('\uFEFF'))
            s = s[1..];
        return s.All(c => c is ' ' or '\t');
    }

    [Property(MaxTest = 300)]
    public void Log_shaped_text_counts_every_line_and_makes_an_exhaustion_event_only_where_a_line_reports_one(int seed)
    {
        var random = new Random(seed);
        var (text, lines) = Join(LogShapedLines(random, random.Next(0, 25)), lastTerminated: random.Next(2) == 0);

        var parsed = Golden.Bytes_(Encoding.UTF8.GetBytes(text), new LogParserOptions { DefaultHost = "h", Year = 2014 }, chunk: random.Next(0, 40));

        var s = parsed.Statistics;
        Assert.Equal(lines.Count, s.LinesRead);
        Assert.Equal(lines.Where(IsBlankAsRead).Count(), s.BlankLines);
        Assert.Equal(s.Records, s.EventRecords + s.Informational + s.Unrecognised + s.Malformed);
        Assert.True(s.Records + s.WrappedLinesJoined >= s.LinesRead - s.BlankLines, "every non-blank line is at least one record or the continuation of a wrapped one");
        Assert.InRange(s.WrappedLinesJoined, 0, s.LinesRead - s.BlankLines);
        // Garbage never makes a failed mapping out of nothing: each exhaustion event comes from a line that prints the
        // out-of-space, buffer-full or coherent-failure message with that byte count, and no line gives more events than it has messages.
        foreach (var group in parsed.All<SwiotlbExhausted>().GroupBy(e => e.SourceLine))
        {
            Assert.InRange(group.Key, 1, lines.Count);
            // A record wrapped at a width is stamped with its first line and may take its size from up to two lines after it.
            var record = string.Join(" ", lines.Skip((int)group.Key - 1).Take(s.WrappedLinesJoined > 0 ? 3 : 1));
            var said = ExhaustionPhrase.Matches(record).Select(m => long.Parse(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value, CultureInfo.InvariantCulture)).ToList();
            Assert.True(group.Count() <= said.Count, $"line {group.Key} '{lines[(int)group.Key - 1]}' gave {group.Count()} exhaustion events");
            Assert.All(group, e => Assert.Contains(e.Bytes, said));
        }
    }

    [Property(MaxTest = 300)]
    public void Exhaustion_records_between_log_shaped_garbage_lines_are_each_read_once_with_their_host_uptime_size_and_device(int seed)
    {
        var random = new Random(seed);
        var garbage = LogShapedLines(random, 30, line => !line.Contains("SW-IOMMU", StringComparison.Ordinal) && !line.Contains("buffer is full", StringComparison.Ordinal)
            && !line.Contains("coherent allocation failed", StringComparison.Ordinal));
        var lines = new List<string>();
        var expected = new List<(long Line, string? Host, double? Uptime, long Bytes, string? Device)>();
        foreach (var line in garbage)
        {
            lines.Add(line);
            if (random.Next(2) == 0)
                continue;
            var uptime = Math.Round(random.Next(0, 9_000_000) + random.NextDouble(), 6);
            var bytes = random.Next(4097, 70_000);
            var device = $"0000:{random.Next(256):x2}:00.{random.Next(8)}";
            var host = $"synth-ix-{random.Next(10000):D4}";
            var up = uptime.ToString("0.000000", CultureInfo.InvariantCulture);
            // The four shapes a dom0 kernel's record reaches us in: kern.log, the crash console, dev_err, RFC 5424.
            switch (random.Next(4))
            {
                case 0:
                    lines.Add($"Sep 17 05:05:06 {host} kernel: [{up,12}] PCI-DMA: Out of SW-IOMMU space for {bytes} bytes at device {device}");
                    break;
                case 1:
                    host = "h";
                    lines.Add($"<3>[{up,12}] PCI-DMA: Out of SW-IOMMU space for {bytes} bytes at device {device}{(random.Next(2) == 0 ? "\r" : "")}");
                    break;
                case 2:
                    host = "h";
                    lines.Add($"[{up}] bnx2x {device}: DMA: Out of SW-IOMMU space for {bytes} bytes");
                    break;
                default:
                    lines.Add($"<3>1 2019-09-17T05:05:06.972710+00:00 {host} kernel - - - [{up}] PCI-DMA: Out of SW-IOMMU space for {bytes} bytes at device {device}");
                    break;
            }
            expected.Add((lines.Count, host, uptime, bytes, device));
        }
        var (text, counted) = Join(lines, lastTerminated: random.Next(2) == 0);

        var parsed = Golden.Bytes_(Encoding.UTF8.GetBytes(text), new LogParserOptions { DefaultHost = "h", Year = 2014 }, chunk: random.Next(0, 64));

        Assert.Equal(counted.Count, parsed.Statistics.LinesRead);
        Assert.Equal(expected, parsed.All<SwiotlbExhausted>().Select(e => (e.SourceLine, e.Host, e.Uptime, e.Bytes, e.Device)));
    }

    [Property(MaxTest = 200)]
    public void Recognisable_records_between_random_garbage_lines_are_all_found(int seed)
    {
        var random = new Random(seed);
        var input = new MemoryStream();
        int expected = 0;
        for (int i = 0; i < 20; i++)
        {
            if (random.Next(2) == 0)
            {
                var line = ExhaustionLines[random.Next(ExhaustionLines.Length)];
                input.Write(Encoding.UTF8.GetBytes(line + "\n"));
                expected++;
            }
            else
            {
                input.Write(GarbageLine(random));
            }
        }

        var parsed = Golden.Bytes_(input.ToArray(), new LogParserOptions { DefaultHost = "h", Year = 2014 }, chunk: 1 + random.Next(64));

        Assert.Equal(expected, parsed.All<SwiotlbExhausted>().Count);
    }

    [Property(MaxTest = 200)]
    public void Lines_spliced_at_random_points_never_throw_and_keep_the_intact_records(int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        int intact = 0;
        for (int i = 0; i < 15; i++)
        {
            var a = KernLines[random.Next(KernLines.Length)];
            var b = Dom0Lines[random.Next(Dom0Lines.Length)];
            if (random.Next(3) == 0)
            {
                // A splice: the head of one record glued to the tail of another, as a broken copy leaves them.
                text.Append(a.AsSpan(0, random.Next(a.Length))).Append(b.AsSpan(random.Next(b.Length))).Append('\n');
            }
            else
            {
                text.Append(a).Append('\n');
                intact += a.Contains("Out of SW-IOMMU", StringComparison.Ordinal) ? 1 : 0;
            }
        }

        var parsed = Golden.Text(text.ToString(), new LogParserOptions { Year = 2014 });

        // Splices may form extra recognisable records, never fewer than the intact ones.
        Assert.True(parsed.All<SwiotlbExhausted>().Count >= intact);
    }

    [Property(MaxTest = 100)]
    public void Chunk_boundaries_anywhere_give_the_same_events_as_one_buffer(int seed)
    {
        var random = new Random(seed);
        var bytes = Golden.Bytes(random.Next(2) == 0 ? "kb-incident/dom0.log" : "kb-incident/kern.log.flattened");
        var options = new LogParserOptions { DefaultHost = "h", Year = 2014 };

        var whole = Golden.Bytes_(bytes, options);
        var chunked = Golden.Bytes_(bytes, options, chunk: 1 + random.Next(200));

        Assert.Equal(whole.Events.Select(Golden.Content), chunked.Events.Select(Golden.Content));
    }

    [Fact]
    public void Every_single_line_of_the_incident_parsed_alone_never_throws_and_cut_at_every_offset_never_throws()
    {
        foreach (var line in KernLines.Concat(Dom0Lines))
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            for (int cut = 0; cut <= bytes.Length; cut++)
            {
                var parsed = Golden.Bytes_(bytes[..cut], new LogParserOptions { Year = 2014 });
                var s = parsed.Statistics;
                Assert.Equal(s.Records, s.EventRecords + s.Informational + s.Unrecognised + s.Malformed);
            }
        }
    }

    private static byte[] GarbageLine(Random random)
    {
        var bytes = new byte[random.Next(0, 120)];
        random.NextBytes(bytes);
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == '\n')
            {
                bytes[i] = (byte)'?';
            }
        }
        return [.. bytes, (byte)'\n'];
    }
}
