using System.Collections.Concurrent;
using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Demand;

namespace FleetTwin.Domain.Simulation;

/// <summary>
/// The fast path's model of one host configuration: for a grid of host transmit rates, the rate of survivable
/// out-of-space records, the panic rate, the mean pool occupancy and sizes of failed mappings, all measured by running
/// the exact allocator (<see cref="SwiotlbWorkloadRun"/>) in short windows at that constant rate, bursts included.
/// Between grid points rates are interpolated log-linearly; below the lowest measured failure level they are zero.
/// </summary>
/// <remarks>
/// Why windows and not the whole run: a 10GbE port moves ~140k jumbo frames a second, so even the sampled exact run
/// costs ~60 µs per host-second; a 1,000-host week is 6e8 host-seconds. Exhaustion depends on how fragmented the pool
/// is at the traffic level of the moment, which a window of an hour at that level reaches; so the exact model decides
/// the physics and the fleet engine only samples arrival processes from it.
/// </remarks>
public sealed class HazardTable
{
    /// <summary>Multipliers of the reference rate measured (the reference is the host's rate at scenario start).</summary>
    public static readonly double[] Grid = [0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8];

    private HazardTable(double[] rates, HazardPoint[] points, double panicShare, int[] survivableSizes, int[] panicSizes)
    {
        Rates = rates;
        Points = points;
        PanicShare = panicShare;
        SurvivableSizes = survivableSizes;
        PanicSizes = panicSizes;
    }

    /// <summary>Host transmit rates (packets/s, summed over ports) of the grid points, ascending.</summary>
    public double[] Rates { get; }

    public HazardPoint[] Points { get; }

    /// <summary>Share of failed mappings that panicked, pooled over all levels (the thinning of the failure stream).</summary>
    public double PanicShare { get; }

    /// <summary>Sizes of survivable failed mappings seen in the windows (what simulated records print).</summary>
    public int[] SurvivableSizes { get; }

    /// <summary>Sizes of the failed mappings that panicked.</summary>
    public int[] PanicSizes { get; }

    /// <summary>Failures per second (survivable and panicking) and mean occupancy at a host transmit rate.</summary>
    public (double FailuresPerSecond, double Occupancy) At(double hostRate)
    {
        if (hostRate <= Rates[0])
            return (Points[0].FailuresPerSecond * (hostRate / Rates[0]), Points[0].Occupancy);
        for (var i = 1; i < Rates.Length; i++)
        {
            if (hostRate > Rates[i])
                continue;
            var t = Math.Log(hostRate / Rates[i - 1]) / Math.Log(Rates[i] / Rates[i - 1]);
            double a = Points[i - 1].FailuresPerSecond, b = Points[i].FailuresPerSecond;
            var failures = a > 0 && b > 0 ? Math.Exp(Math.Log(a) + t * (Math.Log(b) - Math.Log(a))) : a + t * (b - a);
            return (failures, Points[i - 1].Occupancy + t * (Points[i].Occupancy - Points[i - 1].Occupancy));
        }
        var last = Points[^1];
        return (last.FailuresPerSecond * hostRate / Rates[^1], last.Occupancy);
    }

    /// <summary>
    /// Measures a configuration: from the highest grid level down, a warm-up then a measured window at each constant
    /// rate; after a panic the host reboots and the measurement goes on. Stops at the first
    /// level with no failure (failures only grow with the rate). Deterministic for the seed.
    /// </summary>
    public static HazardTable Calibrate(HostModel host, double referenceHostRate, int seed, int warmupSeconds = 300, int windowSeconds = 1800)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (referenceHostRate <= 0)
            referenceHostRate = 1000;
        var rates = Grid.Select(g => g * referenceHostRate).ToArray();
        var points = new HazardPoint[rates.Length];
        long failures = 0, panics = 0;
        var survivable = new List<int>();
        var panicSizes = new List<int>();
        var stopped = false;
        for (var level = rates.Length - 1; level >= 0; level--)
        {
            if (stopped)
            {
                points[level] = new HazardPoint(0, 0, points[level + 1].Occupancy * rates[level] / rates[level + 1]);
                continue;
            }
            var run = new SwiotlbWorkloadRun(host.Workload(HostWorkloadDefaults.SampledMappingsPerSecondPerPort), HostSeed.For(seed, $"level{level}"));
            run.Boot();
            var perPort = new double[host.Ports.Count];
            long levelFailures = 0, levelPanics = 0, measured = 0;
            double occupancy = 0;
            var warm = 0;
            void OnRecord(SwiotlbRecord r)
            {
                if (warm < warmupSeconds || !r.Message.Contains("Out of SW-IOMMU", StringComparison.Ordinal))
                    return;
                levelFailures++;
                var bytes = BytesOf(r.Message);
                if (bytes > SwiotlbGeometry.OverflowBufferBytes)
                {
                    if (panicSizes.Count < 512)
                        panicSizes.Add(bytes);
                }
                else if (survivable.Count < 4096)
                {
                    survivable.Add(bytes);
                }
            }
            for (var second = 0L; measured < windowSeconds; second++)
            {
                for (var p = 0; p < perPort.Length; p++)
                    perPort[p] = rates[level] * host.Ports[p].Share * host.Ports[p].Bursts.FactorAt(second);
                var panicked = run.RunSecond(perPort, OnRecord);
                if (warm < warmupSeconds)
                {
                    warm++;
                }
                else
                {
                    measured++;
                    occupancy += (double)run.Region.SlabsInUse / run.Region.Size.Slabs;
                }
                if (panicked)
                {
                    if (warm >= warmupSeconds)
                        levelPanics++;
                    run.Reboot(); // measured on: a host right after a reboot is part of the level's life
                }
            }
            failures += levelFailures;
            panics += levelPanics;
            var seconds = Math.Max(1, measured);
            points[level] = new HazardPoint(levelFailures / (double)seconds, levelPanics / (double)seconds, occupancy / seconds);
            if (levelFailures == 0)
                stopped = true;
        }
        survivable.Sort();
        panicSizes.Sort();
        var share = failures > 0 ? panics / (double)failures : 0;
        return new HazardTable(rates, points, share, [.. survivable], [.. panicSizes]);
    }

    private static int BytesOf(string outOfSpace)
    {
        // "... Out of SW-IOMMU space for N bytes at device BDF"
        var at = outOfSpace.IndexOf(" space for ", StringComparison.Ordinal) + " space for ".Length;
        var end = outOfSpace.IndexOf(' ', at);
        return int.Parse(outOfSpace.AsSpan(at, end - at), System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>One measured level: failed mappings per second (all), panics per second, mean share of slabs in use.</summary>
public readonly record struct HazardPoint(double FailuresPerSecond, double PanicsPerSecond, double Occupancy);

/// <summary>Calibrations of one simulation run, shared between hosts of the same configuration (thread-safe, deterministic).</summary>
public sealed class HazardCache(int scenarioSeed)
{
    private readonly ConcurrentDictionary<string, Lazy<HazardTable>> _tables = new(StringComparer.Ordinal);

    private long _calibrationTicks;

    public int Count => _tables.Count;

    /// <summary>Time spent calibrating, summed over threads (exact windows; the fleet steps are the rest).</summary>
    public TimeSpan CalibrationTime => TimeSpan.FromTicks(Interlocked.Read(ref _calibrationTicks));

    /// <summary>The table of a configuration; its seed comes from the configuration key, not from which host asked first.</summary>
    public HazardTable For(HostModel host, double referenceHostRate)
    {
        var key = host.Key + "|" + referenceHostRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return _tables.GetOrAdd(key, k => new Lazy<HazardTable>(() =>
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var table = HazardTable.Calibrate(host, referenceHostRate, HostSeed.For(scenarioSeed, k));
            Interlocked.Add(ref _calibrationTicks, System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks);
            return table;
        })).Value;
    }
}
