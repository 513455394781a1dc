namespace FleetTwin.Twin.Hosting;

/// <summary>
/// How a silo or client joins the twin. With no <see cref="RedisConnectionString"/> it is the embedded default:
/// localhost clustering and in-memory grain storage. With one, cluster mode: Redis membership
/// (Microsoft.Orleans.Clustering.Redis) and Redis grain storage (Microsoft.Orleans.Persistence.Redis). Chosen by
/// configuration alone (section <c>FleetTwin</c>, e.g. environment <c>FleetTwin__RedisConnectionString</c>).
/// </summary>
public sealed record TwinClusterOptions
{
    public const string Section = "FleetTwin";

    /// <summary>StackExchange.Redis connection string (<c>localhost:6379</c>); null for the embedded default.</summary>
    public string? RedisConnectionString { get; init; }

    public string ClusterId { get; init; } = "fleettwin";

    public string ServiceId { get; init; } = "fleettwin";

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; init; } = 11111;

    /// <summary>Client gateway port (the CLI's replay connects here).</summary>
    public int GatewayPort { get; init; } = 30000;

    /// <summary>Address other silos reach this one at (cluster mode); defaults to the host's first address.</summary>
    public string? AdvertisedAddress { get; init; }

    /// <summary>
    /// Running as a Kubernetes pod with Microsoft.Orleans.Hosting.Kubernetes: silo name, advertised address and
    /// cluster/service ids come from the pod (POD_NAME, POD_IP, ORLEANS_CLUSTER_ID, ORLEANS_SERVICE_ID) instead of
    /// the settings above. Cluster membership still goes through Redis.
    /// </summary>
    public bool KubernetesHosting { get; init; }

    /// <summary>
    /// How often a host at warning or critical is re-assessed while it logs nothing, so its level comes down after
    /// quiet (the critical hold, the recent-failure window) without waiting for its next line.
    /// </summary>
    public TimeSpan QuietCheckInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The durable ingest journal of cluster mode (section <c>FleetTwin:Journal</c>; docs/durability.md). The embedded
    /// default keeps Orleans memory streams: a batch acknowledged there lives only in the silo's memory.
    /// </summary>
    public Journal.JournalOptions Journal { get; init; } = new();

    /// <summary>
    /// TLS and credentials for Redis (section <c>FleetTwin:Redis</c>): every Redis user (membership, grain storage,
    /// the journal) connects with what <see cref="TwinRedis.Configuration"/> builds from them.
    /// </summary>
    public RedisSecurityOptions Redis { get; init; } = new();

    public bool IsClusterMode => !string.IsNullOrWhiteSpace(RedisConnectionString);

    /// <summary>
    /// Where the Orleans silo and gateway ports listen: loopback on the embedded default and for a cluster-mode silo
    /// advertised at a loopback address (several silos on one machine: nothing else can reach it anyway), null (every
    /// interface) otherwise, as under Kubernetes hosting where the pod IP is advertised.
    /// </summary>
    public System.Net.IPAddress? OrleansListenAddress =>
        !IsClusterMode ? System.Net.IPAddress.Loopback
        : !KubernetesHosting && System.Net.IPAddress.TryParse(AdvertisedAddress, out var advertised) && System.Net.IPAddress.IsLoopback(advertised) ? advertised
        : null;
}
