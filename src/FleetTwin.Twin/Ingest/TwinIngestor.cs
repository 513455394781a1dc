using System.Diagnostics;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Streams;
using Orleans.Streams;

namespace FleetTwin.Twin.Ingest;

/// <summary>What one ingest run did.</summary>
public sealed record IngestReport(
    IReadOnlyList<IngestStatistics> Files,
    IReadOnlyDictionary<string, long> EventsByHost,
    long Batches,
    long EventsWithoutHost);

/// <summary>
/// The ingest path into the twin: raw log text -> <see cref="LogParser"/> -> typed events -> per-host batches on the
/// host's Orleans stream. Used by <c>fleettwin replay</c> and <c>analyze</c>, and by the silo's own front doors.
/// Events of one host are published in log order with at most one batch in flight per host; hosts publish in parallel.
/// </summary>
public sealed class TwinIngestor
{
    private readonly IClusterClient _client;
    private readonly int _batchSize;
    private readonly double? _speed;
    private readonly Dictionary<string, HostQueue> _hosts = new(StringComparer.Ordinal);
    private long _batches;
    private long _withoutHost;
    private readonly Stopwatch _clock = new();
    private double? _firstEventSeconds;

    /// <param name="client">The cluster client (in a silo process, the co-hosted one).</param>
    /// <param name="batchSize">Events per stream item.</param>
    /// <param name="speed">Replay pace as a multiple of the log's own time (null: as fast as possible).</param>
    public TwinIngestor(IClusterClient client, int batchSize = 512, double? speed = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (speed is <= 0)
            throw new ArgumentOutOfRangeException(nameof(speed), speed, "replay speed must be positive");
        _client = client;
        _batchSize = batchSize;
        _speed = speed;
    }

    /// <summary>Reads and publishes files in order; <paramref name="progress"/> gets bytes read so far.</summary>
    public async Task<IngestReport> IngestFilesAsync(IReadOnlyList<string> paths, LogParserOptions options, IProgress<(string File, long Bytes, long Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        var files = new List<IngestStatistics>();
        foreach (var path in paths)
        {
            Stream stream;
            long total = -1;
            var effective = options with { SourceName = path };
            if (path == "-")
            {
                stream = Console.OpenStandardInput();
            }
            else
            {
                try
                {
                    stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, useAsync: true);
                    total = stream.Length;
                }
                catch (Exception error) when (error is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                {
                    throw new LogSourceException(path, $"cannot read '{path}': {error.Message}", error);
                }
                if (effective.Year is null && effective.ReferenceTime is null)
                    effective = effective with { ReferenceTime = File.GetLastWriteTimeUtc(path) };
            }
            await using (stream)
                files.Add(await IngestAsync(stream, effective, bytes => progress?.Report((path, bytes, total)), cancellationToken));
        }
        return new IngestReport(files, _hosts.ToDictionary(h => h.Key, h => h.Value.Published, StringComparer.Ordinal), _batches, _withoutHost);
    }

    /// <summary>Reads one stream to its end and publishes what it recognises.</summary>
    public async Task<IngestStatistics> IngestAsync(Stream stream, LogParserOptions options, Action<long>? bytesRead = null, CancellationToken cancellationToken = default)
    {
        var sink = new Sink(this);
        var parser = new LogParser(sink, options);
        var buffer = new byte[1 << 16];
        long bytes = 0;
        int read;
        try
        {
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                parser.Write(buffer.AsSpan(0, read));
                bytes += read;
                bytesRead?.Invoke(bytes);
                await PublishAsync(onlyFullBatches: true);
            }
        }
        catch (IOException error)
        {
            throw new LogSourceException(options.SourceName, $"{options.SourceName}: read failed after {bytes} bytes: {error.Message}", error);
        }
        parser.Complete();
        await PublishAsync(onlyFullBatches: false);
        return parser.Statistics;
    }

    /// <summary>
    /// Waits until every host this ingestor published to has taken all of it from its stream (applied or recognised
    /// as duplicate), so a caller can read a settled twin.
    /// </summary>
    public async Task WaitUntilAppliedAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = Stopwatch.StartNew();
        foreach (var (host, queue) in _hosts)
        {
            var grain = _client.GetGrain<IHostGrain>(host);
            while (await grain.GetProcessedEvents() < queue.Baseline + queue.Published)
            {
                if (deadline.Elapsed > timeout)
                    throw new TimeoutException($"host {host} has not applied its {queue.Published} events within {timeout.TotalSeconds:0} s");
                await Task.Delay(20, cancellationToken);
            }
        }
    }

    private void Accept(TwinEvent e)
    {
        var host = SubjectHost(e);
        if (host is null)
        {
            _withoutHost++;
            return;
        }
        if (!_hosts.TryGetValue(host, out var queue))
            _hosts[host] = queue = new HostQueue(_client.GetStreamProvider(TwinStreams.Provider).GetStream<HostEventBatch>(TwinStreams.ForHost(host)));
        queue.Pending.Add(e);
    }

    /// <summary>
    /// The host an event is about. Usually the host that logged it; but xe run on the pool master lists every host's
    /// PIFs and hosts, and those facts belong to the host they name.
    /// </summary>
    private static string? SubjectHost(TwinEvent e) => e switch
    {
        PifFact { HostName: { Length: > 0 } name } => name,
        XenHostFact { NameLabel: { Length: > 0 } name } => name,
        _ => e.Host,
    };

    private async Task PublishAsync(bool onlyFullBatches)
    {
        var sends = new List<Task>();
        foreach (var (host, queue) in _hosts)
        {
            if (queue.Pending.Count == 0 || (onlyFullBatches && queue.Pending.Count < _batchSize))
                continue;
            sends.Add(PublishHostAsync(host, queue, onlyFullBatches));
        }
        await Task.WhenAll(sends);
    }

    private async Task PublishHostAsync(string host, HostQueue queue, bool onlyFullBatches)
    {
        if (queue.Baseline < 0)
            queue.Baseline = await _client.GetGrain<IHostGrain>(host).GetProcessedEvents();
        var start = 0;
        while (queue.Pending.Count - start >= (onlyFullBatches ? _batchSize : 1))
        {
            var count = Math.Min(_batchSize, queue.Pending.Count - start);
            var events = queue.Pending.GetRange(start, count).ToArray();
            await PaceAsync(events[0]);
            await queue.Stream.OnNextAsync(new HostEventBatch(host, events, DateTimeOffset.UtcNow));
            queue.Published += count;
            Interlocked.Increment(ref _batches);
            start += count;
        }
        queue.Pending.RemoveRange(0, start);
    }

    /// <summary>With a replay speed, waits until the batch's first event is due (log time / speed since the first event).</summary>
    private async Task PaceAsync(TwinEvent first)
    {
        if (_speed is not { } speed)
            return;
        var seconds = first.Time?.ToUnixTimeMilliseconds() / 1000.0 ?? first.Uptime;
        if (seconds is null)
            return;
        if (_firstEventSeconds is null)
        {
            _firstEventSeconds = seconds;
            _clock.Start();
            return;
        }
        var due = TimeSpan.FromSeconds(Math.Max(0, (seconds.Value - _firstEventSeconds.Value) / speed));
        var wait = due - _clock.Elapsed;
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait);
    }

    private sealed class HostQueue(IAsyncStream<HostEventBatch> stream)
    {
        public IAsyncStream<HostEventBatch> Stream { get; } = stream;
        public List<TwinEvent> Pending { get; } = [];
        public long Published { get; set; }
        public long Baseline { get; set; } = -1;
    }

    private sealed class Sink(TwinIngestor owner) : ITwinEventSink
    {
        public void Accept(TwinEvent twinEvent) => owner.Accept(twinEvent);
    }
}
