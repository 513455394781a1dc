using FleetTwin.Ingest.Recognisers;

namespace FleetTwin.Ingest.Reading;

/// <summary>What the reader remembers about one host between its records: a panic being assembled and its domains.</summary>
internal sealed class HostState
{
    public HostState(string? name) => Name = name;

    public string? Name { get; }

    /// <summary>The panic whose context lines (Pid/comm, Call Trace, frames) are still arriving; null otherwise.</summary>
    public PanicBuilder? Panic;

    /// <summary>Guest domains seen on this host in this boot, by domid.</summary>
    public readonly Dictionary<int, DomainState> Domains = [];

    /// <summary>Domains whose devices are all closed and which may still reconnect.</summary>
    public int PendingStops;

    /// <summary>The domain whose devices most recently started initialising without it having started yet (-1: none); blkback lines name no domid and belong to it.</summary>
    public int InitialisingDomid = -1;

    private long _bufferFullBytes = -1;
    private string? _bufferFullDevice;
    private long _bufferFullLine;

    /// <summary>A <c>swiotlb buffer is full (sz: N bytes)</c> warning was logged at <paramref name="line"/>.</summary>
    public void RememberBufferFull(long bytes, string? device, long line)
    {
        _bufferFullBytes = bytes;
        _bufferFullDevice = device;
        _bufferFullLine = line;
    }

    /// <summary>
    /// True when an out-of-space record of <paramref name="bytes"/> at <paramref name="device"/> directly follows
    /// (same or next line) this host's buffer-full warning for the same size and device (an unnamed device matches).
    /// </summary>
    public bool IsSameFailureAsBufferFull(long bytes, string? device, long line)
    {
        if (_bufferFullBytes != bytes || line - _bufferFullLine > 1 || line < _bufferFullLine)
        {
            return false;
        }
        _bufferFullBytes = -1;
        return device is null || _bufferFullDevice is null || string.Equals(device, _bufferFullDevice, StringComparison.Ordinal);
    }
}

/// <summary>The stamp of a record: who, when, where.</summary>
internal readonly record struct RecordContext(HostState Host, double? Uptime, DateTimeOffset? Time, string Source, long Line)
{
    public string? HostName => Host.Name;
}
