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
    public double CriticalHoldSeconds { get; init; } = 24 * 3600;

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
    LatentAssessment? Latent)
{
    /// <summary>
    /// When <see cref="Level"/> is carried over from the swiotlb panic that ended the previous boot (critical for the
    /// hold after it), the level this boot's own evidence gives; else null. A backtest scores alerts on this one: the
    /// carried level is the panic's own page, not a prediction.
    /// </summary>
    public RiskLevel? OwnBootLevel { get; init; }
}

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
        var own = AssessBoot(host, BootView.Current(host), config, atUptime ?? host.AssessmentUptime, options);
        if (own.Level >= RiskLevel.Critical || own.AtUptime is not { } at || LastBoot(host) is not { } last)
            return own;
        var (level, why, probability, expected) = HowTheLastBootEnded(host, last, config, at, options);
        return level > own.Level
            ? own with
            {
                Level = level, Reason = why + "; this boot: " + own.Reason, OwnBootLevel = own.Level,
                ProbabilityWithinHorizon = probability ?? own.ProbabilityWithinHorizon, ExpectedSecondsToPanic = expected ?? own.ExpectedSecondsToPanic,
            }
            : own;
    }

    /// <summary>
    /// The level the end of the boot before gives the host at <paramref name="atUptime"/> of this boot, whatever this
    /// boot's own evidence says (<see cref="RiskLevel.Unknown"/> in a first boot): the page of a swiotlb panic that
    /// still stands, or the warning of failures in the last boot's final day. The backtest reads it to tell a new page
    /// from an alert the twin raises while the host is critical already.
    /// </summary>
    public static RiskLevel CarriedFromLastBoot(HostState host, HostConfiguration? config, double atUptime, PredictorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        return LastBoot(host) is { } last ? HowTheLastBootEnded(host, last, config, atUptime, options ?? PredictorOptions.Default).Level : RiskLevel.Unknown;
    }

    /// <summary>The boot just before the current one, when the host state keeps it.</summary>
    private static BootSummary? LastBoot(HostState host) =>
        host.PreviousBoots.Count > 0 && host.PreviousBoots[^1] is { } last && last.Boot == host.CurrentBoot - 1 ? last : null;

    /// <summary>
    /// What the end of the boot before says about the host now, for a day after it: a swiotlb panic is the page and
    /// stands for the critical hold (a reboot empties the pool, it changes nothing that fills it); a boot that was
    /// critical when it ended is taken to have ended in the panic (swiotlb_full() panics before anything reaches the
    /// disk: only the console shows it, the KB's kern.log ends in the reboot); failures in its last day keep the host
    /// at least at warning.
    /// </summary>
    private static (RiskLevel Level, string Why, double? Probability, double? ExpectedSeconds) HowTheLastBootEnded(HostState host, BootSummary last, HostConfiguration? config, double at,
        PredictorOptions options)
    {
        if (last.PanicUptime is { } panic)
        {
            var sincePanic = SecondsSince(host, last, panic, at);
            return sincePanic < options.CriticalHoldSeconds
                // It panicked: P = 1 and no time left, as for a panic of this boot (views rank it so).
                ? (RiskLevel.Critical, Invariant($"panicked in the previous boot ({Duration(sincePanic)} ago): swiotlb panic at uptime {panic:0.##} after {last.Exhaustions} exhaustion events{(last.PanicCauseBytes is { } b ? $", a {b}-byte mapping found no room" : "")}"), 1.0, 0)
                : (RiskLevel.Unknown, "", null, null);
        }
        if (last.Exhaustions == 0 || last.LastUptime is not { } end)
            return (RiskLevel.Unknown, "", null, null);
        var sinceEnd = SecondsSince(host, last, end, at);
        if (sinceEnd >= options.RecentFailureSeconds)
            return (RiskLevel.Unknown, "", null, null);
        var atEnd = AssessBoot(host, BootView.Of(host, last), config, end, options);
        if (atEnd.Level >= RiskLevel.Critical && sinceEnd < options.CriticalHoldSeconds)
            return (RiskLevel.Critical, Invariant($"critical when its log stopped {Duration(sinceEnd)} ago and the host rebooted (a swiotlb panic shows only on the console): {atEnd.Reason}"), atEnd.ProbabilityWithinHorizon, atEnd.ExpectedSecondsToPanic);
        if (atEnd.Level >= RiskLevel.Warning)
            return (RiskLevel.Warning, Invariant($"the previous boot logged {last.Exhaustions} exhaustion events until {Duration(sinceEnd)} ago: {atEnd.Reason}"), atEnd.ProbabilityWithinHorizon, atEnd.ExpectedSecondsToPanic);
        return (RiskLevel.Unknown, "", null, null);
    }

    /// <summary>
    /// Time from uptime <paramref name="then"/> of the previous boot to <paramref name="at"/> in this boot: by the wall
    /// clock when both boots' records carried times, else at least this boot's uptime (as if the host had come back at once).
    /// </summary>
    private static double SecondsSince(HostState host, BootSummary last, double then, double at) =>
        last.Started is { } before && host.CurrentBootStarted is { } now
            ? Math.Max(at, (now.AddSeconds(at) - before.AddSeconds(then)).TotalSeconds)
            : at;

    /// <summary>One boot's slice of the host's kept exhaustion records ([Start, End), in uptime order) and where its log starts.</summary>
    private readonly record struct BootView(int Boot, int Start, int End, double? FirstUptime)
    {
        public static BootView Current(HostState host) =>
            new(host.CurrentBoot, host.CurrentBootExhaustionStart(), host.Exhaustions.Count, host.FirstUptime);

        public static BootView Of(HostState host, BootSummary boot)
        {
            var records = host.Exhaustions;
            int start = 0;
            while (start < records.Count && records[start].Boot < boot.Boot)
                start++;
            var end = start;
            while (end < records.Count && records[end].Boot == boot.Boot)
                end++;
            return new(boot.Boot, start, end, boot.FirstUptime);
        }
    }

    private static PanicPrediction AssessBoot(HostState host, BootView boot, HostConfiguration? config, double? at, PredictorOptions options)
    {
        var latent = config is null ? null : LatentRisk.Assess(config);
        var prefix = config is null ? "" : config.Summary() + "; ";

        // Only this boot's panic: the host came back from an earlier one, and that boot's uptimes are not this one's.
        var panic = host.Panics.LastOrDefault(p => p.Boot == boot.Boot && IsSwiotlbPanic(p) && (at is null || p.Uptime is null || p.Uptime <= at));
        if (panic is not null)
        {
            return new PanicPrediction(host.Name, RiskLevel.Critical, 1.0, options.Horizon, 0, Invariant(
                $"{prefix}panicked: {panic.Message}{(panic.CauseBytes is { } b ? $" after a {b}-byte mapping at {panic.CauseDevice} found no room" : "")}; {host.ExhaustionEvents} exhaustion events logged"),
                at, null, latent);
        }

        var evidence = at is { } now ? Evidence(host, boot, config, now, options) : null;
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
        if (level < RiskLevel.Critical && boot.Boot == host.CurrentBoot && RepeatOfLastBoot(host, evidence) is { } last)
        {
            // The boot before ended in a swiotlb panic and this one fails again on a device that maps singly: the
            // configuration that panicked is failing the same way (a reboot empties the pool, it does not change what
            // fills it), so the host is critical from its first failure rather than after a burst.
            level = RiskLevel.Critical;
            held = Invariant($"the last boot ended in a swiotlb panic at uptime {last.PanicUptime:0.##} after {last.Exhaustions} exhaustion events, and this boot fails again; ");
        }
        if (level < RiskLevel.Critical && CriticalSince(host, boot, evidence, at!.Value, options) is { } since)
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
    private static double? CriticalSince(HostState host, BootView boot, ExhaustionEvidence now, double at, PredictorOptions options)
    {
        var knownShare = KnownShare(now);
        if (knownShare <= 0)
            return null;
        var records = host.Exhaustions;
        var start = boot.Start;
        var visible = FirstAfter(records, start, boot.End, at);
        for (var i = visible - 1; i >= start; i--)
        {
            if (records[i].Uptime is not { } u)
                break;
            if (at - u > options.CriticalHoldSeconds)
                break;
            if (i + 1 < visible && records[i + 1].Uptime == u)
                continue; // the same moment: ask once, with all its records
            var (rate, _) = BestRate(records, start, i + 1, u, u - now.CoverStart, options);
            if (ProbabilityWithin(rate.Lower * knownShare, options) >= options.CriticalProbability)
                return u;
        }
        return null;
    }

    /// <summary>The previous boot when it ended in a swiotlb panic and a device known to map singly fails again this boot within the recent window.</summary>
    private static BootSummary? RepeatOfLastBoot(HostState host, ExhaustionEvidence evidence) =>
        host.PreviousBoots.Count > 0 && host.PreviousBoots[^1] is { Panicked: true } last && last.Boot == host.CurrentBoot - 1
            && evidence.EventsInWindow > 0 && KnownShare(evidence) > 0
            ? last
            : null;

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

    private static ExhaustionEvidence? Evidence(HostState host, BootView boot, HostConfiguration? config, double now, PredictorOptions options)
    {
        // The boot's records only (the current one's are the kept list's tail): what another boot logged is not this one's rate.
        var records = host.Exhaustions;
        var start = boot.Start;
        var end = FirstAfter(records, start, boot.End, now);
        var seen = end - start;
        if (seen == 0)
            return null;
        var visible = seen == records.Count ? (IReadOnlyList<ExhaustionRecord>)records : records.GetRange(start, seen);

        // Exposure: the log seen from its first line this boot to now, quiet time included.
        var coverStart = Math.Min(boot.FirstUptime ?? double.MaxValue, visible[0].Uptime ?? now);
        var (best, bestWindow) = BestRate(records, start, end, now, Math.Max(0, now - coverStart), options);
        var inWindow = end - FirstAfter(records, start, end, now - options.RecentFailureSeconds);

        // Devices, with their share of the failures of the deciding window (of all seen when it holds none).
        var from = best.Failures > 0 ? FirstAfter(records, start, end, now - bestWindow) : start;
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (var i = from; i < end; i++)
            counts[records[i].Device] = counts.GetValueOrDefault(records[i].Device) + 1;
        var total = end - from;
        var panics = BootPanics(host, boot.Boot);
        var devices = new List<DeviceMappingEvidence>(counts.Count);
        double hazard = 0;
        var pathKnown = true;
        var anyPanicPath = false;
        foreach (var (device, count) in counts)
        {
            var path = DeviceMappingPath.Of(device, visible, panics, config, now, options) with { Failures = count };
            devices.Add(path);
            if (path.Path == MappingPath.NoPanic)
                continue;
            anyPanicPath = true;
            pathKnown &= path.Path == MappingPath.Single;
            hazard += best.Lower * count / total * path.OverflowShare;
        }

        var sizes = new long[seen];
        for (var i = 0; i < sizes.Length; i++)
            sizes[i] = records[start + i].Bytes;
        Array.Sort(sizes);
        var firstThisBoot = visible[0].Uptime;
        var vmStart = firstThisBoot is { } f
            ? host.VmStarts.LastOrDefault(v => v.Boot == boot.Boot && v.Uptime is { } u && u <= f && f - u <= options.PrecedingVmStartSeconds)
            : null;
        return new ExhaustionEvidence(inWindow, seen, now - coverStart, coverStart, best, bestWindow, Trend(visible, now),
            sizes[0], sizes[sizes.Length / 2], sizes[^1], devices, hazard, pathKnown, anyPanicPath, firstThisBoot, vmStart);
    }

    /// <summary>One boot's panics (the list is short; most hosts have none).</summary>
    private static IReadOnlyList<PanicRecord> BootPanics(HostState host, int boot)
    {
        foreach (var p in host.Panics)
        {
            if (p.Boot != boot)
                return host.Panics.FindAll(x => x.Boot == boot);
        }
        return host.Panics;
    }

    /// <summary>
    /// The host's rate at <paramref name="now"/> from records [<paramref name="start"/>, <paramref name="count"/>): per
    /// window pair the lower of its two windows' conservative rates, and of the pairs the highest; with the window that gave it.
    /// </summary>
    private static (FailureRate Rate, double WindowSeconds) BestRate(List<ExhaustionRecord> records, int start, int count, double now, double covered,
        PredictorOptions options)
    {
        FailureRate best = default;
        double bestWindow = 0;
        var first = true;
        foreach (var (shortSeconds, longSeconds) in options.RateWindows)
        {
            var shortRate = RateOver(records, start, count, now, shortSeconds, covered, options);
            var longRate = RateOver(records, start, count, now, longSeconds, covered, options);
            var (rate, window) = shortRate.Lower <= longRate.Lower ? (shortRate, shortSeconds) : (longRate, longSeconds);
            if (first || rate.Lower > best.Lower)
                (best, bestWindow, first) = (rate, window, false);
        }
        return (best, bestWindow);
    }

    /// <summary>The rate over the <paramref name="windowSeconds"/> before now, exposed for as much of it as the log covers.</summary>
    private static FailureRate RateOver(List<ExhaustionRecord> records, int start, int count, double now, double windowSeconds, double covered,
        PredictorOptions options) =>
        FailureRate.Estimate(count - FirstAfter(records, start, count, now - windowSeconds), Math.Min(windowSeconds, covered) / 3600,
            options.PriorExposureHours, options.RateCredibility);

    /// <summary>
    /// Index of the first of records [<paramref name="start"/>, <paramref name="count"/>) whose uptime is after
    /// <paramref name="uptime"/>. Binary search: one boot's records are in uptime order, those without an uptime first
    /// (before any moment).
    /// </summary>
    private static int FirstAfter(List<ExhaustionRecord> records, int start, int count, double uptime)
    {
        int low = start, high = count;
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
