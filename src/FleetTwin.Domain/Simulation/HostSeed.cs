namespace FleetTwin.Domain.Simulation;

/// <summary>
/// Per-host random seeds derived from the scenario seed and the host's name (FNV-1a, stable across runs and
/// platforms, unlike string.GetHashCode): a host's results do not depend on how many hosts, threads or silos run.
/// </summary>
public static class HostSeed
{
    public static int For(int scenarioSeed, string name)
    {
        var hash = 14695981039346656037UL ^ (uint)scenarioSeed;
        foreach (var c in name)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }
        hash ^= hash >> 29;
        return (int)(hash ^ (hash >> 32)) & int.MaxValue;
    }
}
