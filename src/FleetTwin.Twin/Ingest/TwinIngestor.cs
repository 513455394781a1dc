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
    /// <summary>Hosts publishing at once; enough to keep both cores busy without flooding the stream queues.</summary>
    private const int MaxBatchesInFlight = 64;

    private const string FleetGrainKey = "fleet";
    private readonly Dictionary<string, HostQueue> _hosts = new(StringComparer.Ordinal);
    private readonly List<string> _unregistered = [];
    private readonly List<Task> _inFlight = [];
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

    /// <summary>Events published so far, per host (what <see cref="IngestAsync"/> callers report).</summary>
    public IReadOnlyDictionary<string, long> PublishedByHost => _hosts.ToDictionary(h => h.Key, h => h.Value.Published, StringComparer.Ordinal);

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
        {
            _hosts[host] = queue = new HostQueue(_client.GetStreamProvider(TwinStreams.Provider).GetStream<HostEventBatch>(TwinStreams.ForHost(host)));
            _unregistered.Add(host);
        }
        queue.Pending.Add(e);
    }

    /// <summary>
    /// The host an event is about. Usually the host that logged it; but xe run on the pool master lists every host's
    /// PIFs and hosts, and those facts belong to the host they name.
    /// </summary>
    public static string? SubjectHost(TwinEvent e) => e switch
    {
        PifFact { HostName: { Length: > 0 } name } => name,
        XenHostFact { NameLabel: { Length: > 0 } name } => name,
        _ => e.Host,
    };

    /// <summary>
    /// Hands pending events to the host streams. Publishing is pipelined with parsing: up to
    /// <see cref="MaxBatchesInFlight"/> hosts publish at once while the reader goes on, but each host has at most one
    /// publish in flight, so its batches arrive in log order. With <paramref name="onlyFullBatches"/> false (end of
    /// input) everything pending is sent and awaited.
    /// </summary>
    private async Task PublishAsync(bool onlyFullBatches)
    {
        while (true)
        {
            var registered = RegisterNewHostsAsync();
            foreach (var (host, queue) in _hosts)
            {
                if (queue.Sending is { IsCompleted: false })
                    continue;
                if (queue.Sending is { } finished)
                {
                    await finished; // surfaces a failed publish
                    queue.Sending = null;
                }
                var ready = onlyFullBatches ? queue.Pending.Count / _batchSize * _batchSize : queue.Pending.Count;
                if (ready == 0)
                    continue;
                // Hand the events over and start a fresh list: the reader appends while this publish is in flight.
                var events = queue.Pending.GetRange(0, ready);
                queue.Pending.RemoveRange(0, ready);
                queue.Sending = PublishHostAsync(host, queue, events);
                _inFlight.Add(queue.Sending);
                if (_inFlight.Count >= MaxBatchesInFlight)
                {
                    await Task.WhenAny(_inFlight);
                    _inFlight.RemoveAll(t => t.IsCompleted);
                }
            }
            await registered;
            if (onlyFullBatches)
                return;
            await Task.WhenAll(_inFlight);
            _inFlight.Clear();
            var pending = false;
            foreach (var queue in _hosts.Values)
            {
                if (queue.Sending is { } done)
                {
                    await done;
                    queue.Sending = null;
                }
                pending |= queue.Pending.Count > 0;
            }
            if (!pending)
                return;
        }
    }

    /// <summary>Adds the hosts this ingestor has not announced yet to the fleet directory, in one call.</summary>
    private Task RegisterNewHostsAsync()
    {
        if (_unregistered.Count == 0)
            return Task.CompletedTask;
        var hosts = _unregistered.ToArray();
        _unregistered.Clear();
        return _client.GetGrain<IFleetGrain>(FleetGrainKey).RegisterHosts(hosts);
    }

    private async Task PublishHostAsync(string host, HostQueue queue, List<TwinEvent> events)
    {
        if (queue.Baseline < 0)
            queue.Baseline = await _client.GetGrain<IHostGrain>(host).GetProcessedEvents();
        for (var start = 0; start < events.Count; start += _batchSize)
        {
            var count = Math.Min(_batchSize, events.Count - start);
            var batch = events.GetRange(start, count).ToArray();
            await PaceAsync(batch[0]);
            await queue.Stream.OnNextAsync(new HostEventBatch(host, batch, DateTimeOffset.UtcNow));
            queue.Published += count;
            Interlocked.Increment(ref _batches);
        }
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
        public Task? Sending { get; set; }
        public long Published { get; set; }
        public long Baseline { get; set; } = -1;
    }

    private sealed class Sink(TwinIngestor owner) : ITwinEventSink
    {
        public void Accept(TwinEvent twinEvent) => owner.Accept(twinEvent);
    }
}
