namespace FleetTwin.Silo;

/// <summary>
/// The silo's well-known ports and paths. The Kubernetes manifests in k8s/ must use the same values; a deployment test
/// reads both and fails when they drift apart.
/// </summary>
public static class SiloEndpoints
{
    /// <summary>HTTP/1.1: metrics, health (and the HTTP ingest door).</summary>
    public const int HttpPort = 8080;

    public const string MetricsPath = "/metrics";

    /// <summary>Liveness: the process serves HTTP.</summary>
    public const string LivePath = "/healthz/live";

    /// <summary>Readiness: the silo has joined the cluster and answers grain calls.</summary>
    public const string ReadyPath = "/healthz/ready";

    /// <summary>The Orleans Dashboard (the web console is at /).</summary>
    public const string DashboardPath = "/orleans";
}
