using System.Diagnostics;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Contracts;

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
    private readonly double? _speed;
    private readonly HostBatchPublisher _publisher;
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
        _speed = speed;
        _publisher = new HostBatchPublisher(client, batchSize)
        {
            // The host's count before this replay, so WaitUntilAppliedAsync waits for this replay's events only.
            BeforeFirstPublish = async host => _publisher!.SetBaseline(host, await _client.GetGrain<IHostGrain>(host).GetProcessedEvents()),
            BeforeBatch = PaceAsync,
        };
    }

    /// <summary>Events published so far, per host (what <see cref="IngestAsync"/> callers report).</summary>
    public IReadOnlyDictionary<string, long> PublishedByHost => _publisher.PublishedByHost;

    /// <summary>Events that named no host and were therefore not published.</summary>
    public long EventsWithoutHost => _withoutHost;

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
                stream = LogReader.OpenFile(path, options, out effective, asynchronous: true);
                total = stream.Length;
            }
            await using (stream)
                files.Add(await IngestAsync(stream, effective, bytes => progress?.Report((path, bytes, total)), cancellationToken));
        }
        return new IngestReport(files, _publisher.PublishedByHost, _publisher.Batches, _withoutHost);
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
                // Publishing is pipelined with parsing: whole batches go while the reader goes on.
                await _publisher.PublishAsync(onlyFullBatches: true);
            }
        }
        catch (IOException error)
        {
            throw new LogSourceException(options.SourceName, $"{options.SourceName}: read failed after {bytes} bytes: {error.Message}", error);
        }
        parser.Complete();
        await _publisher.DrainAsync();
        return parser.Statistics;
    }

    /// <summary>
    /// Waits until every host this ingestor published to has taken all of it from its stream (applied or recognised
    /// as duplicate), so a caller can read a settled twin.
    /// </summary>
    public async Task WaitUntilAppliedAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = Stopwatch.StartNew();
        foreach (var (host, published) in _publisher.PublishedByHost)
        {
            var grain = _client.GetGrain<IHostGrain>(host);
            var baseline = Math.Max(0, _publisher.Baseline(host));
            while (await grain.GetProcessedEvents() < baseline + published)
            {
                if (deadline.Elapsed > timeout)
                    throw new TimeoutException($"host {host} has not applied its {published} events within {timeout.TotalSeconds:0} s");
                await Task.Delay(20, cancellationToken);
            }
        }
    }

    private void Accept(TwinEvent e)
    {
        if (!_publisher.Accept(e))
            _withoutHost++;
    }

    /// <summary>
    /// The host an event is about. Usually the host that logged it; but xe run on the pool master lists every host's
    /// PIFs and hosts, and those facts belong to the host they name.
    /// </summary>
    public static string? SubjectHost(TwinEvent e) => HostBatchPublisher.SubjectHost(e);

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

    private sealed class Sink(TwinIngestor owner) : ITwinEventSink
    {
        public void Accept(TwinEvent twinEvent) => owner.Accept(twinEvent);
    }
}
