namespace FleetTwin.Domain.Prediction;

/// <summary>
/// A failure rate estimated from exposure: <c>k</c> failures seen in <c>T</c> hours of observed log (quiet time
/// included). Failed mappings are treated as a Poisson stream while the host stays in one regime, so the rate's
/// posterior is Gamma(k + a, T + b) for a Gamma(a, b) prior; we use Jeffreys' a = 1/2 and a prior exposure b (one hour
/// by default) that stands for "a host is quiet until its log shows otherwise". <see cref="Lower"/> is the rate the
/// evidence supports with the credibility asked for: one failure in the last minute is weak evidence of a high rate,
/// three in three minutes is strong, two in 31 hours says the rate is low whatever the window.
/// </summary>
public readonly record struct FailureRate(int Failures, double ExposureHours, double Lower, double Mean, double Upper)
{
    /// <summary>The estimate for <paramref name="failures"/> in <paramref name="exposureHours"/> with a central interval of <paramref name="credibility"/>.</summary>
    public static FailureRate Estimate(int failures, double exposureHours, double priorHours, double credibility)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(failures);
        ArgumentOutOfRangeException.ThrowIfNegative(exposureHours);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(priorHours);
        var rate = exposureHours + priorHours;
        var tail = (1 - credibility) / 2;
        return new FailureRate(failures, exposureHours,
            JeffreysQuantile(failures, tail) / rate, (failures + 0.5) / rate, JeffreysQuantile(failures, 1 - tail) / rate);
    }

    private const int TabulatedFailures = 512;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<double, double[]> Tables = new();

    /// <summary>
    /// The p-quantile of Gamma(k + 1/2, 1). The host grain re-assesses after every batch, so the quantiles are
    /// tabulated once per p for the counts a host keeps (at most 256 records) and looked up; the bisection costs tens
    /// of microseconds per call, the lookup nanoseconds.
    /// </summary>
    private static double JeffreysQuantile(int failures, double p)
    {
        if (failures >= TabulatedFailures)
            return Gamma.Quantile(failures + 0.5, p);
        var table = Tables.GetOrAdd(p, static q =>
        {
            var values = new double[TabulatedFailures];
            for (var k = 0; k < values.Length; k++)
                values[k] = Gamma.Quantile(k + 0.5, q);
            return values;
        });
        return table[failures];
    }
}

/// <summary>The Gamma distribution's regularised incomplete function and its inverse (BCL only: the domain has no maths library).</summary>
public static class Gamma
{
    /// <summary>P(shape, x): the probability that a Gamma(shape, 1) variable is at most <paramref name="x"/>.</summary>
    public static double LowerRegularized(double shape, double x)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shape);
        if (x <= 0)
            return 0;
        // Series for x < shape + 1, continued fraction (Lentz) above: both converge fast in their own region.
        if (x < shape + 1)
        {
            double term = 1 / shape, sum = term;
            for (var n = 1; n < 1000 && Math.Abs(term) > Math.Abs(sum) * 1e-15; n++)
            {
                term *= x / (shape + n);
                sum += term;
            }
            return sum * Math.Exp(-x + shape * Math.Log(x) - LogGamma(shape));
        }
        const double tiny = 1e-300;
        double b = x + 1 - shape, c = 1 / tiny, d = 1 / b, h = d;
        for (var i = 1; i < 1000; i++)
        {
            var an = -i * (i - shape);
            b += 2;
            d = an * d + b;
            if (Math.Abs(d) < tiny) d = tiny;
            c = b + an / c;
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-15)
                break;
        }
        return 1 - Math.Exp(-x + shape * Math.Log(x) - LogGamma(shape)) * h;
    }

    /// <summary>The x with P(shape, x) = <paramref name="p"/> (bisection on the monotone CDF: 200 halvings are exact to a double).</summary>
    public static double Quantile(double shape, double p)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shape);
        if (p is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(p), p, "a quantile needs 0 < p < 1");
        double low = 0, high = Math.Max(1, shape);
        while (LowerRegularized(shape, high) < p)
            high *= 2;
        for (var i = 0; i < 200 && high - low > 1e-12 * high; i++)
        {
            var mid = (low + high) / 2;
            if (LowerRegularized(shape, mid) < p)
                low = mid;
            else
                high = mid;
        }
        return (low + high) / 2;
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7, nine coefficients: ~15 digits).</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5)
            return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        x -= 1;
        var a = Lanczos[0];
        var t = x + 7.5;
        for (var i = 1; i < Lanczos.Length; i++)
            a += Lanczos[i] / (x + i);
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(a);
    }

    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];
}
