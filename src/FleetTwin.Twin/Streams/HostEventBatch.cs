using FleetTwin.Twin.Serialization;
using FleetTwin.Twin.Contracts;
using FleetTwin.Domain.Events;

namespace FleetTwin.Twin.Streams;

/// <summary>
/// The unit that travels on a host's stream: a batch of that host's events in log order. Per-event stream items would
/// cost a grain turn each; a batch costs one (architecture.md: batch, never per event). Serialized through
/// <see cref="HostEventBatchSurrogate"/> in the compact binary form of <see cref="TwinEventBinary"/>; immutable once
/// published (so calls inside a silo pass it without a copy).
/// </summary>
[Immutable]
public sealed record HostEventBatch(string Host, TwinEvent[] Events, DateTimeOffset PublishedAt);

/// <summary>The wire form of a <see cref="HostEventBatch"/>: its events as one <see cref="TwinEventBinary"/> blob.</summary>
[GenerateSerializer, Immutable, Alias("fleettwin.host-event-batch.v2")]
public struct HostEventBatchSurrogate
{
    [Id(0)] public string Host;
    [Id(1)] public byte[] Events;
    [Id(2)] public DateTimeOffset PublishedAt;
}

/// <summary>Tells Orleans to carry <see cref="HostEventBatch"/> as its <see cref="HostEventBatchSurrogate"/>.</summary>
[RegisterConverter]
public sealed class HostEventBatchConverter : IConverter<HostEventBatch, HostEventBatchSurrogate>
{
    public HostEventBatch ConvertFromSurrogate(in HostEventBatchSurrogate surrogate) =>
        new(surrogate.Host, TwinEventBinary.Decode(surrogate.Events), surrogate.PublishedAt);

    public HostEventBatchSurrogate ConvertToSurrogate(in HostEventBatch value) =>
        new() { Host = value.Host, Events = TwinEventBinary.Encode(value.Events), PublishedAt = value.PublishedAt };
}

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

    /// <summary>The provider of the alert stream (explicit subscriptions: the API's watch).</summary>
    public const string AlertProvider = "twin-alerts";

    /// <summary>The fleet's alerts (one stream, key <c>fleet</c>), published by the alert log in sequence order.</summary>
    public const string Alerts = "alerts";

    public static StreamId FleetAlerts { get; } = StreamId.Create(Alerts, TwinGrainKeys.Fleet);
}
