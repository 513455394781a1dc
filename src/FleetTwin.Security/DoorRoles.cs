namespace FleetTwin.Security;

/// <summary>
/// What a caller may do, as roles in a token's <c>role</c> claim or a client certificate's OU values. Each is also the
/// name of the authorization policy a door requires; <see cref="Admin"/> passes every policy.
/// </summary>
public static class DoorRoles
{
    /// <summary>Queries (GetHost, ListHosts, pool summaries), the alert watch, /metrics.</summary>
    public const string Read = "read";

    /// <summary>The ingest doors: HTTP NDJSON/text and gRPC IngestService.</summary>
    public const string Ingest = "ingest";

    /// <summary>Rolling plans and what-if runs (PlanService).</summary>
    public const string Plan = "plan";

    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Read, Ingest, Plan, Admin];
}

/// <summary>Endpoint metadata naming the door a request came in by (metric tag <c>door</c> of a refusal).</summary>
public sealed record DoorName(string Name)
{
    public const string Grpc = "grpc";
    public const string Metrics = "metrics";
    public const string Http = "http";
}
