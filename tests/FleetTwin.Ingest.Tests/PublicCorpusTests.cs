using System.Text.Json;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Tests.Support;

namespace FleetTwin.Ingest.Tests;

/// <summary>
/// Logs as people paste them: excerpts from public bug trackers, mailing lists, forums and vendor KBs
/// (Corpus/public/excerpts.json names each one's source and the counts a careful reader gives). Every excerpt must
/// be read as that reader reads it: one exhaustion event per failed mapping, with its size and device, and its panics.
/// </summary>
public sealed class PublicCorpusTests
{
    private static readonly string Directory_ = Path.Combine(AppContext.BaseDirectory, "Corpus", "public");

    public static TheoryData<string> Excerpts()
    {
        var data = new TheoryData<string>();
        foreach (var excerpt in Manifest().Excerpts)
            data.Add(excerpt.File);
        return data;
    }

    [Theory]
    [MemberData(nameof(Excerpts))]
    public void Each_public_excerpt_is_read_as_a_careful_reader_reads_it(string file)
    {
        var excerpt = Manifest().Excerpts.Single(e => e.File == file);
        var parsed = Golden.Bytes_(File.ReadAllBytes(Path.Combine(Directory_, file)), new LogParserOptions { SourceName = file, DefaultHost = "pasted", Year = 2020 });

        var failures = parsed.Events.OfType<SwiotlbExhausted>().ToList();
        Assert.Equal(excerpt.Expected.Failures, failures.Count);
        Assert.Equal(excerpt.Expected.Sizes, failures.Select(f => f.Bytes).ToArray());
        var devices = failures.Where(f => f.Device is not null).GroupBy(f => f.Device!).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(excerpt.Expected.Devices.OrderBy(kv => kv.Key, StringComparer.Ordinal), devices.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(excerpt.Expected.Panics, parsed.Events.OfType<KernelPanic>().Count());
        var s = parsed.Statistics;
        Assert.Equal(s.Records, s.EventRecords + s.Informational + s.Unrecognised + s.Malformed);
    }

    [Fact]
    public void The_corpus_holds_at_least_25_excerpts_each_with_a_public_source_and_negative_cases_among_them()
    {
        var excerpts = Manifest().Excerpts;
        Assert.True(excerpts.Count >= 25, $"{excerpts.Count} excerpts");
        Assert.All(excerpts, e => Assert.StartsWith("http", e.Source, StringComparison.Ordinal));
        Assert.All(excerpts, e => Assert.True(File.Exists(Path.Combine(Directory_, e.File)), e.File));
        Assert.Contains(excerpts, e => e.Expected.Failures == 0 && e.Shape.Contains("frames", StringComparison.Ordinal));
        Assert.Contains(excerpts, e => e.Expected.Panics == 0 && e.Shape.Contains("kernel panic\" in prose", StringComparison.Ordinal));
    }

    private static Corpus Manifest()
        => JsonSerializer.Deserialize<Corpus>(File.ReadAllText(Path.Combine(Directory_, "excerpts.json")), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;

    private sealed record Corpus(List<Excerpt> Excerpts);

    private sealed record Excerpt(string File, string Source, string Shape, bool Reconstructed, string Note, Expected Expected);

    private sealed record Expected(int Failures, long[] Sizes, Dictionary<string, int> Devices, int Panics);
}
