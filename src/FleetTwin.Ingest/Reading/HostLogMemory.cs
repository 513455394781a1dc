using FleetTwin.Ingest.Recognisers;

namespace FleetTwin.Ingest.Reading;

/// <summary>
/// What the log reader remembers about one host between its records: a panic being assembled, its domains, its last
/// buffer-full warning. Not the twin's host state (FleetTwin.Domain.Fleet.HostState), which is what the twin knows.
/// </summary>
internal sealed class HostLogMemory
{
    public HostLogMemory(string? name) => Name = name;

    public string? Name { get; }

    /// <summary>The panic whose context lines (Pid/comm, Call Trace, frames) are still arriving; null otherwise.</summary>
    public PanicBuilder? Panic;

    /// <summary>Guest domains seen on this host in this boot, by domid.</summary>
    public readonly Dictionary<int, DomainState> Domains = [];

    /// <summary>Domains whose devices are all closed and which may still reconnect.</summary>
    public int PendingStops;

    /// <summary>The domain whose devices most recently started initialising without it having started yet (-1: none); blkback lines name no domid and belong to it.</summary>
    public int InitialisingDomid = -1;

    /// <summary>This host's records so far (its own sequence, so a record wrapped over lines still counts as one).</summary>
    public long Records;

    private long _bufferFullBytes = -1;
    private string? _bufferFullDevice;
    private long _bufferFullRecord;

    /// <summary>This host's current record is a <c>swiotlb buffer is full (sz: N bytes)</c> warning.</summary>
    public void RememberBufferFull(long bytes, string? device)
    {
        _bufferFullBytes = bytes;
        _bufferFullDevice = device;
        _bufferFullRecord = Records;
    }

    /// <summary>
    /// True when this host's current record, a failure of <paramref name="bytes"/> at <paramref name="device"/>,
    /// directly follows its buffer-full warning for the same size and device (an unnamed device matches).
    /// </summary>
    public bool IsSameFailureAsBufferFull(long bytes, string? device)
    {
        if (_bufferFullBytes != bytes || Records - _bufferFullRecord != 1)
        {
            return false;
        }
        _bufferFullBytes = -1;
        return device is null || _bufferFullDevice is null || string.Equals(device, _bufferFullDevice, StringComparison.Ordinal);
    }
}

/// <summary>The stamp of a record: who, when, where.</summary>
internal readonly record struct RecordContext(HostLogMemory Host, double? Uptime, DateTimeOffset? Time, string Source, long Line)
{
    public string? HostName => Host.Name;
}
