namespace FleetTwin.Domain.Events;

/// <summary>
/// Something the twin learned from a host: one typed fact per recognised log record or command-output block.
/// Properties are simple (string, numbers, DateTimeOffset?, arrays) so the records map one-to-one onto stream
/// messages later; every event keeps where it came from so an operator can go back to the raw text.
/// </summary>
public abstract record TwinEvent
{
    /// <summary>The event kind in snake_case, e.g. <c>swiotlb_exhausted</c>; stable, used as the JSON <c>type</c>.</summary>
    public abstract string Type { get; }

    /// <summary>dom0 host name: the syslog header's host, else the shell prompt's, else the reader's default (--host); null when nothing names it.</summary>
    public string? Host { get; init; }

    /// <summary>Seconds since the host booted, from the kernel's printk timestamp <c>[2777545.972710]</c>, when the record has one.</summary>
    public double? Uptime { get; init; }

    /// <summary>Wall-clock time when the record carries one (syslog, journal, RFC 5424, dmesg -T); null otherwise.</summary>
    public DateTimeOffset? Time { get; init; }

    /// <summary>File the record was read from (<c>-</c> for standard input).</summary>
    public string SourceFile { get; init; } = "";

    /// <summary>1-based line number of the record (of its first line for multi-line records).</summary>
    public long SourceLine { get; init; }
}
