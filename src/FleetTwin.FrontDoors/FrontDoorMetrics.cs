using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FleetTwin.Twin.Telemetry;

namespace FleetTwin.FrontDoors;

/// <summary>The doors a record can come in by (metric tag <c>door</c>).</summary>
public static class Door
{
    public const string SyslogUdp = "syslog-udp";
    public const string SyslogTcp = "syslog-tcp";
    /// <summary>Syslog over TLS (RFC 5425), port 6514.</summary>
    public const string SyslogTls = "syslog-tls";
    public const string HttpNdjson = "http-ndjson";
    public const string HttpText = "http-text";
    /// <summary>RELP (rsyslog's omrelp): acknowledged per record once handed over.</summary>
    public const string Relp = "relp";
    /// <summary>The gRPC bidirectional IngestStream: acknowledged per batch once handed over.</summary>
    public const string GrpcStream = "grpc-stream";
}

/// <summary>Why a door turned input away (metric tag <c>reason</c>).</summary>
public static class RejectReason
{
    /// <summary>More unpublished records than <see cref="FrontDoorOptions.MaxUnpublishedRecords"/> (UDP drops, HTTP 429).</summary>
    public const string TwinBusy = "twin_busy";
    public const string RateLimited = "rate_limited";
    public const string RecordTooLarge = "record_too_large";
    public const string RequestTooLarge = "request_too_large";
    /// <summary>A syslog frame not starting with <c>&lt;PRI&gt;</c> (RFC 5424 §6.2.1, RFC 3164 §4.1.1).</summary>
    public const string NotSyslog = "not_syslog";
    /// <summary>An octet-counted frame cut off by the connection closing.</summary>
    public const string TruncatedFrame = "truncated_frame";
    public const string MalformedJson = "malformed_json";
    public const string InvalidHost = "invalid_host";
    public const string MissingField = "missing_field";
    public const string TooManyConnections = "too_many_connections";
    public const string IdleTimeout = "idle_timeout";
    /// <summary>An HTTP request whose records were not handed to the twin in time (503).</summary>
    public const string HandOverTimeout = "hand_over_timeout";
    /// <summary>The journal did not take the records (HTTP 503; on TCP/UDP, best-effort doors, the records are lost and counted).</summary>
    public const string JournalUnavailable = "journal_unavailable";
    /// <summary>The HTTP doors were asked while the silo is starting or stopping (503).</summary>
    public const string NotRunning = "not_running";
    /// <summary>Events whose host is unknown (no header host, no host field or parameter).</summary>
    public const string NoHost = "no_host";
    /// <summary>Records the parser counted as malformed (IngestStatistics.Malformed).</summary>
    public const string MalformedRecord = "malformed_record";
    /// <summary>A RELP frame that breaks the grammar of librelp's doc/relp.md (TXNR SP COMMAND SP DATALEN [SP DATA] LF).</summary>
    public const string RelpMalformedFrame = "relp_malformed_frame";
    /// <summary>A RELP frame whose DATALEN is over the record limit.</summary>
    public const string RelpFrameTooLarge = "relp_frame_too_large";
    /// <summary>A RELP TXNR that is not the one after the previous frame's (doc/relp.md: monotonically increasing from 1).</summary>
    public const string RelpTxnrOutOfOrder = "relp_txnr_out_of_order";
    /// <summary>A RELP command before <c>open</c>, a second <c>open</c>, or an <c>open</c> without a <c>relp_version</c> offer.</summary>
    public const string RelpNotOpen = "relp_not_open";
    /// <summary>A RELP command the door does not offer (it offers <c>commands=syslog</c>), answered <c>rsp 500</c>.</summary>
    public const string RelpUnknownCommand = "relp_unknown_command";
    /// <summary>Records whose hand-over to the twin failed: RELP answered <c>rsp 500</c>, gRPC an error status.</summary>
    public const string HandOverFailed = "hand_over_failed";
}

/// <summary>
/// Front-door counters on the <c>FleetTwin</c> meter: records accepted per door, every rejection with door and
/// reason, records waiting for the twin, open TCP connections. Kept in process too, so tests and the start-up
/// summary can read them.
/// </summary>
public sealed class FrontDoorMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _published;
    private readonly Histogram<double> _handOver;
    private readonly ConcurrentDictionary<(string Door, string Reason), long> _rejections = new();
    private readonly ConcurrentDictionary<string, long> _acceptedByDoor = new(StringComparer.Ordinal);
    private long _connections;
    private long _published_total;

    public FrontDoorMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(TwinMetrics.MeterName) ?? new Meter(TwinMetrics.MeterName);
        _accepted = _meter.CreateCounter<long>("fleettwin.frontdoor.records", "{record}", "Records accepted by a front door, by door");
        _rejected = _meter.CreateCounter<long>("fleettwin.frontdoor.rejected", "{record}", "Input a front door turned away, by door and reason");
        _published = _meter.CreateCounter<long>("fleettwin.frontdoor.events.published", "{event}", "Events the front doors handed to host streams");
        _handOver = _meter.CreateHistogram<double>("fleettwin.frontdoor.handover", "ms", "Time from a record's arrival to its events being on the host stream");
        _meter.CreateObservableUpDownCounter("fleettwin.frontdoor.connections", () => Interlocked.Read(ref _connections), "{connection}", "Open syslog TCP connections");
        _meter.CreateObservableUpDownCounter("fleettwin.frontdoor.unpublished", () => Unpublished?.Invoke() ?? 0, "{record}", "Records accepted and not yet handed to the twin");
    }

    internal Func<long>? Unpublished { get; set; }

    public void Accepted(string door, long records)
    {
        if (records <= 0)
            return;
        _accepted.Add(records, new KeyValuePair<string, object?>("door", door));
        _acceptedByDoor.AddOrUpdate(door, records, (_, n) => n + records);
    }

    public void Rejected(string door, string reason, long count = 1)
    {
        _rejected.Add(count, new KeyValuePair<string, object?>("door", door), new KeyValuePair<string, object?>("reason", reason));
        _rejections.AddOrUpdate((door, reason), count, (_, n) => n + count);
    }

    public void Published(long events)
    {
        _published.Add(events);
        Interlocked.Add(ref _published_total, events);
    }

    public void HandOver(TimeSpan elapsed) => _handOver.Record(elapsed.TotalMilliseconds);

    public void ConnectionOpened() => Interlocked.Increment(ref _connections);

    public void ConnectionClosed() => Interlocked.Decrement(ref _connections);

    /// <summary>Rejections so far for one door and reason.</summary>
    public long RejectedCount(string door, string reason) => _rejections.GetValueOrDefault((door, reason));

    public long AcceptedCount(string door) => _acceptedByDoor.GetValueOrDefault(door);

    public long PublishedEvents => Interlocked.Read(ref _published_total);

    public long OpenConnections => Interlocked.Read(ref _connections);

    public IReadOnlyDictionary<(string Door, string Reason), long> Rejections => _rejections;

    public void Dispose() => _meter.Dispose();
}
