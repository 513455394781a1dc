using FleetTwin.Domain.Drivers;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Prediction;
using FleetTwin.Domain.Tests.Planning;

namespace FleetTwin.Domain.Tests.Prediction;

public class PanicPredictorTests
{
    private static HostConfiguration KbConfig(bool gro = false, bool withDriver = true)
    {
        var inventory = new PoolFacts().Host("host-1", gro: gro, withDriver: withDriver).Inventory();
        return HostConfiguration.From(inventory, inventory.Hosts["host-1"]);
    }

    private static HostState HostWith(params (double Uptime, long Bytes)[] failures) => HostWith(SwiotlbMessageVariant.PciDmaOutOfSwIommu, failures);

    private static HostState HostWith(string variant, params (double Uptime, long Bytes)[] failures)
    {
        var host = new HostState { Name = "host-1" };
        host.Apply(new KernelBoot { Host = "host-1", Uptime = 0, KernelVersion = "2.6.32.43-0.4.1.xs1.8.0.853.170791xen", XenServerRelease = "6.2" });
        foreach (var (uptime, bytes) in failures)
            host.Apply(new SwiotlbExhausted { Host = "host-1", Uptime = uptime, Bytes = bytes, Device = "0000:04:00.1", Variant = variant });
        return host;
    }

    [Fact]
    public void The_KB_configuration_with_no_exhaustion_yet_is_latent_and_says_how_much_of_the_pool_RX_pins()
    {
        var prediction = PanicPredictor.Assess(HostWith(), KbConfig(), atUptime: 1000);

        Assert.Equal(RiskLevel.Latent, prediction.Level);
        Assert.Null(prediction.ProbabilityWithinHorizon);
        Assert.InRange(prediction.Latent!.StandingRxShare, 0.6, 0.66);
        Assert.StartsWith("bnx2x bond eth4+eth5, MTU 9000, GRO off; 64 MiB swiotlb", prediction.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_bond_with_GRO_on_is_ok_because_its_RX_uses_page_sized_fragments()
    {
        var prediction = PanicPredictor.Assess(HostWith(), KbConfig(gro: true), atUptime: 1000);

        Assert.Equal(RiskLevel.Ok, prediction.Level);
        Assert.Contains("no RX buffer bounces", prediction.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_jumbo_NIC_without_driver_info_is_unknown_and_names_what_is_missing()
    {
        var prediction = PanicPredictor.Assess(HostWith(), KbConfig(withDriver: false), atUptime: 1000);

        Assert.Equal(RiskLevel.Unknown, prediction.Level);
        Assert.Contains("eth4: MTU 9000 but no driver profile (no ethtool -i)", prediction.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void One_failed_mapping_on_a_6_2_host_is_critical_within_24_hours_with_an_expected_time()
    {
        var prediction = PanicPredictor.Assess(HostWith((5000, 25158)), KbConfig(), atUptime: 5000);

        // One failure is read as one an hour (the 1 h rate floor); bnx2x's calibrated share of failures over 32 KiB is
        // 0.056, so hazard 0.056/h: P(24 h) = 1 - e^(-0.056 * 24), expected in 1 / 0.056 h.
        Assert.Equal(RiskLevel.Critical, prediction.Level);
        Assert.Equal(1.0, prediction.Evidence!.RatePerHour, precision: 9);
        Assert.Equal(0.739200, prediction.ProbabilityWithinHorizon!.Value, precision: 6);
        Assert.Equal(64_285.714, prediction.ExpectedSecondsToPanic!.Value, precision: 3);
        Assert.Contains("largest failed mapping 25158 B, 7610 B under the 32768 B overflow limit", prediction.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rising_stream_of_failures_is_called_rising_and_shortens_the_expected_time()
    {
        // 2 failures in the first hour, 8 in the second.
        var early = Enumerable.Range(0, 2).Select(i => (10_000.0 + i * 1500, 17000L));
        var late = Enumerable.Range(0, 8).Select(i => (13_700.0 + i * 400, 19000L));
        var steady = PanicPredictor.Assess(HostWith([.. early]), KbConfig(), atUptime: 13_600);
        var rising = PanicPredictor.Assess(HostWith([.. early, .. late]), KbConfig(), atUptime: 17_000);

        // Steady: 2 failures over the 1 h floor = 2/h. Rising: 8 of the 10 in the window's recent hour, so the
        // recent half's 8/h is the rate, not the 10 over 7000 s.
        Assert.Equal(2.0, steady.Evidence!.RatePerHour, precision: 9);
        Assert.Equal("steady", steady.Evidence.Trend);
        Assert.Equal(8.0, rising.Evidence!.RatePerHour, precision: 9);
        Assert.Equal("rising", rising.Evidence.Trend);
        Assert.Contains("rising", rising.Reason, StringComparison.Ordinal);
        Assert.True(rising.ExpectedSecondsToPanic < steady.ExpectedSecondsToPanic);
        Assert.True(rising.ProbabilityWithinHorizon > steady.ProbabilityWithinHorizon);
    }

    [Fact]
    public void Failures_that_stopped_hours_ago_no_longer_make_the_host_critical()
    {
        var prediction = PanicPredictor.Assess(HostWith((1000, 17000)), KbConfig(), atUptime: 1000 + 6 * 3600);

        // No failure in the 2 h window: the boot's one failure over the 6 h since it is 1/6 per hour, P(24 h) =
        // 1 - e^(-0.056 / 6 * 24) = 20 %: still over the 5 % warning line, no longer critical.
        Assert.Equal(RiskLevel.Warning, prediction.Level);
        Assert.Equal(0, prediction.Evidence!.EventsInWindow);
        Assert.Equal(0.200685, prediction.ProbabilityWithinHorizon!.Value, precision: 6);
        Assert.Contains("none in the last 2 h", prediction.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_kernel_that_logs_swiotlb_buffer_is_full_never_panics_so_it_is_a_warning_with_no_panic_probability()
    {
        var host = HostWith(SwiotlbMessageVariant.BufferIsFull, (100, 65536), (200, 65536), (300, 65536));

        var prediction = PanicPredictor.Assess(host, null, atUptime: 300);

        Assert.Equal(RiskLevel.Warning, prediction.Level);
        Assert.Equal(0, prediction.ProbabilityWithinHorizon);
        Assert.Null(prediction.ExpectedSecondsToPanic);
    }

    [Fact]
    public void Bnx2x_TX_mix_puts_about_one_failed_mapping_in_eighteen_over_the_overflow_buffer_like_the_KB_incident()
    {
        var share = PanicPredictor.OverflowShareOf(DriverProfiles.Embedded.Get("bnx2x"));

        // The profile's calibrated figure (the KB's 1 panic in 18 failed mappings) wins over the mix-derived one.
        Assert.Equal(0.056, share);
    }

    [Fact]
    public void A_host_that_panicked_is_critical_and_the_twins_entry_point_still_says_so()
    {
        var host = HostWith((100, 30000), (200, 33302));
        host.Apply(new KernelPanic { Host = "host-1", Uptime = 200.00001, Message = "DMA: Random memory could be DMA read" });

        var risk = HostRisk.Assess(host);

        Assert.Equal(RiskLevel.Critical, risk.Level);
        Assert.StartsWith("panicked: DMA: Random memory could be DMA read after a 33302-byte mapping", risk.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Asking_before_an_event_ignores_it_so_a_replay_can_ask_at_any_uptime()
    {
        var host = HostWith((100, 17000), (5000, 30000));

        Assert.Null(PanicPredictor.Assess(host, null, atUptime: 50).Evidence);
        Assert.Equal(17000, PanicPredictor.Assess(host, null, atUptime: 150).Evidence!.LargestBytes);
        Assert.Equal(30000, PanicPredictor.Assess(host, null, atUptime: 5000).Evidence!.LargestBytes);
    }
}
