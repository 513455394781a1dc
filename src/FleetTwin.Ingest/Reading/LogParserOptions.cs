using FleetTwin.Domain.XenServer;

namespace FleetTwin.Ingest.Reading;

/// <summary>How one input is read.</summary>
public sealed record LogParserOptions
{
    /// <summary>Name used in source positions and error messages (a path, or <c>-</c> for standard input).</summary>
    public string SourceName { get; init; } = "-";

    /// <summary>Host for records that carry none (crash-dump consoles, dmesg, command output without a prompt). A syslog header's or prompt's host always wins.</summary>
    public string? DefaultHost { get; init; }

    /// <summary>Year of the first syslog record (BSD syslog prints none). Takes precedence over <see cref="ReferenceTime"/>.</summary>
    public int? Year { get; init; }

    /// <summary>When the log was last written (the file's modification time): its year, or the year before when the first record's month is later than the reference's month.</summary>
    public DateTimeOffset? ReferenceTime { get; init; }

    /// <summary>Longest line kept whole; longer lines are cut into pieces of this size and counted as malformed.</summary>
    public int MaxLineLength { get; init; } = 1 << 20;

    /// <summary>
    /// How long (in host uptime seconds) all of a domain's devices must stay closed before it counts as stopped.
    /// An HVM guest loading PV drivers closes and re-opens its vif within a fraction of a second (KB log: domain
    /// 174, Closed at 2777317.404 and Initialising again at 2777317.521), which is part of the same start.
    /// </summary>
    public double VmStopGraceSeconds { get; init; } = 10;

    /// <summary>Release table for <c>kernel_boot</c>; the embedded one by default.</summary>
    public XenServerReleaseTable Releases { get; init; } = XenServerReleaseTable.Default;

    /// <summary>Bound on distinct host names and device ids cached per reader (memory stays bounded on hostile input).</summary>
    public int MaxCachedNames { get; init; } = 4096;
}
