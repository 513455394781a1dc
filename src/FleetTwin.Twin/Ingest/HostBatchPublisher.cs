using FleetTwin.Domain.Events;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Journal;
using FleetTwin.Twin.Streams;
using Orleans.Streams;

namespace FleetTwin.Twin.Ingest;

/// <summary>
/// The one way events reach the host grains, shared by replay (<see cref="TwinIngestor"/>) and the live front doors:
/// events are queued per subject host, announced to the fleet directory once per host, and published as
/// <see cref="HostEventBatch"/>es on the host's stream (the durable journal in cluster mode), each host's batches in
/// order with at most one publish in flight per host and a bound on hosts publishing at once. Callers keep only their
/// read loop and flush policy. Not thread-safe: one reader owns it.
/// </summary>
public sealed class HostBatchPublisher
{
    /// <summary>Hosts publishing at once; enough to keep both cores busy without flooding the stream queues.</summary>
    public const int DefaultMaxPublishesInFlight = 64;

    /// <summary>
    /// How long a publish waits for the fleet directory to take its new hosts. The directory is one grain: while the
    /// silo it lived on is dead and not yet declared so (Orleans' failure detection, ~15-20 s), a call to it hangs, and
    /// the doors' acknowledgements must not (the records are in the journal already). A registration still running
    /// goes on behind the next publishes; one that failed late is tried again with the next new hosts.
    /// </summary>
    public static readonly TimeSpan RegistrationWait = TimeSpan.FromSeconds(2);

    private readonly IClusterClient _client;
    private readonly IStreamProvider _streams;
    private readonly int _batchSize;
    private readonly int _maxInFlight;
    private readonly TimeSpan _retryFor;
    private readonly Dictionary<string, HostQueue> _hosts = new(StringComparer.Ordinal);
    private readonly List<string> _unregistered = [];
    private readonly List<Task> _inFlight = [];
    private Registration? _registration;
    private int _pendingEvents;

    /// <param name="client">The cluster client (in a silo process, the co-hosted one).</param>
    /// <param name="batchSize">Events per stream item (per journal entry).</param>
    /// <param name="retryFor">
    /// How long a failed publish is retried before it fails (a silo restarting, the journal's Redis failing over).
    /// Short on purpose: a door answers 503 in seconds rather than hold its sender for a minute.
    /// </param>
    public HostBatchPublisher(IClusterClient client, int batchSize = 512, int maxPublishesInFlight = DefaultMaxPublishesInFlight, TimeSpan retryFor = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPublishesInFlight, 1);
        _client = client;
        _streams = client.GetStreamProvider(TwinStreams.Provider);
        _batchSize = batchSize;
        _maxInFlight = maxPublishesInFlight;
        _retryFor = retryFor;
    }

    /// <summary>Called before a host's first publish (replay reads the host's applied count to wait for its own events).</summary>
    public Func<string, Task>? BeforeFirstPublish { get; init; }

    /// <summary>Called before each batch goes out with its first event (replay paces by the log's time).</summary>
    public Func<TwinEvent, Task>? BeforeBatch { get; init; }

    /// <summary>Events accepted and not yet handed to a publish.</summary>
    public int PendingEvents => _pendingEvents;

    /// <summary>Hosts this publisher has events for.</summary>
    public int Hosts => _hosts.Count;

    /// <summary>Events published so far, per host.</summary>
    public IReadOnlyDictionary<string, long> PublishedByHost => _hosts.ToDictionary(h => h.Key, h => h.Value.Published, StringComparer.Ordinal);

    /// <summary>Stream items published so far.</summary>
    public long Batches { get; private set; }

    /// <summary>Queues an event for its subject host; false when it names no host (the caller counts it).</summary>
    public bool Accept(TwinEvent e)
    {
        var host = SubjectHost(e);
        if (host is null)
            return false;
        if (!_hosts.TryGetValue(host, out var queue))
        {
            _hosts[host] = queue = new HostQueue(_streams.GetStream<HostEventBatch>(TwinStreams.ForHost(host)));
            _unregistered.Add(host);
        }
        queue.Pending.Add(e);
        _pendingEvents++;
        return true;
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

    /// <summary>The host's baseline set by <see cref="BeforeFirstPublish"/> callers, kept with the host's queue.</summary>
    public long Baseline(string host) => _hosts.TryGetValue(host, out var q) ? q.Baseline : -1;

    public void SetBaseline(string host, long baseline)
    {
        if (_hosts.TryGetValue(host, out var q))
            q.Baseline = baseline;
    }

    /// <summary>
    /// Starts publishing pending events: with <paramref name="onlyFullBatches"/> only whole batches (replay, while the
    /// reader goes on), else everything pending. Each host has at most one publish in flight (its batches arrive in
    /// order); at most the in-flight bound publish at once, and this waits while the bound is reached. A publish that
    /// failed surfaces here or in <see cref="DrainAsync"/>.
    /// </summary>
    public async Task PublishAsync(bool onlyFullBatches)
    {
        StartRegistration();
        foreach (var (host, queue) in _hosts)
        {
            if (queue.Sending is { IsCompleted: false })
                continue;
            if (queue.Sending is { } finished)
            {
                queue.Sending = null;
                await finished; // surfaces a failed publish
            }
            var ready = onlyFullBatches ? queue.Pending.Count / _batchSize * _batchSize : queue.Pending.Count;
            if (ready == 0)
                continue;
            // Hand the events over and start a fresh list: the reader appends while this publish is in flight.
            var events = queue.Pending.GetRange(0, ready);
            queue.Pending.RemoveRange(0, ready);
            _pendingEvents -= ready;
            queue.Sending = PublishHostAsync(host, queue, events);
            _inFlight.Add(queue.Sending);
            if (_inFlight.Count >= _maxInFlight)
            {
                await Task.WhenAny(_inFlight);
                _inFlight.RemoveAll(t => t.IsCompleted);
            }
        }
        await AwaitRegistrationAsync();
    }

    /// <summary>
    /// Publishes everything pending (hosts that were still sending get their rest after their publish) and waits for
    /// every publish to complete. Throws the first failure (a <see cref="JournalUnavailableException"/> when the
    /// journal did not take a batch) after all have ended; the failed events are not queued again (not acknowledged:
    /// their senders retry).
    /// </summary>
    public async Task DrainAsync()
    {
        Exception? failure = null;
        while (true)
        {
            try
            {
                await PublishAsync(onlyFullBatches: false);
            }
            catch (Exception error)
            {
                failure ??= error;
            }
            foreach (var queue in _hosts.Values)
            {
                if (queue.Sending is not { } sending)
                    continue;
                try
                {
                    await sending;
                }
                catch (Exception error)
                {
                    failure ??= error;
                }
                queue.Sending = null;
            }
            _inFlight.Clear();
            if (_pendingEvents == 0 || failure is not null)
                break;
        }
        if (failure is not null)
        {
            // What was not published is dropped: it was never acknowledged.
            foreach (var queue in _hosts.Values)
                queue.Pending.Clear();
            _pendingEvents = 0;
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>Forgets hosts with nothing pending or in flight (a fleet that renamed its hosts does not keep them forever).</summary>
    public void ForgetIdleHosts()
    {
        List<string>? idle = null;
        foreach (var (host, queue) in _hosts)
        {
            if (queue.Pending.Count == 0 && queue.Sending is null)
                (idle ??= []).Add(host);
        }
        if (idle is null)
            return;
        foreach (var host in idle)
            _hosts.Remove(host);
    }

    /// <summary>Announces the hosts not announced yet to the fleet directory, in one call, unless one is still running.</summary>
    private void StartRegistration()
    {
        if (_registration is { Call.IsCompleted: true } late)
        {
            // Finished after the publish that started it stopped waiting: a failure is tried again with the next hosts.
            if (!late.Call.IsCompletedSuccessfully)
                _unregistered.AddRange(late.Hosts);
            _ = late.Call.Exception; // observed here, not by the finalizer
            _registration = null;
        }
        if (_registration is not null || _unregistered.Count == 0)
            return;
        string[] hosts = [.. _unregistered];
        _unregistered.Clear();
        _registration = new Registration(WithRetriesAsync(() => _client.GetGrain<IFleetGrain>(TwinGrainKeys.Fleet).RegisterHosts(hosts)), hosts);
    }

    /// <summary>
    /// Waits (at most <see cref="RegistrationWait"/>, once per registration: the publishes after the one that started it
    /// do not wait for it again) for the registration; one that failed in time fails the publish (again next time).
    /// </summary>
    private async Task AwaitRegistrationAsync()
    {
        if (_registration is not { WaitedFor: false } registration)
            return; // none, or one an earlier publish waited for: the next publish's StartRegistration looks at its end
        registration.WaitedFor = true;
        try
        {
            await registration.Call.WaitAsync(RegistrationWait);
        }
        catch (TimeoutException) when (!registration.Call.IsCompleted)
        {
            return; // still running: looked at again by the next publish
        }
        catch
        {
            _registration = null;
            _unregistered.AddRange(registration.Hosts);
            throw;
        }
        _registration = null;
    }

    /// <summary>A call announcing <see cref="Hosts"/> to the fleet directory, and whether a publish has waited for it.</summary>
    private sealed class Registration(Task call, string[] hosts)
    {
        public Task Call { get; } = call;
        public string[] Hosts { get; } = hosts;
        public bool WaitedFor { get; set; }
    }

    private async Task PublishHostAsync(string host, HostQueue queue, List<TwinEvent> events)
    {
        if (queue.Baseline < 0 && BeforeFirstPublish is { } first)
            await first(host);
        for (var start = 0; start < events.Count; start += _batchSize)
        {
            var count = Math.Min(_batchSize, events.Count - start);
            var batch = events.Count <= _batchSize ? events.ToArray() : events.GetRange(start, count).ToArray();
            if (BeforeBatch is { } pace)
                await pace(batch[0]);
            await WithRetriesAsync(() => queue.Stream.OnNextAsync(new HostEventBatch(host, batch, DateTimeOffset.UtcNow)));
            queue.Published += count;
            Batches++;
        }
    }

    /// <summary>
    /// Retries a failed call for at most the retry window (a publish is idempotent for the twin: a batch appended twice
    /// is applied once for its stamped records), then fails with what the journal said.
    /// </summary>
    private async Task WithRetriesAsync(Func<Task> action)
    {
        var started = Environment.TickCount64;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await action();
                return;
            }
            catch (Exception error) when (error is not OperationCanceledException && Environment.TickCount64 - started < _retryFor.TotalMilliseconds)
            {
                await Task.Delay(Math.Min(500, 20 * attempt));
            }
            catch (Exception error) when (error is not JournalUnavailableException and not OperationCanceledException && _retryFor > TimeSpan.Zero)
            {
                throw new JournalUnavailableException($"the twin's streams did not take a batch within {_retryFor.TotalSeconds:0.#} s: {error.Message}", error);
            }
        }
    }

    private sealed class HostQueue(IAsyncStream<HostEventBatch> stream)
    {
        public IAsyncStream<HostEventBatch> Stream { get; } = stream;
        public List<TwinEvent> Pending { get; } = [];
        public Task? Sending { get; set; }
        public long Published { get; set; }
        public long Baseline { get; set; } = -1;
    }
}
