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
    public void One_failed_mapping_on_a_6_2_host_is_a_warning_with_the_rate_its_exposure_supports_not_a_panic_page()
    {
        // Boot at 0, one failure at 5000 s: 1 failure in the last hour of log. With a prior hour of quiet, the rate the
        // evidence supports (80 % interval's lower end) is q10 of Gamma(1.5, 2 h) = chi2(3; 0.1) / 4 = 0.146/h; bnx2x's share of failures
        // over 32 KiB is 0.056, so P(24 h) = 1 - e^(-0.146 * 0.056 * 24) = 18 %.
        var prediction = PanicPredictor.Assess(HostWith((5000, 25158)), KbConfig(), atUptime: 5000);

        Assert.Equal(RiskLevel.Warning, prediction.Level);
        Assert.Equal((1, 1.0), (prediction.Evidence!.Rate.Failures, prediction.Evidence.Rate.ExposureHours));
        Assert.Equal(0.146094, prediction.Evidence.RatePerHour, precision: 6);
        Assert.Equal(0.178275, prediction.ProbabilityWithinHorizon!.Value, precision: 6);
        Assert.StartsWith("bnx2x bond eth4+eth5, MTU 9000, GRO off; 64 MiB swiotlb", prediction.Reason, StringComparison.Ordinal);
        Assert.Contains("1 exhaustion event in 83 min of log", prediction.Reason, StringComparison.Ordinal);
        Assert.Contains("largest failed mapping 25158 B, 7610 B under the 32768 B overflow limit", prediction.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sporadic_failure_after_31_quiet_hours_stays_a_warning_and_says_two_failures_in_32_hours_of_log()
    {
        var host = HostWith((3600, 4542), (3600 + 31 * 3600, 9018));

        var first = PanicPredictor.Assess(host, KbConfig(), atUptime: 3600);
        var second = PanicPredictor.Assess(host, KbConfig(), atUptime: 3600 + 31 * 3600);

        Assert.Equal((RiskLevel.Warning, RiskLevel.Warning), (first.Level, second.Level));
        Assert.Contains("2 exhaustion events in 32 h of log", second.Reason, StringComparison.Ordinal);
        Assert.Equal(0.178275, second.ProbabilityWithinHorizon!.Value, precision: 6);
    }

    [Fact]
    public void Three_failures_within_three_minutes_on_a_bnx2x_host_are_critical_at_the_third()
    {
        // The KB's first three failures came within 143 s. 3 in the last 10 min and in the last hour: q10 of
        // Gamma(3.5, 2 h) = 0.708/h, P(24 h) = 1 - e^(-0.708 * 0.056 * 24) = 61 %.
        var host = HostWith((10_000, 25158), (10_008, 16918), (10_143, 17574));

        var second = PanicPredictor.Assess(host, KbConfig(), atUptime: 10_008);
        var third = PanicPredictor.Assess(host, KbConfig(), atUptime: 10_143);

        Assert.Equal(RiskLevel.Warning, second.Level);
        Assert.Equal(RiskLevel.Critical, third.Level);
        Assert.Equal(0.708277, third.Evidence!.RatePerHour, precision: 6);
        Assert.Equal(0.614, third.ProbabilityWithinHorizon!.Value, precision: 3);
        Assert.Contains("3 exhaustion events in 2.8 h of log, rising", third.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_critical_host_stays_critical_through_a_quiet_day_and_is_not_critical_once_its_failures_stopped_for_a_day()
    {
        var host = HostWith((10_000, 25158), (10_008, 16918), (10_143, 17574));

        Assert.Equal(RiskLevel.Critical, PanicPredictor.Assess(host, KbConfig(), atUptime: 10_143 + 23.9 * 3600).Level);
        var nextDay = PanicPredictor.Assess(host, KbConfig(), atUptime: 10_143 + 24.1 * 3600);

        Assert.Equal(RiskLevel.Latent, nextDay.Level);
        Assert.Contains("none in the last 24 h", nextDay.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_storage_controller_whose_64_KiB_failures_survived_is_never_above_warning_even_in_a_burst()
    {
        // swiotlb_map_sg_attrs() calls swiotlb_full(..., do_panic = 0): a failure over 32 KiB that did not panic
        // proves the device maps scatter-gather lists, and its failures carry no panic hazard of their own.
        var burst = Enumerable.Range(0, 30).Select(i => (100.0 + i * 10, 65536L)).ToArray();
        var host = HostWith(burst);

        var prediction = PanicPredictor.Assess(host, null, atUptime: 400);

        Assert.Equal(RiskLevel.Warning, prediction.Level);
        Assert.Equal(0, prediction.ProbabilityWithinHorizon);
        Assert.Null(prediction.ExpectedSecondsToPanic);
        var device = Assert.Single(prediction.Evidence!.Devices);
        Assert.Equal(MappingPath.NoPanic, device.Path);
        Assert.Contains("its 65536-byte failure at uptime 100 did not panic", prediction.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_SATA_controller_named_by_its_driver_is_never_above_warning()
    {
        var host = new HostState { Name = "host-1" };
        host.Apply(new KernelBoot { Host = "host-1", Uptime = 0, KernelVersion = "2.6.32.43-0.4.1.xs1.8.0.853.170791xen", XenServerRelease = "6.2" });
        for (var i = 0; i < 10; i++)
        {
            host.Apply(new SwiotlbExhausted { Host = "host-1", Uptime = 500 + i, Bytes = 4224, Device = "0000:00:1f.2", Driver = "ata_piix",
                Variant = SwiotlbMessageVariant.DeviceOutOfSwIommu });
        }

        var prediction = PanicPredictor.Assess(host, null, atUptime: 510);

        Assert.Equal(RiskLevel.Warning, prediction.Level);
        Assert.Equal(0, prediction.ProbabilityWithinHorizon);
        Assert.Contains("0000:00:1f.2: no panic: ata_piix maps scatter-gather lists", prediction.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_burst_at_a_device_nothing_names_is_a_warning_that_says_what_it_would_be_if_the_device_maps_singly()
    {
        // No configuration, no driver in the message: the device could be a NIC or a storage controller.
        var host = HostWith((10_000, 25158), (10_008, 16918), (10_143, 17574), (10_200, 20000));

        var prediction = PanicPredictor.Assess(host, null, atUptime: 10_200);

        Assert.Equal(RiskLevel.Warning, prediction.Level);
        Assert.False(prediction.Evidence!.PathKnown);
        Assert.True(prediction.ProbabilityWithinHorizon >= 0.5, prediction.Reason);
        Assert.Contains("0000:04:00.1: path unknown: no ethtool -i and no driver in the message", prediction.Reason, StringComparison.Ordinal);
        Assert.Contains("up to", prediction.Reason, StringComparison.Ordinal);
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
    public void A_host_that_panicked_is_critical_with_the_panic_as_its_reason()
    {
        var host = HostWith((100, 30000), (200, 33302));
        host.Apply(new KernelPanic { Host = "host-1", Uptime = 200.00001, Message = "DMA: Random memory could be DMA read" });

        var risk = PanicPredictor.Assess(host);

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

    /// <summary>host-1 panicked at uptime 200 (a 33,302-byte mapping) and came back: the KB kern.log's last line.</summary>
    private static HostState BackFromPanic()
    {
        var host = HostWith((100, 30000), (200, 33302));
        host.Apply(new KernelPanic { Host = "host-1", Uptime = 200.00001, Message = "DMA: Random memory could be DMA read" });
        // Stamped, as kern.log's boot line is (an unstamped copy of the first boot's line would be the same record).
        host.Apply(new KernelBoot { Host = "host-1", Uptime = 0, Time = new DateTimeOffset(2014, 9, 17, 6, 50, 17, TimeSpan.Zero),
            KernelVersion = "2.6.32.43-0.4.1.xs1.8.0.853.170791xen", XenServerRelease = "6.2" });
        return host;
    }

    [Fact]
    public void A_host_back_from_a_swiotlb_panic_stays_critical_for_a_day_as_the_panic_s_page_then_is_judged_on_its_new_boot()
    {
        var host = BackFromPanic();

        var justBack = PanicPredictor.Assess(host, KbConfig(), atUptime: 60);
        var nextDay = PanicPredictor.Assess(host, KbConfig(), atUptime: 25 * 3600);

        Assert.Equal((RiskLevel.Critical, RiskLevel.Latent), (justBack.Level, justBack.OwnBootLevel!.Value));
        Assert.StartsWith("panicked in the previous boot (60 s ago): swiotlb panic at uptime 200 after 2 exhaustion events, a 33302-byte mapping found no room",
            justBack.Reason, StringComparison.Ordinal);
        Assert.Equal(RiskLevel.Latent, nextDay.Level);
        Assert.Null(nextDay.OwnBootLevel);
    }

    [Fact]
    public void The_previous_boot_s_panic_is_not_this_boot_s_even_once_the_new_uptime_passes_it()
    {
        var host = BackFromPanic();

        // Before boots were told apart, uptime 300 of the new boot "saw" the old boot's panic at 200 and its failures.
        var risk = PanicPredictor.Assess(host, null, atUptime: 30 * 3600);

        Assert.NotEqual(RiskLevel.Critical, risk.Level);
        Assert.Null(risk.Evidence);
    }

    [Fact]
    public void One_failure_after_coming_back_from_a_panic_is_critical_on_its_own_evidence_because_the_same_configuration_fails_again()
    {
        var host = BackFromPanic();
        host.Apply(new SwiotlbExhausted { Host = "host-1", Uptime = 540, Time = host.CurrentBootStarted!.Value.AddSeconds(540), Bytes = 30883, Device = "0000:04:00.1" });

        var risk = PanicPredictor.Assess(host, KbConfig(), atUptime: 541);
        var elsewhere = PanicPredictor.Assess(HostWith((540, 30883)), KbConfig(), atUptime: 541);

        // Critical on this boot's own evidence, so nothing is carried over from the panic.
        Assert.Equal((RiskLevel.Critical, null), (risk.Level, risk.OwnBootLevel));
        Assert.Contains("the last boot ended in a swiotlb panic at uptime 200 after 2 exhaustion events, and this boot fails again", risk.Reason, StringComparison.Ordinal);
        Assert.Equal(RiskLevel.Warning, elsewhere.Level);
    }
}
