namespace FleetTwin.Ingest.Recognisers;

/// <summary>What a recogniser made of a message.</summary>
internal enum Recognition : byte
{
    /// <summary>Not this recogniser's; let the next one look.</summary>
    NoMatch,

    /// <summary>Produced (or contributed to) an event.</summary>
    Event,

    /// <summary>A known line that carries no fact the twin needs (e.g. <c>blkback: ring-ref 8</c>).</summary>
    Informational,

    /// <summary>Started like a known message but its fields did not parse (e.g. cut off by a truncated line).</summary>
    Malformed,
}
