using System.Diagnostics;
using System.Threading.Channels;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Ingest;
using FleetTwin.Twin.Journal;
using FleetTwin.Twin.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FleetTwin.FrontDoors;

/// <summary>
/// The long-lived ingest path behind every front door: chunks of raw records from many connections go through one
/// channel to one consumer that owns the parsers (one <see cref="LogParser"/> per source, like one per file in
/// replay) and a <see cref="HostBatchPublisher"/> (the per-host queues replay uses too). Doors run on many threads;
/// only the consumer touches parsers and queues. Admission is bounded by records not yet published, so a twin that
/// falls behind pushes back on the doors. A chunk's <see cref="RecordChunk.HandedOver"/> completes once every event
/// read before it is on its host stream — in cluster mode appended to the durable journal — and faults with a
/// <see cref="JournalUnavailableException"/> when they could not be (docs/durability.md): a door acknowledges
/// exactly what is durable.
/// </summary>
public sealed class LiveIngest : BackgroundService
{
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
    private readonly List<RecordChunk> _awaitingHandOver = [];
    private readonly TimeSpan _maxStreamLag = TimeSpan.FromSeconds(2);
    private HostBatchPublisher? _publisher;
    private long _unpublished;
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
        // A failed publish is retried for JournalRetrySeconds, then the requests waiting on it get 503 + Retry-After.
        _publisher = new HostBatchPublisher(_client, _options.BatchSize, retryFor: TimeSpan.FromSeconds(_options.JournalRetrySeconds));
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
                    if (_publisher!.PendingEvents > 0 || _awaitingHandOver.Count > 0)
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
                    if (sinceFlush.Elapsed >= interval || _publisher!.PendingEvents >= MaxPendingEvents)
                        break;
                }
                if (sinceFlush.Elapsed >= interval || _publisher!.PendingEvents >= MaxPendingEvents)
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
        var before = _publisher!.PendingEvents;
        foreach (var key in done)
        {
            Complete(_sources[key]);
            _sources.Remove(key);
        }
        return _publisher.PendingEvents - before;
    }

    private void Complete(SourceParser source)
    {
        _currentDoor = source.Door;
        source.Parser.Complete();
    }

    private void Accept(TwinEvent e)
    {
        if (!_publisher!.Accept(e))
            _metrics.Rejected(_currentDoor, RejectReason.NoHost);
    }

    /// <summary>
    /// Publishes every pending event (hosts in parallel, each host's batches in order) and then releases the chunks
    /// read before it: their HTTP requests get their 2xx once the journal has every event, or a 503 when it did not
    /// take them (nothing of such a flush is published again: its senders were not acknowledged and retry).
    /// </summary>
    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        await WaitForStreamLagAsync(cancellationToken);
        var events = (long)_publisher!.PendingEvents;
        Exception? failure = null;
        try
        {
            await _publisher.DrainAsync();
            _metrics.Published(events);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            failure = error as JournalUnavailableException ?? new JournalUnavailableException($"the twin's streams did not take the records: {error.Message}", error);
            _log.LogWarning(error, "front doors: {Events} events not published; {Chunks} requests are answered 503", events, _awaitingHandOver.Count);
            var lost = 0L;
            foreach (var chunk in _awaitingHandOver)
            {
                if (chunk.HandedOver is null)
                    lost += chunk.Records;
            }
            if (lost > 0)
                _metrics.Rejected(_currentDoor, RejectReason.JournalUnavailable, lost);
        }
        // Idle host queues are dropped so a fleet that renamed its hosts does not keep them forever.
        if (_publisher.Hosts > 16_384)
            _publisher.ForgetIdleHosts();
        var now = Stopwatch.GetTimestamp();
        foreach (var chunk in _awaitingHandOver)
        {
            Interlocked.Add(ref _unpublished, -chunk.Admitted);
            if (chunk.Records > 0)
                _metrics.HandOver(Stopwatch.GetElapsedTime(chunk.ArrivedAt, now));
            if (failure is null)
                chunk.HandedOver?.TrySetResult();
            else
                chunk.HandedOver?.TrySetException(failure);
            chunk.Release();
        }
        _awaitingHandOver.Clear();
    }

    /// <summary>
    /// While this silo's host grains apply batches later than the bound after publishing them, publishing pauses:
    /// the memory stream queues would otherwise absorb a burst the grains cannot apply and lag would grow unbounded.
    /// </summary>
    private async Task WaitForStreamLagAsync(CancellationToken cancellationToken)
    {
        long? pausedAt = null;
        while (true)
        {
            var (lag, observedAt) = _twinMetrics.LastStreamLag;
            if (lag <= _maxStreamLag || Environment.TickCount64 - observedAt > FreshLagMilliseconds)
            {
                if (pausedAt is { } start && Environment.TickCount64 - start >= 1000)
                    _log.LogWarning("front doors: publishing paused {Seconds:0.0} s while the host grains applied batches {Lag:0.0} s after publishing them", (Environment.TickCount64 - start) / 1000.0, lag.TotalSeconds);
                return;
            }
            pausedAt ??= Environment.TickCount64;
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

    private sealed class Sink(LiveIngest owner) : ITwinEventSink
    {
        public void Accept(TwinEvent twinEvent) => owner.Accept(twinEvent);
    }
}
