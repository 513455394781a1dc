using System.Diagnostics;
using System.Threading.Channels;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Ingest;
using FleetTwin.Twin.Streams;
using FleetTwin.Twin.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;

namespace FleetTwin.FrontDoors;

/// <summary>
/// The long-lived ingest path behind every front door: chunks of raw records from many connections go through one
/// channel to one consumer that owns the parsers (one <see cref="LogParser"/> per source, like one per file in
/// replay) and the per-host event queues, and publishes <see cref="HostEventBatch"/>es on the host streams exactly
/// as <see cref="TwinIngestor"/> does. Doors run on many threads; only the consumer touches parsers and queues.
/// Admission is bounded by records not yet published, so a twin that falls behind pushes back on the doors.
/// </summary>
public sealed class LiveIngest : BackgroundService
{
    private const string FleetGrainKey = "fleet";
    /// <summary>Hosts publishing at once, as in <see cref="TwinIngestor"/>.</summary>
    private const int MaxPublishesInFlight = 64;
    /// <summary>Events pending before a flush even inside the flush interval (keeps a burst's memory bounded).</summary>
    private const int MaxPendingEvents = 50_000;
    /// <summary>Applied batches older than this say nothing about the twin's current lag.</summary>
    private const long FreshLagMilliseconds = 1000;

    private readonly IClusterClient _client;
    private readonly FrontDoorOptions _options;
    private readonly FrontDoorMetrics _metrics;
    private readonly TwinMetrics _twinMetrics;
    private readonly ILogger<LiveIngest> _log;
    private readonly Channel<RecordChunk> _chunks = Channel.CreateUnbounded<RecordChunk>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, SourceParser> _sources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HostQueue> _hosts = new(StringComparer.Ordinal);
    private readonly List<string> _unregistered = [];
    private readonly List<RecordChunk> _awaitingHandOver = [];
    private readonly SemaphoreSlim _publishSlots = new(MaxPublishesInFlight);
    private readonly TimeSpan _maxStreamLag = TimeSpan.FromSeconds(2);
    private IStreamProvider? _streams;
    private long _unpublished;
    private int _pendingEvents;
    private string _currentDoor = Door.SyslogTcp;
    private volatile bool _running;

    public LiveIngest(IClusterClient client, IOptions<FrontDoorOptions> options, FrontDoorMetrics metrics, TwinMetrics twinMetrics, ILogger<LiveIngest> log)
    {
        _client = client;
        _options = options.Value;
        _metrics = metrics;
        _twinMetrics = twinMetrics;
        _log = log;
        _metrics.Unpublished = () => Interlocked.Read(ref _unpublished);
    }

    /// <summary>False before start and after stop: HTTP answers 503.</summary>
    public bool IsRunning => _running;

    /// <summary>Records accepted and not yet on a host stream.</summary>
    public long Unpublished => Interlocked.Read(ref _unpublished);

    /// <summary>Admits <paramref name="records"/> if the unpublished bound allows (an empty pipeline takes any one request whole).</summary>
    internal bool TryAdmit(int records)
    {
        var now = Interlocked.Add(ref _unpublished, records);
        if (now <= _options.MaxUnpublishedRecords || now == records)
            return true;
        Interlocked.Add(ref _unpublished, -records);
        return false;
    }

    /// <summary>Waits until <paramref name="records"/> fit (TCP: the connection is not read meanwhile, so the sender's window closes).</summary>
    internal async ValueTask AdmitAsync(int records, CancellationToken cancellationToken)
    {
        var delay = 1;
        while (!TryAdmit(records))
        {
            await Task.Delay(delay, cancellationToken);
            delay = Math.Min(delay * 2, 50);
        }
    }

    /// <summary>Hands an admitted chunk to the consumer.</summary>
    internal void Submit(RecordChunk chunk)
    {
        if (!_chunks.Writer.TryWrite(chunk))
            throw new InvalidOperationException("the live ingest has stopped");
    }

    /// <summary>The source (a TCP connection) has ended: its parser completes after its last chunk.</summary>
    internal void EndSource(string door, string source)
        => _chunks.Writer.TryWrite(new RecordChunk(door, source, null, 0) { EndOfSource = true });

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _streams = _client.GetStreamProvider(TwinStreams.Provider);
        _running = true;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _running = false;
        _chunks.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var reader = _chunks.Reader;
        var interval = TimeSpan.FromMilliseconds(_options.FlushIntervalMilliseconds);
        var quiet = TimeSpan.FromSeconds(_options.SourceQuietSeconds);
        var sinceFlush = Stopwatch.StartNew();
        var sinceQuietCheck = Stopwatch.StartNew();
        try
        {
            while (true)
            {
                if (!reader.TryPeek(out _))
                {
                    // Nothing waiting. A record after a quiet spell goes out at once (no batch to fill); under steady
                    // traffic flushes are at least the interval apart, so each host's batch carries the interval's
                    // events instead of one or two (every batch costs the host grain a turn and a state write).
                    if (_pendingEvents > 0 || _awaitingHandOver.Count > 0)
                    {
                        var remaining = interval - sinceFlush.Elapsed;
                        if (remaining > TimeSpan.Zero)
                        {
                            var more = reader.WaitToReadAsync(stoppingToken).AsTask();
                            if (await Task.WhenAny(more, Task.Delay(remaining, stoppingToken)) == more && await more)
                                continue;
                        }
                        await FlushAsync(stoppingToken);
                    }
                    sinceFlush.Restart();
                    if (sinceQuietCheck.Elapsed >= quiet / 4)
                    {
                        sinceQuietCheck.Restart();
                        if (CompleteQuietSources(quiet) > 0)
                            continue;
                    }
                    var wait = reader.WaitToReadAsync(stoppingToken).AsTask();
                    if (await Task.WhenAny(wait, Task.Delay(quiet / 4, stoppingToken)) == wait && !await wait)
                        break; // writer completed: stopping
                    continue;
                }
                while (reader.TryRead(out var chunk))
                {
                    Consume(chunk);
                    if (sinceFlush.Elapsed >= interval || _pendingEvents >= MaxPendingEvents)
                        break;
                }
                if (sinceFlush.Elapsed >= interval || _pendingEvents >= MaxPendingEvents)
                {
                    await FlushAsync(stoppingToken);
                    sinceFlush.Restart();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // Stopping: what was accepted is parsed and published before the silo goes.
        while (reader.TryRead(out var chunk))
            Consume(chunk);
        foreach (var source in _sources.Values)
            Complete(source);
        _sources.Clear();
        await FlushAsync(CancellationToken.None);
    }

    private void Consume(RecordChunk chunk)
    {
        _currentDoor = chunk.Door;
        if (!_sources.TryGetValue(chunk.Source, out var source))
        {
            var options = new LogParserOptions
            {
                SourceName = chunk.Source,
                DefaultHost = chunk.DefaultHost,
                ReferenceTime = DateTimeOffset.UtcNow,
                MaxLineLength = Math.Max(64, _options.MaxRecordBytes + 1),
            };
            _sources[chunk.Source] = source = new SourceParser(new LogParser(new Sink(this), options), chunk.Door);
        }
        source.LastSeen = Environment.TickCount64;
        if (chunk.Length > 0)
        {
            var statistics = source.Parser.Statistics;
            long recognisedBefore = statistics.EventRecords + statistics.Informational, unrecognisedBefore = statistics.Unrecognised, malformedBefore = statistics.Malformed;
            source.Parser.Write(chunk.Bytes);
            // What the sender is told: how many of its records the twin knew (a record wrapped or a panic still being
            // assembled across requests is counted with the request that completes it).
            chunk.Recognised = statistics.EventRecords + statistics.Informational - recognisedBefore;
            chunk.Unrecognised = statistics.Unrecognised - unrecognisedBefore;
            chunk.Malformed = statistics.Malformed - malformedBefore;
            var malformed = source.Parser.Statistics.Malformed;
            if (malformed > source.Malformed)
            {
                _metrics.Rejected(chunk.Door, RejectReason.MalformedRecord, malformed - source.Malformed);
                source.Malformed = malformed;
            }
        }
        if (chunk.EndOfSource)
        {
            Complete(source);
            _sources.Remove(chunk.Source);
        }
        _awaitingHandOver.Add(chunk);
    }

    /// <summary>Completes sources silent for <paramref name="quiet"/>: their last panic is over (see <see cref="FrontDoorOptions.SourceQuietSeconds"/>).</summary>
    private int CompleteQuietSources(TimeSpan quiet)
    {
        var now = Environment.TickCount64;
        List<string>? done = null;
        foreach (var (key, source) in _sources)
        {
            if (now - source.LastSeen >= quiet.TotalMilliseconds)
                (done ??= []).Add(key);
        }
        if (done is null)
            return 0;
        var before = _pendingEvents;
        foreach (var key in done)
        {
            Complete(_sources[key]);
            _sources.Remove(key);
        }
        return _pendingEvents - before;
    }

    private void Complete(SourceParser source)
    {
        _currentDoor = source.Door;
        source.Parser.Complete();
    }

    private void Accept(TwinEvent e)
    {
        var host = TwinIngestor.SubjectHost(e);
        if (host is null)
        {
            _metrics.Rejected(_currentDoor, RejectReason.NoHost);
            return;
        }
        if (!_hosts.TryGetValue(host, out var queue))
        {
            _hosts[host] = queue = new HostQueue(_streams!.GetStream<HostEventBatch>(TwinStreams.ForHost(host)));
            _unregistered.Add(host);
        }
        queue.Pending.Add(e);
        _pendingEvents++;
    }

    /// <summary>
    /// Publishes every pending event (hosts in parallel, each host's batches in order) and then releases the chunks
    /// read before it: their HTTP requests get their 2xx, their records leave the unpublished bound.
    /// </summary>
    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        await WaitForStreamLagAsync(cancellationToken);
        var publishes = new List<Task>();
        if (_unregistered.Count > 0)
        {
            var hosts = _unregistered.ToArray();
            _unregistered.Clear();
            publishes.Add(RetryAsync(() => _client.GetGrain<IFleetGrain>(FleetGrainKey).RegisterHosts(hosts), "register hosts", cancellationToken));
        }
        long events = 0;
        foreach (var (host, queue) in _hosts)
        {
            if (queue.Pending.Count == 0)
                continue;
            var batch = queue.Pending.ToArray();
            queue.Pending.Clear();
            events += batch.Length;
            await _publishSlots.WaitAsync(cancellationToken);
            publishes.Add(PublishAsync(host, queue.Stream, batch, cancellationToken));
        }
        _pendingEvents = 0;
        await Task.WhenAll(publishes);
        _metrics.Published(events);
        // Idle host queues are dropped so a fleet that renamed its hosts does not keep them forever.
        if (_hosts.Count > 16_384)
            _hosts.Clear();
        var now = Stopwatch.GetTimestamp();
        foreach (var chunk in _awaitingHandOver)
        {
            Interlocked.Add(ref _unpublished, -chunk.Admitted);
            if (chunk.Records > 0)
                _metrics.HandOver(Stopwatch.GetElapsedTime(chunk.ArrivedAt, now));
            chunk.HandedOver?.TrySetResult();
            chunk.Release();
        }
        _awaitingHandOver.Clear();
    }

    private async Task PublishAsync(string host, IAsyncStream<HostEventBatch> stream, TwinEvent[] events, CancellationToken cancellationToken)
    {
        try
        {
            for (var start = 0; start < events.Length; start += _options.BatchSize)
            {
                var batch = events.Length <= _options.BatchSize ? events : events[start..Math.Min(events.Length, start + _options.BatchSize)];
                await RetryAsync(() => stream.OnNextAsync(new HostEventBatch(host, batch, DateTimeOffset.UtcNow)), $"publish to host {host}", cancellationToken);
            }
        }
        finally
        {
            _publishSlots.Release();
        }
    }

    /// <summary>
    /// A publish that fails (the stream queue is full, a silo is restarting) is retried, not dropped: the consumer
    /// waits, the doors' bound fills and they push back.
    /// </summary>
    private async Task RetryAsync(Func<Task> action, string what, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await action();
                return;
            }
            catch (Exception error) when (error is not OperationCanceledException && attempt < 50 && !cancellationToken.IsCancellationRequested)
            {
                _log.LogWarning(error, "front doors: {What} failed (attempt {Attempt}), retrying", what, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 20 * attempt)), CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// While this silo's host grains apply batches later than the bound after publishing them, publishing pauses:
    /// the memory stream queues would otherwise absorb a burst the grains cannot apply and lag would grow unbounded.
    /// </summary>
    private async Task WaitForStreamLagAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var (lag, observedAt) = _twinMetrics.LastStreamLag;
            if (lag <= _maxStreamLag || Environment.TickCount64 - observedAt > FreshLagMilliseconds)
                return;
            await Task.Delay(10, cancellationToken);
        }
    }

    private sealed class SourceParser(LogParser parser, string door)
    {
        public LogParser Parser { get; } = parser;
        public string Door { get; } = door;
        public long LastSeen { get; set; }
        public long Malformed { get; set; }
    }

    private sealed class HostQueue(IAsyncStream<HostEventBatch> stream)
    {
        public IAsyncStream<HostEventBatch> Stream { get; } = stream;
        public List<TwinEvent> Pending { get; } = [];
    }

    private sealed class Sink(LiveIngest owner) : ITwinEventSink
    {
        public void Accept(TwinEvent twinEvent) => owner.Accept(twinEvent);
    }
}
