using FleetTwin.Domain.Events;

namespace FleetTwin.Twin.Streams;

/// <summary>
/// The unit that travels on a host's stream: a batch of that host's events in log order. Per-event stream items would
/// cost a grain turn each; a batch costs one (architecture.md: batch, never per event). Serialized as one JSON
/// document (<see cref="TwinJson"/>); immutable once published.
/// </summary>
[Immutable]
public sealed record HostEventBatch(string Host, TwinEvent[] Events, DateTimeOffset PublishedAt);

/// <summary>Names of the twin's stream provider and namespaces.</summary>
public static class TwinStreams
{
    /// <summary>The stream provider every silo and client registers.</summary>
    public const string Provider = "twin";

    /// <summary>One stream per host (stream key = host name); the HostGrain subscribes implicitly.</summary>
    public const string HostEvents = "host-events";

    /// <summary>Storage the stream pub-sub keeps its subscriptions in.</summary>
    public const string PubSubStore = "PubSubStore";

    public static StreamId ForHost(string host) => StreamId.Create(HostEvents, host);

    /// <summary>The fleet's alerts (one stream, key <c>fleet</c>), published by the alert log in sequence order.</summary>
    public const string Alerts = "alerts";

    public static StreamId FleetAlerts { get; } = StreamId.Create(Alerts, "fleet");
}
