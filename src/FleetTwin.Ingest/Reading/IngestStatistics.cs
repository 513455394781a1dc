using System.Runtime.InteropServices;
using System.Text;

namespace FleetTwin.Ingest.Reading;

/// <summary>A line kept as an example of what the reader could not use, with where it was.</summary>
public sealed record SampledLine(string Source, long Line, string Text, string? Reason);

/// <summary>
/// What one reader saw. Every non-blank record ends up in exactly one bucket — part of an event, informational (a
/// known line that carries no fact, e.g. <c>blkback: ring-ref 8</c>), unrecognised or malformed — so
/// <c>Records == EventRecords + Informational + Unrecognised + Malformed</c> and nothing is dropped silently.
/// </summary>
public sealed class IngestStatistics
{
    /// <summary>How many unrecognised and malformed lines are kept as samples.</summary>
    public const int MaxSamples = 5;

    /// <summary>Samples are cut to this many bytes so one huge line cannot blow up a report.</summary>
    public const int MaxSampleBytes = 240;

    private readonly Dictionary<string, long> _eventsByType = new(StringComparer.Ordinal);
    private readonly List<SampledLine> _unrecognisedSamples = [];
    private readonly List<SampledLine> _malformedSamples = [];

    /// <summary>Physical lines read (a line holding many pasted records counts once).</summary>
    public long LinesRead { get; internal set; }

    /// <summary>Records read: prefixed log records plus bare text lines.</summary>
    public long Records { get; internal set; }

    public long Events { get; internal set; }

    /// <summary>Records that made an event or belong to one (the Pid, Call Trace and frame lines of a panic).</summary>
    public long EventRecords { get; internal set; }

    /// <summary>Lines longer than <see cref="LogParserOptions.MaxLineLength"/>, read in pieces.</summary>
    public long LinesCut { get; internal set; }
    public long Informational { get; internal set; }
    public long BlankLines { get; internal set; }

    /// <summary>Lines that continued the record of the line before (a record wrapped at a fixed width): part of that record, not records of their own.</summary>
    public long WrappedLinesJoined { get; internal set; }
    public long Unrecognised { get; internal set; }
    public long Malformed { get; internal set; }

    /// <summary>Whole xe records (a uuid block) whose class neither a prompt nor the fields told: read, not emitted, named in <see cref="UnclassifiedXeSamples"/>.</summary>
    public long XeRecordsUnclassified { get; internal set; }

    /// <summary>Whole xe records of a class the twin does not model (sr-list, network-list…): read, not emitted.</summary>
    public long XeRecordsNotModelled { get; internal set; }

    public IReadOnlyList<SampledLine> UnclassifiedXeSamples => _unclassifiedXeSamples;

    private readonly List<SampledLine> _unclassifiedXeSamples = [];

    internal void CountUnclassifiedXe(string source, long line, string fields)
    {
        XeRecordsUnclassified++;
        if (_unclassifiedXeSamples.Count < MaxSamples)
        {
            _unclassifiedXeSamples.Add(new SampledLine(source, line, fields, "xe record of unknown class"));
        }
    }

    /// <summary>Bytes consumed, line terminators included.</summary>
    public long Bytes { get; internal set; }

    public IReadOnlyDictionary<string, long> EventsByType => _eventsByType;
    public IReadOnlyList<SampledLine> UnrecognisedSamples => _unrecognisedSamples;
    public IReadOnlyList<SampledLine> MalformedSamples => _malformedSamples;

    internal void CountEvent(string type)
    {
        Events++;
        CollectionsMarshal.GetValueRefOrAddDefault(_eventsByType, type, out _)++;
    }

    internal void CountUnrecognised(string source, long line, ReadOnlySpan<byte> text)
    {
        Unrecognised++;
        if (_unrecognisedSamples.Count < MaxSamples)
        {
            _unrecognisedSamples.Add(new SampledLine(source, line, Sample(text), null));
        }
    }

    internal void CountMalformed(string source, long line, ReadOnlySpan<byte> text, string reason)
    {
        Malformed++;
        if (_malformedSamples.Count < MaxSamples)
        {
            _malformedSamples.Add(new SampledLine(source, line, Sample(text), reason));
        }
    }

    /// <summary>Adds another reader's counts (samples up to the limit), e.g. to total several files.</summary>
    public void Add(IngestStatistics other)
    {
        LinesRead += other.LinesRead;
        Records += other.Records;
        Events += other.Events;
        EventRecords += other.EventRecords;
        LinesCut += other.LinesCut;
        Informational += other.Informational;
        BlankLines += other.BlankLines;
        WrappedLinesJoined += other.WrappedLinesJoined;
        Unrecognised += other.Unrecognised;
        Malformed += other.Malformed;
        XeRecordsUnclassified += other.XeRecordsUnclassified;
        XeRecordsNotModelled += other.XeRecordsNotModelled;
        Bytes += other.Bytes;
        foreach (var s in other._unclassifiedXeSamples)
        {
            if (_unclassifiedXeSamples.Count < MaxSamples)
            {
                _unclassifiedXeSamples.Add(s);
            }
        }
        foreach (var (type, count) in other._eventsByType)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(_eventsByType, type, out _) += count;
        }
        foreach (var s in other._unrecognisedSamples)
        {
            if (_unrecognisedSamples.Count < MaxSamples)
            {
                _unrecognisedSamples.Add(s);
            }
        }
        foreach (var s in other._malformedSamples)
        {
            if (_malformedSamples.Count < MaxSamples)
            {
                _malformedSamples.Add(s);
            }
        }
    }

    private static string Sample(ReadOnlySpan<byte> text)
        => Encoding.UTF8.GetString(text.Length > MaxSampleBytes ? text[..MaxSampleBytes] : text);
}
