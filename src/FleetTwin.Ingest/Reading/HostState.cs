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
}

/// <summary>The stamp of a record: who, when, where.</summary>
internal readonly record struct RecordContext(HostState Host, double? Uptime, DateTimeOffset? Time, string Source, long Line)
{
    public string? HostName => Host.Name;
}
