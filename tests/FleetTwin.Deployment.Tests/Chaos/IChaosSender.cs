using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace FleetTwin.Deployment.Tests.Chaos;

/// <summary>
/// One kind of sender in the chaos test: it delivers every batch of its <see cref="ChaosWork"/> (its own hosts) and
/// calls <see cref="ChaosWork.Acknowledge"/> once per batch, when the batch counts as acknowledged: for HTTP a 2xx;
/// for the gRPC stream the batch's ack; for rsyslog the moment the records are handed to rsyslog (rsyslog cannot be
/// asked what the silo answered, so the test holds it to every record handed over). Anything that is not an
/// acknowledgement (refused, reset, timed out, 5xx, a broken stream) means the batch is sent again, to another silo
/// where the sender can choose one.
/// </summary>
internal interface IChaosSender
{
    string Name { get; }

    /// <summary>Returns once every batch of <paramref name="work"/> is acknowledged.</summary>
    Task RunAsync(ChaosWork work, CancellationToken cancellationToken);
}

/// <summary>One exhaustion record of one host, at an uptime no other record of the host has.</summary>
internal readonly record struct ChaosRecord(string Host, int Index)
{
    public string Message => string.Create(CultureInfo.InvariantCulture,
        $"kernel: [{10_000 + Index}.{Index % 1_000_000:000000}] PCI-DMA: Out of SW-IOMMU space for 65536 bytes at device 0000:04:00.1");

    /// <summary>The record as kern.log holds it (BSD syslog, RFC 3164, without a PRI): the header names the host.</summary>
    public string KernLogLine => $"Dec  3 10:00:00 {Host} {Message}";
}

/// <summary>A batch of one sender kind's records; <see cref="Id"/> names it in acks and messages.</summary>
internal sealed record ChaosBatch(string Id, int Index, ChaosRecord[] Records);

/// <summary>
/// What one sender kind has to deliver: <c>hosts x recordsPerHost</c> records of its own hosts (<c>{prefix}-000</c>...),
/// record k of every host before record k+1 (each batch holds many hosts, as a shipper's buffer does), in batches due
/// at <c>recordsPerSecond</c> from <see cref="Start"/>; and what was acknowledged of them, per host.
/// </summary>
internal sealed class ChaosWork
{
    private readonly ConcurrentQueue<ChaosBatch> _batches;
    private readonly ConcurrentDictionary<string, int> _acknowledged = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, bool> _acknowledgedBatches = new();
    private readonly Func<IReadOnlyList<SiloProcess>> _liveSilos;
    private readonly int _recordsPerSecond;
    private readonly int _batchRecords;
    private readonly Stopwatch _clock = new();
    private int _acknowledgedRecords;
    private int _attempts;

    public ChaosWork(string prefix, int hosts, int recordsPerHost, int batchRecords, int recordsPerSecond, Func<IReadOnlyList<SiloProcess>> liveSilos)
    {
        Prefix = prefix;
        Hosts = [.. Enumerable.Range(0, hosts).Select(h => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{h:000}"))];
        RecordsPerHost = recordsPerHost;
        var records = from k in Enumerable.Range(0, recordsPerHost) from host in Hosts select new ChaosRecord(host, k);
        _batches = new(records.Chunk(batchRecords).Select((b, i) => new ChaosBatch(string.Create(CultureInfo.InvariantCulture, $"{prefix}-b{i}"), i, b)));
        Batches = _batches.Count;
        Records = hosts * recordsPerHost;
        _batchRecords = batchRecords;
        _recordsPerSecond = recordsPerSecond;
        _liveSilos = liveSilos;
    }

    public string Prefix { get; }

    public IReadOnlyList<string> Hosts { get; }

    public int RecordsPerHost { get; }

    public int Records { get; }

    public int Batches { get; }

    /// <summary>Records acknowledged so far (each once: a batch acknowledged twice fails the test).</summary>
    public int AcknowledgedRecords => Volatile.Read(ref _acknowledgedRecords);

    /// <summary>Acknowledged records per host.</summary>
    public IReadOnlyDictionary<string, int> Acknowledged => _acknowledged;

    /// <summary>Sends of a batch (posts, stream writes, file appends), first ones and repeats.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>Seconds from <see cref="Start"/> to the last acknowledgement.</summary>
    public double Seconds { get; private set; }

    public void Start() => _clock.Start();

    /// <summary>The next batch not yet taken, in order; false once all are taken.</summary>
    public bool TryTake(out ChaosBatch batch) => _batches.TryDequeue(out batch!);

    /// <summary>Waits until <paramref name="batch"/> is due (the pace keeps the ingest long enough for the kills to land mid-ingest).</summary>
    public async Task WaitDueAsync(ChaosBatch batch, CancellationToken cancellationToken)
    {
        var due = TimeSpan.FromSeconds((double)batch.Index * _batchRecords / _recordsPerSecond) - _clock.Elapsed;
        if (due > TimeSpan.Zero)
            await Task.Delay(due, cancellationToken);
    }

    public void Attempted() => Interlocked.Increment(ref _attempts);

    /// <summary>The silos running now, in the test's order.</summary>
    public SiloProcess[] LiveSilos() => [.. _liveSilos().Where(s => !s.Process.HasExited)];

    /// <summary>A live silo at random, other than <paramref name="avoid"/> when another one is live; null when none is.</summary>
    public SiloProcess? PickSilo(SiloProcess? avoid = null)
    {
        var live = LiveSilos();
        var others = live.Where(s => s != avoid).ToArray();
        var choice = others.Length > 0 ? others : live;
        return choice.Length == 0 ? null : choice[Random.Shared.Next(choice.Length)];
    }

    /// <summary>Counts <paramref name="batch"/>'s records as acknowledged; a batch acknowledged twice is a sender's bug and fails the test.</summary>
    public void Acknowledge(ChaosBatch batch)
    {
        Assert.True(_acknowledgedBatches.TryAdd(batch.Index, true), $"{Prefix}: batch {batch.Id} acknowledged twice");
        foreach (var record in batch.Records)
            _acknowledged.AddOrUpdate(record.Host, 1, (_, n) => n + 1);
        Interlocked.Add(ref _acknowledgedRecords, batch.Records.Length);
        Seconds = _clock.Elapsed.TotalSeconds;
    }
}
