namespace FleetTwin.FrontDoors;

/// <summary>
/// Ports and limits of the front doors (configuration section <c>FleetTwin:FrontDoors</c>, e.g. environment
/// <c>FleetTwin__FrontDoors__SyslogTcpPort=1514</c>). A port of 0 takes a free one (tests); a negative port closes
/// that door.
/// </summary>
public sealed record FrontDoorOptions
{
    public const string Section = "FleetTwin:FrontDoors";

    /// <summary>Address the syslog doors listen on; null: <c>FleetTwin:BindAddress</c>, else 127.0.0.1 on the embedded default, 0.0.0.0 in cluster mode (FleetTwinEndpointOptions).</summary>
    public string? BindAddress { get; init; }

    /// <summary>Syslog over UDP (RFC 5426: one message per datagram). 514 needs root; 5514 is the unprivileged convention.</summary>
    public int SyslogUdpPort { get; init; } = 5514;

    /// <summary>Syslog over TCP (RFC 6587: octet-counting or LF framing, detected per frame).</summary>
    public int SyslogTcpPort { get; init; } = 5514;

    /// <summary>
    /// Syslog over TLS (RFC 5425; 6514 is its IANA port, §4.1). Open only when <c>FleetTwin:Tls</c> is set: the door
    /// serves the same certificate as the RELP, gRPC and HTTP doors and, with <c>FleetTwin:Tls:ClientCaPath</c>,
    /// requires client certificates (rsyslog omfwd with the gtls stream driver; see README).
    /// </summary>
    public int SyslogTlsPort { get; init; } = 6514;

    /// <summary>
    /// RELP (rsyslog's omrelp; librelp doc/relp.md): every record acknowledged once handed over. 2514 is the port
    /// rsyslog's documentation uses for imrelp/omrelp examples; 514 stays free for plain syslog.
    /// </summary>
    public int RelpPort { get; init; } = 2514;

    /// <summary>HTTP doors on the silo's own HTTP server: POST {prefix}/ndjson and POST {prefix}/text?host=…; null or empty closes them.</summary>
    public string? HttpPathPrefix { get; init; } = "/ingest";

    /// <summary>Largest single record (a syslog frame, a JSON line, a text line). rsyslog's default maxMessageSize is 8 KiB.</summary>
    public int MaxRecordBytes { get; init; } = 64 * 1024;

    /// <summary>Largest HTTP request body.</summary>
    public int MaxRequestBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Open syslog TCP connections; one more is closed at once and counted.</summary>
    public int MaxConnections { get; init; } = 4096;

    /// <summary>Records per second one source address may send (0: unlimited). TCP is slowed, UDP drops, HTTP answers 429 (a full bucket takes one request of any size; the source then waits off the debt).</summary>
    public int MaxRecordsPerSecondPerSource { get; init; }

    /// <summary>Records accepted but not yet handed to the twin's streams; beyond it HTTP answers 429, TCP stops reading, UDP drops.</summary>
    public int MaxUnpublishedRecords { get; init; } = 200_000;

    /// <summary>A TCP connection that sends nothing for this long is closed (half-open peers, stuck senders).</summary>
    public double TcpIdleTimeoutSeconds { get; init; } = 300;

    /// <summary>
    /// How long a source may stay silent before its parser is completed: a panic's last frame is only known to be last
    /// when the host says nothing more (kernel/panic.c: nothing follows the trace), so a dying host's panic is
    /// published after this quiet time. TCP sources also complete when the connection closes.
    /// </summary>
    public double SourceQuietSeconds { get; init; } = 2;

    /// <summary>
    /// Shortest time between two publishes while records keep arriving (a record after a quiet spell goes at once):
    /// every publish hands each host with news one batch, and each batch costs its host grain a turn and a state
    /// write, so under steady traffic a longer interval means fewer, larger batches (measured in docs/perf.md:
    /// 250 ms halved the lag at 100,000 records/s against 50 ms).
    /// </summary>
    public double FlushIntervalMilliseconds { get; init; } = 250;

    /// <summary>Events per host batch on the stream.</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>
    /// HTTP: how long a request waits for its records to be handed to the twin before answering 503. The records stay
    /// accepted; a retry is recognised for records with a printk uptime or time stamp, applied again for the others.
    /// </summary>
    public double HandOverTimeoutSeconds { get; init; } = 30;

    /// <summary>
    /// How long a publish the twin's streams (the journal in cluster mode) refused is retried before the requests it
    /// carries are answered 503 with Retry-After: seconds, so a shipper retries elsewhere instead of waiting.
    /// </summary>
    public double JournalRetrySeconds { get; init; } = 2;

    /// <summary>Retry-After (seconds) on 429 and 503.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>NDJSON field holding the log text (Vector: <c>message</c>; Fluent Bit tail: <c>log</c>).</summary>
    public string MessageField { get; init; } = "message";

    /// <summary>NDJSON field holding the sending host (Vector: <c>host</c>; Fluent Bit: add it with a filter).</summary>
    public string HostField { get; init; } = "host";

    /// <summary>NDJSON field holding the record time, RFC 3339 or epoch seconds (Vector: <c>timestamp</c>; Fluent Bit: <c>date</c>).</summary>
    public string TimestampField { get; init; } = "timestamp";
}
