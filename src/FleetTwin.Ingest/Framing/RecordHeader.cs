namespace FleetTwin.Ingest.Framing;

/// <summary>What a record's prefix said, as offsets into the record's bytes (no copies, no strings).</summary>
internal struct RecordHeader
{
    public RecordFamily Family;

    /// <summary>Offset of the message text within the record.</summary>
    public int MessageStart;

    public int HostStart;

    /// <summary>0 when the prefix names no host.</summary>
    public int HostLength;

    /// <summary>printk time in seconds since boot; NaN when the prefix has none.</summary>
    public double Uptime;

    /// <summary>Month/day/clock without a year (BSD syslog): the reader supplies the year.</summary>
    public bool HasYearlessTime;
    public int Month, Day, Hour, Minute, Second;
    public long FractionTicks;

    /// <summary>A complete time stamp (RFC 3339, dmesg -T with its year).</summary>
    public bool HasFullTime;
    public DateTimeOffset FullTime;

    public static RecordHeader Empty => new() { Uptime = double.NaN };
}

/// <summary>Outcome of looking at a record prefix.</summary>
internal enum HeaderStatus : byte
{
    /// <summary>A complete prefix; the message follows.</summary>
    Parsed,

    /// <summary>Not a known prefix: treat the text as bare (command output or unrecognised).</summary>
    NotAHeader,

    /// <summary>Started like a known prefix but broke off (e.g. a truncated <c>&lt;4&gt;[27775</c>).</summary>
    Malformed,
}
