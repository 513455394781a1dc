using System.Text;
using BenchmarkDotNet.Attributes;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;

namespace FleetTwin.Benchmarks.Ingest;

/// <summary>
/// Throughput of the log reader on kern.log-style syslog, against the floor of merely splitting the same buffer
/// into lines. The input is 100,000 lines shaped like the KB host's kern.log: mostly lines the twin does not know
/// (the common case on a busy dom0), with vif/blkback lines and SWIOTLB exhaustions mixed in.
/// Run: <c>dotnet run -c Release --project load/FleetTwin.Benchmarks -- --filter '*LogParser*' --job short</c>
/// </summary>
[MemoryDiagnoser]
public class LogParserBenchmarks
{
    public const int Lines = 100_000;

    private byte[] _mixed = [];
    private byte[] _unrecognised = [];
    private byte[] _exhaustions = [];

    [GlobalSetup]
    public void Setup()
    {
        _mixed = Build(i => (i % 10) switch
        {
            0 => $"[{2777545 + i}.972710] PCI-DMA: Out of SW-IOMMU space for {14000 + i % 17000} bytes at device 0000:04:00.{i & 1}",
            1 => $"[{2777545 + i}.548169] blkback: ring-ref {i % 64}",
            2 => $"[{2777545 + i}.185673] device vif{174 + i % 50}.0 entered promiscuous mode",
            _ => $"[{2777545 + i}.511111] nf_conntrack: table full, dropping packet on vif{i % 300}.0 from 10.0.{i % 255}.{i % 253}",
        });
        _unrecognised = Build(i => $"[{2777545 + i}.511111] nf_conntrack: table full, dropping packet on vif{i % 300}.0 from 10.0.{i % 255}.{i % 253}");
        _exhaustions = Build(i => $"[{2777545 + i}.972710] PCI-DMA: Out of SW-IOMMU space for {14000 + i % 17000} bytes at device 0000:04:00.{i & 1}");
    }

    private static byte[] Build(Func<int, string> message)
    {
        var text = new StringBuilder();
        for (int i = 0; i < Lines; i++)
        {
            text.Append("Sep 17 ").Append((5 + i / 3600 % 19).ToString("00", System.Globalization.CultureInfo.InvariantCulture))
                .Append(':').Append((i / 60 % 60).ToString("00", System.Globalization.CultureInfo.InvariantCulture))
                .Append(':').Append((i % 60).ToString("00", System.Globalization.CultureInfo.InvariantCulture))
                .Append(" bn2-3c16-ix-4104 kernel: ").Append(message(i)).Append('\n');
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>The floor: find every line end and touch the line, nothing else.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Lines)]
    public long LineSplitFloor()
    {
        ReadOnlySpan<byte> rest = _mixed;
        long total = 0;
        while (true)
        {
            int newline = rest.IndexOf((byte)'\n');
            if (newline < 0)
            {
                return total;
            }
            total += rest[..newline].Length;
            rest = rest[(newline + 1)..];
        }
    }

    [Benchmark(OperationsPerInvoke = Lines)]
    public long ParseMixed() => Parse(_mixed);

    [Benchmark(OperationsPerInvoke = Lines)]
    public long ParseUnrecognised() => Parse(_unrecognised);

    [Benchmark(OperationsPerInvoke = Lines)]
    public long ParseExhaustions() => Parse(_exhaustions);

    private static long Parse(byte[] input)
    {
        var sink = new CountingSink();
        var parser = new LogParser(sink, new LogParserOptions { Year = 2014, SourceName = "bench" });
        parser.Write(input);
        parser.Complete();
        return sink.Count + parser.Statistics.Unrecognised;
    }

    private sealed class CountingSink : ITwinEventSink
    {
        public long Count;

        public void Accept(TwinEvent twinEvent) => Count++;
    }
}
