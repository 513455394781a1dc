namespace FleetTwin.Ingest;

/// <summary>Marker for the ingest assembly (log readers and event recognisers).</summary>
public static class IngestAssembly;
