using System.Text;
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

    [Property(MaxTest = 200)]
    public void Random_text_built_from_log_alphabet_never_throws(char[] chars)
    {
        // Bias towards the bytes that drive the framing: brackets, PRI, digits, colons, spaces, newlines.
        const string alphabet = "<>[]0123456789.: \n\r\t-{}\"SepJanPCI-DMA:OutofSW-IOMMUspacebytesatdevice/local/domain/vif";
        var text = new string((chars ?? []).Select(c => alphabet[c % alphabet.Length]).ToArray());

        var parsed = Golden.Text(text, new LogParserOptions { Year = 2014 });

        Assert.True(parsed.Statistics.LinesRead >= 0);
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
