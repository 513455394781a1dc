using System.Globalization;
using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Drivers;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;

namespace FleetTwin.Domain.Prediction;

/// <summary>Tunables of the predictor. The defaults are calibrations (docs/prediction.md says on what).</summary>
public sealed record PredictorOptions
{
    /// <summary>How far ahead the panic probability looks.</summary>
    public TimeSpan Horizon { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Pairs of windows (short, long) ending now over which failure rates are estimated, as in multi-window burn-rate
    /// alerting: a pair's rate is the lower of its two windows' (the long one says the rate is real, the short one
    /// that it still holds), and the host's rate is the highest pair's. Short pairs react to a KB-like burst within
    /// minutes; long ones see a steady stream.
    /// </summary>
    public IReadOnlyList<(double ShortSeconds, double LongSeconds)> RateWindows { get; init; } =
        [(600, 3600), (3600, 6 * 3600), (6 * 3600, 24 * 3600)];

    /// <summary>
    /// Prior exposure: a host counts as quiet for this long before its log starts. Calibration: with it one failure
    /// is never more than a warning, while three within ten minutes on a bnx2x host are critical (the KB's first three
    /// came in 143 s).
    /// </summary>
    public double PriorExposureHours { get; init; } = 1;

    /// <summary>Credibility of the rate interval; its lower end is the rate the evidence supports.</summary>
    public double RateCredibility { get; init; } = 0.8;

    /// <summary>Failures within this long (in host uptime) keep a host at least at warning ("plan the GRO change").</summary>
    public double RecentFailureSeconds { get; init; } = 24 * 3600;

    /// <summary>A host that was critical stays critical this long after the last failure that made it so (hysteresis: one alert per change).</summary>
    public double CriticalHoldSeconds { get; init; } = 6 * 3600;

    /// <summary>Probability of a panic within the horizon from which a host is critical.</summary>
    public double CriticalProbability { get; init; } = 0.5;

    /// <summary>Probability from which a host is at least warning.</summary>
    public double WarningProbability { get; init; } = 0.05;

    /// <summary>
    /// Share of failed TX mappings that are over the 32 KiB overflow buffer when the NIC's driver profile is unknown.
    /// Calibration: in the KB incident 1 of 18 failed mappings was (17 survived, the 33,302-byte one panicked).
    /// </summary>
    public double DefaultOverflowShare { get; init; } = 1.0 / 18;

    /// <summary>A VM start at most this long before the first failure is named as what preceded it.</summary>
    public double PrecedingVmStartSeconds { get; init; } = 1800;

    public static PredictorOptions Default { get; } = new();
}

/// <summary>
/// One host's predicted risk at one moment: level, probability of a swiotlb panic within the horizon and the expected
/// time to it (both null when there is no evidence to estimate them from), and a one-line reason an operator can check.
/// </summary>
public sealed record PanicPrediction(
    string Host,
    RiskLevel Level,
    double? ProbabilityWithinHorizon,
    TimeSpan Horizon,
    double? ExpectedSecondsToPanic,
    string Reason,
    double? AtUptime,
    ExhaustionEvidence? Evidence,
    LatentAssessment? Latent);

/// <summary>What the host's exhaustion records say at the moment of assessment.</summary>
/// <param name="EventsInWindow">Failures within <see cref="PredictorOptions.RecentFailureSeconds"/>.</param>
/// <param name="EventsThisBoot">Failures seen this boot (of the kept records).</param>
/// <param name="CoveredSeconds">How much of this boot the host's log covers up to now (its exposure, quiet time included).</param>
/// <param name="CoverStart">The uptime the log's coverage starts at.</param>
/// <param name="Rate">The rate estimate of the window that decided (the highest pair's lower window).</param>
/// <param name="RateWindowSeconds">Length of that window.</param>
/// <param name="HazardPerHour">Panics per hour the evidence supports: Σ over failing devices of their share of the rate x their overflow share.</param>
/// <param name="PathKnown">True when every failing device's mapping path is known; else the probability is what it would be if the unknown ones map singly.</param>
public sealed record ExhaustionEvidence(
    int EventsInWindow,
    int EventsThisBoot,
    double CoveredSeconds,
    double CoverStart,
    FailureRate Rate,
    double RateWindowSeconds,
    string Trend,
    long SmallestBytes,
    long MedianBytes,
    long LargestBytes,
    IReadOnlyList<DeviceMappingEvidence> Devices,
    double HazardPerHour,
    bool PathKnown,
    bool KernelPanicsOnOverflow,
    double? FirstUptime,
    VmRunRecord? PrecedingVmStart)
{
    /// <summary>The conservative failure rate per hour (the lower end of the interval).</summary>
    public double RatePerHour => Rate.Lower;
}

/// <summary>
/// Predicts swiotlb panics from a host's evidence (<see cref="HostState"/>) and, when known, its configuration. Pure:
/// the same state, configuration and moment give the same prediction, so a replay can ask at any uptime.
/// <para>
/// The model: every failed mapping is a moment when the pool had no free run for it; a single TX mapping over the
/// 32 KiB overflow buffer that meets such a moment panics (swiotlb_full() with do_panic from swiotlb_map_page). So
/// panics arrive as a thinned stream of failures: hazard = failure rate x share of failing mappings over 32 KiB, and
/// P(panic within H) = 1 - exp(-hazard x H).
/// </para>
/// </summary>
public static class PanicPredictor
{
    public static PanicPrediction Assess(HostState host, HostConfiguration? config = null, double? atUptime = null, PredictorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        options ??= PredictorOptions.Default;
        var at = atUptime ?? host.AssessmentUptime;
        var latent = config is null ? null : LatentRisk.Assess(config);
        var prefix = config is null ? "" : config.Summary() + "; ";

        var panic = host.Panics.LastOrDefault(p => IsSwiotlbPanic(p) && (at is null || p.Uptime is null || p.Uptime <= at));
        if (panic is not null)
        {
            return new PanicPrediction(host.Name, RiskLevel.Critical, 1.0, options.Horizon, 0, Invariant(
                $"{prefix}panicked: {panic.Message}{(panic.CauseBytes is { } b ? $" after a {b}-byte mapping at {panic.CauseDevice} found no room" : "")}; {host.ExhaustionEvents} exhaustion events logged"),
                at, null, latent);
        }

        var evidence = at is { } now ? Evidence(host, config, now, options) : null;
        if (evidence is null)
        {
            if (latent is not null)
                return new PanicPrediction(host.Name, latent.Level, null, options.Horizon, null, latent.Reason, at, null, latent);
            return host.AppliedEvents > 0
                ? new PanicPrediction(host.Name, RiskLevel.Ok, null, options.Horizon, null, "no SWIOTLB exhaustion logged; configuration unknown", at, null, null)
                : new PanicPrediction(host.Name, RiskLevel.Unknown, null, options.Horizon, null, "nothing known yet", at, null, null);
        }

        var (level, probability) = RawLevel(evidence, options);
        var held = "";
        if (level < RiskLevel.Critical && CriticalSince(host, evidence, at!.Value, options) is { } since)
        {
            // Hysteresis: a host that was critical stays so until it has been quiet for the hold, so a burst that
            // pauses does not page twice and a host that stopped failing comes down after a quiet spell.
            level = RiskLevel.Critical;
            held = Invariant($"critical since uptime {since:0.##} (held {Duration(options.CriticalHoldSeconds)} after the last failure that made it so); now: ");
        }
        var reason = prefix + held + Describe(evidence, probability, options);
        if (latent is not null && latent.Level > level)
            level = latent.Level;
        double? expected = evidence.HazardPerHour > 0 ? 3600 / evidence.HazardPerHour : null;
        return new PanicPrediction(host.Name, level, probability, options.Horizon, expected, reason, at, evidence, latent);
    }

    /// <summary>
    /// The level the evidence alone gives: critical when the devices known to map singly make a panic within the
    /// horizon at least <see cref="PredictorOptions.CriticalProbability"/> likely; warning for any recent failure (or a
    /// probability over <see cref="PredictorOptions.WarningProbability"/>); latent for failures that stopped.
    /// </summary>
    private static (RiskLevel Level, double Probability) RawLevel(ExhaustionEvidence evidence, PredictorOptions options)
    {
        var probability = ProbabilityWithin(evidence.HazardPerHour, options);
        var known = ProbabilityWithin(evidence.Rate.Lower * KnownShare(evidence), options);
        if (evidence.EventsInWindow == 0)
            return (probability >= options.WarningProbability ? RiskLevel.Warning : RiskLevel.Latent, probability);
        return (known >= options.CriticalProbability ? RiskLevel.Critical : RiskLevel.Warning, probability);
    }

    private static double ProbabilityWithin(double hazardPerHour, PredictorOptions options) =>
        1 - Math.Exp(-hazardPerHour * options.Horizon.TotalHours);

    /// <summary>
    /// The uptime of the latest failure within the hold at which the evidence was critical, or null. The rate can only
    /// rise at a failure (between failures its windows only age), so asking at those moments is exact; each is asked
    /// with the devices' paths and shares as known now (a device since shown to map scatter-gather no longer holds a
    /// host critical), in O(log n) per window.
    /// </summary>
    private static double? CriticalSince(HostState host, ExhaustionEvidence now, double at, PredictorOptions options)
    {
        var knownShare = KnownShare(now);
        if (knownShare <= 0)
            return null;
        var records = host.Exhaustions;
        var visible = CountVisible(records, at);
        for (var i = visible - 1; i >= 0; i--)
        {
            if (records[i].Uptime is not { } u)
                break;
            if (at - u > options.CriticalHoldSeconds)
                break;
            if (i + 1 < visible && records[i + 1].Uptime == u)
                continue; // the same moment: ask once, with all its records
            var (rate, _) = BestRate(records, i + 1, u, u - now.CoverStart, options);
            if (ProbabilityWithin(rate.Lower * knownShare, options) >= options.CriticalProbability)
                return u;
        }
        return null;
    }

    /// <summary>Failure-weighted overflow share of the devices known to map singly (the others add nothing certain).</summary>
    private static double KnownShare(ExhaustionEvidence evidence)
    {
        double known = 0;
        var all = 0;
        foreach (var d in evidence.Devices)
        {
            all += d.Failures;
            known += d.Path == MappingPath.Single ? d.OverflowShare * d.Failures : 0;
        }
        return all > 0 ? known / all : 0;
    }

    /// <summary>True for the panic swiotlb_full() raises (its message, or a cause found in the records before it).</summary>
    public static bool IsSwiotlbPanic(PanicRecord panic) =>
        panic.CauseBytes is not null || panic.Message.StartsWith("DMA: Random memory", StringComparison.Ordinal);

    /// <summary>
    /// Share of failing TX mappings over the overflow buffer, from a driver's TX size mix: the bands that bounce
    /// (over a page), each weighted by its mean length in slabs, because a longer mapping needs a longer free run and
    /// so fails more often in a fragmented pool; a profile's calibrated FailedMappingOverflowShare wins (bnx2x: 1 in 18, the KB incident's).
    /// </summary>
    public static double OverflowShareOf(DriverProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (profile.FailedMappingOverflowShare is { } calibrated)
            return calibrated;
        double over = 0, all = 0;
        foreach (var band in profile.TxLinearBytesMix)
        {
            var mean = (band.MinBytes + (double)band.MaxBytes) / 2;
            if (mean <= SwiotlbGeometry.PageBytes)
                continue;
            var weight = band.Weight * Math.Ceiling(mean / SwiotlbGeometry.SlabBytes);
            all += weight;
            if (band.MinBytes > SwiotlbGeometry.OverflowBufferBytes)
                over += weight;
        }
        return all > 0 ? over / all : 0;
    }

    private static ExhaustionEvidence? Evidence(HostState host, HostConfiguration? config, double now, PredictorOptions options)
    {
        var records = host.Exhaustions;
        var seen = CountVisible(records, now);
        if (seen == 0)
            return null;
        var visible = seen == records.Count ? (IReadOnlyList<ExhaustionRecord>)records : records.GetRange(0, seen);

        // Exposure: the log seen from its first line this boot to now, quiet time included.
        var coverStart = Math.Min(host.FirstUptime ?? double.MaxValue, visible[0].Uptime ?? now);
        var (best, bestWindow) = BestRate(records, seen, now, Math.Max(0, now - coverStart), options);
        var inWindow = seen - FirstAfter(records, seen, now - options.RecentFailureSeconds);

        // Devices, with their share of the failures of the deciding window (of all seen when it holds none).
        var from = best.Failures > 0 ? FirstAfter(records, seen, now - bestWindow) : 0;
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (var i = from; i < seen; i++)
            counts[records[i].Device] = counts.GetValueOrDefault(records[i].Device) + 1;
        var total = seen - from;
        var devices = new List<DeviceMappingEvidence>(counts.Count);
        double hazard = 0;
        var pathKnown = true;
        var anyPanicPath = false;
        foreach (var (device, count) in counts)
        {
            var path = DeviceMappingPath.Of(device, visible, host.Panics, config, now, options) with { Failures = count };
            devices.Add(path);
            if (path.Path == MappingPath.NoPanic)
                continue;
            anyPanicPath = true;
            pathKnown &= path.Path == MappingPath.Single;
            hazard += best.Lower * count / total * path.OverflowShare;
        }

        var sizes = new long[seen];
        for (var i = 0; i < sizes.Length; i++)
            sizes[i] = records[i].Bytes;
        Array.Sort(sizes);
        var firstThisBoot = visible[0].Uptime;
        var vmStart = firstThisBoot is { } f
            ? host.VmStarts.LastOrDefault(v => v.Uptime is { } u && u <= f && f - u <= options.PrecedingVmStartSeconds)
            : null;
        return new ExhaustionEvidence(inWindow, seen, now - coverStart, coverStart, best, bestWindow, Trend(visible, now),
            sizes[0], sizes[sizes.Length / 2], sizes[^1], devices, hazard, pathKnown, anyPanicPath, firstThisBoot, vmStart);
    }

    /// <summary>
    /// The host's rate at <paramref name="now"/> from the first <paramref name="count"/> records: per window pair the
    /// lower of its two windows' conservative rates, and of the pairs the highest; with the window that gave it.
    /// </summary>
    private static (FailureRate Rate, double WindowSeconds) BestRate(List<ExhaustionRecord> records, int count, double now, double covered,
        PredictorOptions options)
    {
        FailureRate best = default;
        double bestWindow = 0;
        var first = true;
        foreach (var (shortSeconds, longSeconds) in options.RateWindows)
        {
            var shortRate = RateOver(records, count, now, shortSeconds, covered, options);
            var longRate = RateOver(records, count, now, longSeconds, covered, options);
            var (rate, window) = shortRate.Lower <= longRate.Lower ? (shortRate, shortSeconds) : (longRate, longSeconds);
            if (first || rate.Lower > best.Lower)
                (best, bestWindow, first) = (rate, window, false);
        }
        return (best, bestWindow);
    }

    /// <summary>The rate over the <paramref name="windowSeconds"/> before now, exposed for as much of it as the log covers.</summary>
    private static FailureRate RateOver(List<ExhaustionRecord> records, int count, double now, double windowSeconds, double covered,
        PredictorOptions options) =>
        FailureRate.Estimate(count - FirstAfter(records, count, now - windowSeconds), Math.Min(windowSeconds, covered) / 3600,
            options.PriorExposureHours, options.RateCredibility);

    /// <summary>How many records (kept in uptime order, those without an uptime first) are at or before <paramref name="now"/>.</summary>
    private static int CountVisible(List<ExhaustionRecord> records, double now) => FirstAfter(records, records.Count, now);

    /// <summary>
    /// Index of the first of the first <paramref name="count"/> records whose uptime is after <paramref name="uptime"/>.
    /// Binary search: the records are in uptime order, those without an uptime first (before any moment).
    /// </summary>
    private static int FirstAfter(List<ExhaustionRecord> records, int count, double uptime)
    {
        int low = 0, high = count;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if ((records[mid].Uptime ?? double.MinValue) <= uptime)
                low = mid + 1;
            else
                high = mid;
        }
        return low;
    }

    /// <summary>"rising" when the last hour has at least three failures and 1.5x the hour before; "falling" the other way round.</summary>
    private static string Trend(IReadOnlyList<ExhaustionRecord> visible, double now)
    {
        int recent = 0, older = 0;
        foreach (var x in visible)
        {
            if (x.Uptime is not { } u)
                continue;
            if (u > now - 3600)
                recent++;
            else if (u > now - 7200)
                older++;
        }
        if (recent + older < 3)
            return "steady";
        return recent > older * 1.5 ? "rising" : older > recent * 1.5 ? "falling" : "steady";
    }

    private static string Describe(ExhaustionEvidence e, double probability, PredictorOptions options)
    {
        var text = new System.Text.StringBuilder();
        text.Append(Invariant($"{Count(e.EventsThisBoot)} in {Duration(e.CoveredSeconds)} of log"));
        if (e.EventsInWindow == 0)
            text.Append(Invariant($", none in the last {Duration(options.RecentFailureSeconds)}"));
        else
            text.Append(Invariant($", {e.Trend}"));
        text.Append(Invariant($" (rate {e.Rate.Lower:0.##}-{e.Rate.Upper:0.##}/h from {e.Rate.Failures} in the last {Duration(e.RateWindowSeconds)})"));
        if (e.KernelPanicsOnOverflow)
        {
            var margin = SwiotlbGeometry.OverflowBufferBytes - e.LargestBytes;
            text.Append(margin > 0
                ? Invariant($"; largest failed mapping {e.LargestBytes} B, {margin} B under the {SwiotlbGeometry.OverflowBufferBytes} B overflow limit: a failed one over it panics")
                : Invariant($"; failed mappings up to {e.LargestBytes} B, over the {SwiotlbGeometry.OverflowBufferBytes} B overflow limit"));
        }
        else
        {
            text.Append(Invariant($"; largest failed mapping {e.LargestBytes} B; no failing device can panic"));
        }
        text.Append(Invariant($"; sizes {e.SmallestBytes}-{e.LargestBytes} B (median {e.MedianBytes})"));
        foreach (var d in e.Devices)
        {
            var path = d.Path switch { MappingPath.Single => "", MappingPath.NoPanic => "no panic: ", _ => "path unknown: " };
            text.Append(Invariant($"; {d.Device}: {path}{d.Why}"));
        }
        if (e.PrecedingVmStart is { } vm && e.FirstUptime is { } firstUptime && vm.Uptime is { } started)
            text.Append(Invariant($"; first failure {Duration(firstUptime - started)} after domain {vm.Domid} started"));
        if (!e.KernelPanicsOnOverflow)
            return text.ToString();
        text.Append(e.PathKnown
            ? Invariant($"; P(panic in {Duration(options.Horizon.TotalSeconds)}) {probability:P0}")
            : Invariant($"; P(panic in {Duration(options.Horizon.TotalSeconds)}) up to {probability:P0} if the devices of unknown path map singly"));
        if (e.HazardPerHour > 0)
            text.Append(Invariant($", expected in ~{Duration(3600 / e.HazardPerHour)}"));
        return text.ToString();
    }

    private static string Count(int failures) => failures == 1 ? "1 exhaustion event" : Invariant($"{failures} exhaustion events");

    /// <summary>"85 min", "4 min", "1.5 h", "24 h", "3 d".</summary>
    public static string Duration(double seconds) => seconds switch
    {
        < 120 => Invariant($"{seconds:0} s"),
        < 2 * 3600 => Invariant($"{seconds / 60:0} min"),
        < 72 * 3600 => Invariant($"{seconds / 3600:0.#} h"),
        _ => Invariant($"{seconds / 86400:0.#} d"),
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
