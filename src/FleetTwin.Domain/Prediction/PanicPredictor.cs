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

    /// <summary>Exhaustions older than this (in host uptime) no longer count toward the current rate.</summary>
    public double EvidenceWindowSeconds { get; init; } = 2 * 3600;

    /// <summary>
    /// Shortest span a rate is measured over: one failure right now is "one an hour", not "infinitely many an hour".
    /// </summary>
    public double MinRateSpanSeconds { get; init; } = 3600;

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
public sealed record ExhaustionEvidence(
    int EventsInWindow,
    int EventsThisBoot,
    double SpanSeconds,
    double ElapsedSeconds,
    double RatePerHour,
    string Trend,
    long SmallestBytes,
    long MedianBytes,
    long LargestBytes,
    IReadOnlyList<string> Devices,
    double OverflowShare,
    bool KernelPanicsOnOverflow,
    double? FirstUptime,
    VmRunRecord? PrecedingVmStart);

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
        var at = atUptime ?? host.LastUptime;
        var latent = config is null ? null : LatentRisk.Assess(config);
        var prefix = config is null ? "" : config.Summary() + "; ";

        var panic = host.Panics.LastOrDefault(p => IsSwiotlbPanic(p) && (at is null || p.Uptime is null || p.Uptime <= at));
        if (panic is not null)
        {
            return new PanicPrediction(host.Name, RiskLevel.Critical, 1.0, options.Horizon, 0, Invariant(
                $"{prefix}panicked: {panic.Message}{(panic.CauseBytes is { } b ? $" after a {b}-byte mapping at {panic.CauseDevice} found no room" : "")}; {host.ExhaustionEvents} exhaustion events logged"),
                at, null, latent);
        }

        var evidence = Evidence(host, config, at, options);
        if (evidence is null)
        {
            if (latent is not null)
                return new PanicPrediction(host.Name, latent.Level, null, options.Horizon, null, latent.Reason, at, null, latent);
            return host.AppliedEvents > 0
                ? new PanicPrediction(host.Name, RiskLevel.Ok, null, options.Horizon, null, "no SWIOTLB exhaustion logged; configuration unknown", at, null, null)
                : new PanicPrediction(host.Name, RiskLevel.Unknown, null, options.Horizon, null, "nothing known yet", at, null, null);
        }

        var hazardPerHour = evidence.RatePerHour * evidence.OverflowShare;
        var probability = 1 - Math.Exp(-hazardPerHour * options.Horizon.TotalHours);
        double? expected = hazardPerHour > 0 ? 3600 / hazardPerHour : null;
        RiskLevel level;
        if (evidence.EventsInWindow == 0)
        {
            // Failures earlier in this boot, none lately: the pool can fill again, but nothing says it is now.
            level = probability >= options.WarningProbability ? RiskLevel.Warning : RiskLevel.Latent;
        }
        else
        {
            level = probability >= options.CriticalProbability ? RiskLevel.Critical : RiskLevel.Warning;
        }
        if (latent is not null && latent.Level > level)
            level = latent.Level;
        return new PanicPrediction(host.Name, level, probability, options.Horizon, expected,
            prefix + Describe(evidence, probability, expected, options), at, evidence, latent);
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

    private static ExhaustionEvidence? Evidence(HostState host, HostConfiguration? config, double? at, PredictorOptions options)
    {
        var seen = host.Exhaustions.Where(x => at is null || x.Uptime is null || x.Uptime <= at).ToList();
        if (seen.Count == 0)
            return null;
        var now = at ?? seen[^1].Uptime ?? 0;
        var windowStart = now - options.EvidenceWindowSeconds;
        var inWindow = seen.Where(x => x.Uptime is null || x.Uptime > windowStart).ToList();
        var basis = inWindow.Count > 0 ? inWindow : seen;

        var first = basis[0].Uptime ?? now;
        var span = Math.Clamp(now - first, options.MinRateSpanSeconds, inWindow.Count > 0 ? options.EvidenceWindowSeconds : double.MaxValue);
        var rate = basis.Count * 3600 / span;
        var trend = "steady";
        if (inWindow.Count >= 3)
        {
            var half = windowStart + options.EvidenceWindowSeconds / 2;
            var recent = inWindow.Count(x => x.Uptime is null || x.Uptime >= half);
            var older = inWindow.Count - recent;
            trend = recent > older * 1.5 ? "rising" : older > recent * 1.5 ? "falling" : "steady";
            // A rising stream is judged by its recent half: that is the rate the host runs at now.
            var recentRate = recent * 3600 / (options.EvidenceWindowSeconds / 2);
            if (trend == "rising" && recentRate > rate)
                rate = recentRate;
        }

        var sizes = basis.Select(x => x.Bytes).Order().ToArray();
        var devices = basis.Select(x => x.Device).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        // The 4.x+ "swiotlb buffer is full" and the coherent-allocation failures come from paths that never panic.
        var panics = basis.Any(x => x.Variant is not (SwiotlbMessageVariant.BufferIsFull or SwiotlbMessageVariant.CoherentAllocationFailed));
        var share = panics ? OverflowShare(devices, config, options) : 0;
        var firstThisBoot = seen[0].Uptime;
        var vmStart = firstThisBoot is { } f
            ? host.VmStarts.LastOrDefault(v => v.Uptime is { } u && u <= f && f - u <= options.PrecedingVmStartSeconds)
            : null;
        return new ExhaustionEvidence(inWindow.Count, seen.Count, span, now - first, rate, trend, sizes[0], sizes[sizes.Length / 2], sizes[^1],
            devices, share, panics, firstThisBoot, vmStart);
    }

    private static double OverflowShare(IReadOnlyList<string> devices, HostConfiguration? config, PredictorOptions options)
    {
        var shares = devices
            .Select(d => config?.NicAt(d)?.Profile)
            .Where(p => p is not null)
            .Select(p => OverflowShareOf(p!))
            .ToList();
        return shares.Count > 0 ? shares.Max() : options.DefaultOverflowShare;
    }

    private static string Describe(ExhaustionEvidence e, double probability, double? expected, PredictorOptions options)
    {
        var text = new System.Text.StringBuilder();
        if (e.EventsInWindow > 0)
            text.Append(e.EventsInWindow == 1
                ? "1 exhaustion event"
                : Invariant($"{e.EventsInWindow} exhaustion events in {Duration(e.ElapsedSeconds)}, {e.Trend}"));
        else
            text.Append(Invariant($"{e.EventsThisBoot} exhaustion events this boot, none in the last {Duration(options.EvidenceWindowSeconds)}"));
        text.Append(Invariant($" ({e.RatePerHour:0.#}/h)"));
        if (e.KernelPanicsOnOverflow)
        {
            var margin = SwiotlbGeometry.OverflowBufferBytes - e.LargestBytes;
            text.Append(margin > 0
                ? Invariant($"; largest failed mapping {e.LargestBytes} B, {margin} B under the {SwiotlbGeometry.OverflowBufferBytes} B overflow limit: a failed one over it panics")
                : Invariant($"; a failed mapping of {e.LargestBytes} B is over the {SwiotlbGeometry.OverflowBufferBytes} B overflow limit"));
        }
        else
        {
            text.Append(Invariant($"; largest failed mapping {e.LargestBytes} B; this kernel's swiotlb drops the packet instead of panicking"));
        }
        text.Append(Invariant($"; sizes {e.SmallestBytes}-{e.LargestBytes} B (median {e.MedianBytes}) at {string.Join(",", e.Devices)}"));
        if (e.PrecedingVmStart is { } vm && e.FirstUptime is { } first && vm.Uptime is { } started)
            text.Append(Invariant($"; first failure {Duration(first - started)} after domain {vm.Domid} started"));
        text.Append(Invariant($"; P(panic in {Duration(options.Horizon.TotalSeconds)}) {probability:P0}"));
        if (expected is { } seconds)
            text.Append(Invariant($", expected in ~{Duration(seconds)}"));
        return text.ToString();
    }

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
