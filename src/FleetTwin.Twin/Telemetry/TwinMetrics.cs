using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FleetTwin.Domain.Fleet;

namespace FleetTwin.Twin.Telemetry;

/// <summary>
/// FleetTwin's own meter (<c>FleetTwin</c>): events ingested by type, exhaustion events, panics, hosts by risk level
/// and stream lag. Exported with Orleans' meters through OpenTelemetry by the silo.
/// </summary>
public sealed class TwinMetrics : IDisposable
{
    public const string MeterName = "FleetTwin";

    private readonly Meter _meter;
    private readonly Counter<long> _events;
    private readonly Counter<long> _exhaustions;
    private readonly Counter<long> _panics;
    private readonly Histogram<double> _lag;
    private readonly Counter<long> _deadLetters;
    private long _deadLetterCount;
    private readonly Counter<long> _redeliveries;
    private readonly ConcurrentDictionary<string, RiskLevel> _riskByHost = new(StringComparer.Ordinal);
    private long _lastLagTicks;
    private long _lastLagObservedAt;

    public TwinMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _events = _meter.CreateCounter<long>("fleettwin.events.ingested", "{event}", "Events applied to host twins, by type");
        _exhaustions = _meter.CreateCounter<long>("fleettwin.swiotlb.exhaustions", "{event}", "SWIOTLB exhaustion records applied");
        _panics = _meter.CreateCounter<long>("fleettwin.panics", "{event}", "Kernel panics applied");
        _lag = _meter.CreateHistogram<double>("fleettwin.stream.lag", "ms", "Time from publishing a host batch to its host grain applying it");
        _deadLetters = _meter.CreateCounter<long>("fleettwin.journal.dead_letters", "{entry}",
            "Journal entries moved to the dead-letter stream (undecodable, or delivery kept failing); never dropped");
        _redeliveries = _meter.CreateCounter<long>("fleettwin.journal.redeliveries", "{entry}",
            "Journal entries delivered again to a host that had applied them (skipped: applied once)");
        _meter.CreateObservableGauge("fleettwin.hosts", ObserveHostsByRisk, "{host}", "Hosts by risk level");
    }

    public void EventApplied(string type)
    {
        _events.Add(1, new KeyValuePair<string, object?>("type", type));
        if (type == "swiotlb_exhausted")
            _exhaustions.Add(1);
        else if (type == "kernel_panic")
            _panics.Add(1);
    }

    /// <summary>A journal entry went to the dead letters (docs/durability.md).</summary>
    public void JournalDeadLetter()
    {
        _deadLetters.Add(1);
        Interlocked.Increment(ref _deadLetterCount);
    }

    /// <summary>A host grain skipped a journal entry it had applied (redelivery after a silo's loss).</summary>
    public void JournalRedelivery()
    {
        _redeliveries.Add(1);
        Interlocked.Increment(ref _redeliveryCount);
    }

    /// <summary>Journal entries this process's host grains skipped as already applied.</summary>
    public long JournalRedeliveries => Interlocked.Read(ref _redeliveryCount);

    private long _redeliveryCount;

    /// <summary>Journal entries this process moved to the dead letters.</summary>
    public long JournalDeadLetters => Interlocked.Read(ref _deadLetterCount);

    public void StreamLag(TimeSpan lag)
    {
        _lag.Record(Math.Max(0, lag.TotalMilliseconds));
        Interlocked.Exchange(ref _lastLagTicks, lag.Ticks);
        Interlocked.Exchange(ref _lastLagObservedAt, Environment.TickCount64);
    }

    /// <summary>
    /// The stream lag of the batch a host grain of this silo applied last, and when (<see cref="Environment.TickCount64"/>):
    /// the live front doors slow down while it is above their bound, so lag stays bounded instead of queues growing.
    /// </summary>
    public (TimeSpan Lag, long ObservedAtTickCount) LastStreamLag
        => (TimeSpan.FromTicks(Interlocked.Read(ref _lastLagTicks)), Interlocked.Read(ref _lastLagObservedAt));

    public void TrackHostRisk(string host, RiskLevel level) => _riskByHost[host] = level;

    private IEnumerable<Measurement<long>> ObserveHostsByRisk()
    {
        var counts = new long[(int)RiskLevel.Critical + 1];
        foreach (var level in _riskByHost.Values)
            counts[(int)level]++;
        for (var i = 0; i < counts.Length; i++)
            yield return new Measurement<long>(counts[i], new KeyValuePair<string, object?>("risk", ((RiskLevel)i).ToString().ToLowerInvariant()));
    }

    public void Dispose() => _meter.Dispose();
}
