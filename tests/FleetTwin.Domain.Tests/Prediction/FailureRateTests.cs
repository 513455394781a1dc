using FleetTwin.Domain.Prediction;

namespace FleetTwin.Domain.Tests.Prediction;

public class FailureRateTests
{
    [Theory]
    // Gamma(k/2, 1) quantiles are half the chi-square quantiles with k degrees of freedom (tables, e.g. NIST/SEMATECH 1.3.6.7.4).
    [InlineData(0.5, 0.9, 2.706 / 2)]
    [InlineData(1.5, 0.1, 0.584 / 2)]
    [InlineData(2.5, 0.1, 1.610 / 2)]
    [InlineData(3.5, 0.1, 2.833 / 2)]
    [InlineData(5.0, 0.9, 15.987 / 2)]
    [InlineData(50.0, 0.1, 82.358 / 2)]
    public void Gamma_quantiles_match_the_chi_square_table(double shape, double p, double expected) =>
        Assert.Equal(expected, Gamma.Quantile(shape, p), tolerance: 0.0005 + 1e-12); // the table gives three decimals

    [Fact]
    public void The_incomplete_gamma_function_is_the_Poisson_tail()
    {
        // P(k, x) = P(Poisson(x) >= k): for k = 3, x = 2: 1 - e^-2 (1 + 2 + 2) = 0.323324.
        Assert.Equal(1 - Math.Exp(-2) * 5, Gamma.LowerRegularized(3, 2), precision: 12);
        Assert.Equal(1 - Math.Exp(-10) * 1, Gamma.LowerRegularized(1, 10), precision: 12);
    }

    [Fact]
    public void A_rate_from_exposure_counts_the_quiet_time_and_the_prior_hour()
    {
        // 2 failures in 31 h of log with one prior hour: Gamma(2.5, 32 h).
        var rate = FailureRate.Estimate(2, 31, priorHours: 1, credibility: 0.8);

        Assert.Equal(2.5 / 32, rate.Mean, precision: 12);
        Assert.Equal(Gamma.Quantile(2.5, 0.1) / 32, rate.Lower, precision: 12);
        Assert.Equal(Gamma.Quantile(2.5, 0.9) / 32, rate.Upper, precision: 12);
        Assert.True(rate.Lower < rate.Mean && rate.Mean < rate.Upper);
    }

    [Fact]
    public void Counts_beyond_the_table_are_computed_the_same_way()
    {
        var tabulated = FailureRate.Estimate(511, 10, 1, 0.8);
        var computed = FailureRate.Estimate(600, 10, 1, 0.8);

        Assert.Equal(Gamma.Quantile(511.5, 0.1) / 11, tabulated.Lower, precision: 9);
        Assert.Equal(Gamma.Quantile(600.5, 0.1) / 11, computed.Lower, precision: 9);
    }
}
