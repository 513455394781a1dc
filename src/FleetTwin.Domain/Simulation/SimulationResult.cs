namespace FleetTwin.Domain.Simulation;

/// <summary>What one simulated host wrote to its kernel log (printed in the kernel's own words by <see cref="KernLogWriter"/>).</summary>
public enum SimulatedRecordKind : byte
{
    /// <summary>The kernel's banner at boot (uptime 0).</summary>
    Boot,

    /// <summary>netback connecting a started VM's vif.</summary>
    VmStarted,

    /// <summary><c>PCI-DMA: Out of SW-IOMMU space for N bytes at device BDF</c>.</summary>
    OutOfSpace,

    /// <summary><c>Kernel panic - not syncing: DMA: Random memory could be DMA read</c>.</summary>
    Panic,
}

/// <summary>One record: seconds since the scenario's start, the host's uptime, and what (bytes/bus id for failures, domid for VM starts).</summary>
public readonly record struct SimulatedRecord(double Time, double Uptime, SimulatedRecordKind Kind, int Bytes, string? BusId);

/// <summary>A panic of a simulated host.</summary>
public sealed record SimulatedPanic(double Time, double Uptime, int Bytes, string BusId);

/// <summary>Everything a host did in a run.</summary>
public sealed class HostOutcome(string name, string pool, int index, double standingRxShare)
{
    public string Name { get; } = name;
    public string Pool { get; } = pool;
    public int IndexInPool { get; } = index;

    /// <summary>Share of the pool the RX rings pinned at the start (the predictor's latent bound).</summary>
    public double StandingRxShare { get; internal set; } = standingRxShare;

    public List<SimulatedPanic> Panics { get; } = [];
    public long Exhaustions { get; internal set; }
    public long VmStarts { get; internal set; }
    public List<SimulatedRecord> Records { get; } = [];

    /// <summary>True when <see cref="Records"/> stopped at the run's per-host limit (counts are still exact).</summary>
    public bool RecordsTruncated { get; internal set; }

    internal long ExhaustionsSinceLastPanic { get; set; }

    /// <summary>Share of slabs in use, one sample per <see cref="SimulationResult.OccupancySampleSeconds"/> (0 while down).</summary>
    public List<float> Occupancy { get; } = [];

    /// <summary>Labels of the interventions that reached this host (at its reboot).</summary>
    public List<string> Interventions { get; } = [];

    /// <summary>
    /// At risk at the end: it logged exhaustion without (or since) its last panic, or its RX rings still pin at least
    /// 10 % of the pool (the predictor's latent level).
    /// </summary>
    public bool AtRisk { get; internal set; }
}

/// <summary>A whole run: per host, with the scenario and how long it took.</summary>
public sealed record SimulationResult(
    Scenario Scenario,
    bool WithInterventions,
    IReadOnlyList<HostOutcome> Hosts,
    int OccupancySampleSeconds,
    TimeSpan Wall,
    int Calibrations,
    double HostSeconds)
{
    public int Panics => Hosts.Sum(h => h.Panics.Count);
    public long Exhaustions => Hosts.Sum(h => h.Exhaustions);
    public int HostsAtRisk => Hosts.Count(h => h.AtRisk);

    /// <summary>The headline speed figure: simulated host-seconds per wall-clock second.</summary>
    public double HostSecondsPerWallSecond => Wall.TotalSeconds > 0 ? HostSeconds / Wall.TotalSeconds : 0;

    /// <summary>Panics per simulated day (day 0 first).</summary>
    public int[] PanicsPerDay()
    {
        var days = (int)Math.Ceiling(Scenario.DurationSeconds / 86400.0);
        var perDay = new int[Math.Max(1, days)];
        foreach (var h in Hosts)
        {
            foreach (var p in h.Panics)
                perDay[Math.Min(perDay.Length - 1, (int)(p.Time / 86400))]++;
        }
        return perDay;
    }
}
