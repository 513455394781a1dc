using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;

namespace FleetTwin.Domain.Tests.Fleet;

/// <summary>
/// A host's state as the twin keeps it: overlapping logs of the same host (kern.log and the crash console's dom0.log)
/// are merged record by record, and what is kept per host stays bounded however long the host lives.
/// </summary>
public class HostStateTests
{
    private static SwiotlbExhausted Exhaustion(double uptime, long bytes = 30714, string device = "0000:04:00.1", string file = "kern.log") => new()
    {
        Host = "bn2-3c16-ix-4104", Uptime = uptime, SourceFile = file, Bytes = bytes, Device = device,
    };

    [Fact]
    public void The_same_record_read_from_two_files_is_applied_once()
    {
        var host = new HostState { Name = "bn2-3c16-ix-4104" };

        Assert.True(host.Apply(Exhaustion(2777545.972710, file: "kern.log")));
        Assert.False(host.Apply(Exhaustion(2777545.972710, file: "dom0.log")));

        Assert.Equal(1, host.ExhaustionEvents);
        Assert.Equal(1, host.DuplicateRecords);
    }

    [Fact]
    public void A_boot_line_below_the_uptime_starts_a_new_boot_and_the_last_one_is_kept_as_a_summary()
    {
        var host = new HostState { Name = "bn2-3c16-ix-4104" };

        host.Apply(new VmStarted { Host = "bn2-3c16-ix-4104", Uptime = 2777293.185673, Domid = 174, Evidence = "vif" });
        host.Apply(Exhaustion(2777545.972710, bytes: 33302));
        host.Apply(new KernelPanic { Host = "bn2-3c16-ix-4104", Uptime = 2777545.972720, Message = "DMA: Random memory could be DMA read" });
        // The KB kern.log ends with the reboot after the panic: "[0.000000] Linux version ...".
        host.Apply(new KernelBoot { Host = "bn2-3c16-ix-4104", Uptime = 0, KernelVersion = "2.6.32.43-0.4.1.xs1.8.0.853.170791xen" });

        Assert.Equal((1, 0.0, 0.0, 0L), (host.CurrentBoot, host.FirstUptime!.Value, host.LastUptime!.Value, host.CurrentBootExhaustions));
        var last = Assert.Single(host.PreviousBoots);
        Assert.Equal((0, 2777293.185673, 2777545.972720, 1L, 2777545.972720, 33302L),
            (last.Boot, last.FirstUptime!.Value, last.LastUptime!.Value, last.Exhaustions, last.PanicUptime!.Value, last.PanicCauseBytes!.Value));
        Assert.Equal([0], host.Exhaustions.Select(x => x.Boot));
        Assert.Equal([0], host.Panics.Select(p => p.Boot));
    }

    [Fact]
    public void A_record_of_the_earlier_boot_read_after_the_reboot_goes_to_that_boot_and_leaves_the_new_coverage_alone()
    {
        var boot = new DateTimeOffset(2014, 9, 1, 0, 0, 0, TimeSpan.Zero);
        var reboot = boot.AddDays(3);
        var host = new HostState { Name = "h" };
        host.Apply(new KernelBoot { Host = "h", Uptime = 0, Time = boot, KernelVersion = "k" });
        host.Apply(new SwiotlbExhausted { Host = "h", Uptime = 200_000, Time = boot.AddSeconds(200_000), Bytes = 30714, Device = "0000:04:00.1" });
        host.Apply(new KernelBoot { Host = "h", Uptime = 0, Time = reboot, KernelVersion = "k" });
        host.Apply(new SwiotlbExhausted { Host = "h", Uptime = 600, Time = reboot.AddSeconds(600), Bytes = 9000, Device = "0000:04:00.1" });

        // The crash console's log of the first boot arrives last: its times put it in boot 0.
        host.Apply(new SwiotlbExhausted { Host = "h", Uptime = 200_100, Time = boot.AddSeconds(200_100), Bytes = 33302, Device = "0000:04:00.1" });

        Assert.Equal((1, 0.0, 600.0, 1L), (host.CurrentBoot, host.FirstUptime!.Value, host.LastUptime!.Value, host.CurrentBootExhaustions));
        Assert.Equal(2, host.PreviousBoots[0].Exhaustions);
        Assert.Equal([(0, 200_000.0), (0, 200_100.0), (1, 600.0)], host.Exhaustions.Select(x => (x.Boot, x.Uptime!.Value)));
    }

    [Fact]
    public void A_log_replayed_through_logger_stamps_every_record_now_and_stays_one_boot()
    {
        // logger and rsyslog's imfile stamp a record when they read it: an hour of uptime arrives within a second.
        var now = new DateTimeOffset(2026, 12, 3, 18, 0, 0, TimeSpan.Zero);
        var host = new HostState { Name = "h" };
        foreach (var uptime in new[] { 2777292.77, 2777545.97, 2779670.43, 2782669.64 })
            host.Apply(new SwiotlbExhausted { Host = "h", Uptime = uptime, Time = now, Bytes = 30714, Device = "0000:04:00.1" });

        Assert.Equal((0, 2777292.77, 2782669.64, 4L), (host.CurrentBoot, host.FirstUptime!.Value, host.LastUptime!.Value, host.CurrentBootExhaustions));
        Assert.All(host.Exhaustions, x => Assert.Equal(0, x.Boot));
    }

    [Fact]
    public void The_same_boot_line_sent_again_with_its_time_does_not_start_a_boot()
    {
        var boot = new DateTimeOffset(2014, 9, 1, 0, 0, 0, TimeSpan.Zero);
        var host = new HostState { Name = "h" };
        host.Apply(new KernelBoot { Host = "h", Uptime = 0, Time = boot, KernelVersion = "k" });
        host.Apply(new SwiotlbExhausted { Host = "h", Uptime = 5000, Time = boot.AddSeconds(5000), Bytes = 30714, Device = "0000:04:00.1" });

        // rsyslog stamps the boot messages it reads from the kernel's buffer when it starts: a minute late.
        host.Apply(new KernelBoot { Host = "h", Uptime = 0, Time = boot.AddSeconds(60), KernelVersion = "k", SourceFile = "dom0.log" });

        Assert.Equal((0, 0.0, 5000.0), (host.CurrentBoot, host.FirstUptime!.Value, host.LastUptime!.Value));
        Assert.Empty(host.PreviousBoots);
    }

    [Fact]
    public void Records_with_a_later_time_below_the_uptime_start_a_boot_even_without_a_boot_line()
    {
        var boot = new DateTimeOffset(2014, 9, 1, 0, 0, 0, TimeSpan.Zero);
        var host = new HostState { Name = "h" };
        host.Apply(new SwiotlbExhausted { Host = "h", Uptime = 90_000, Time = boot.AddSeconds(90_000), Bytes = 30714, Device = "0000:04:00.1" });

        // A shipper that started after the reboot sends no boot line: uptime 400, a day later by the clock.
        host.Apply(new SwiotlbExhausted { Host = "h", Uptime = 400, Time = boot.AddSeconds(90_000 + 86_400), Bytes = 9000, Device = "0000:04:00.1" });

        Assert.Equal((1, 400.0, 1L), (host.CurrentBoot, host.LastUptime!.Value, host.CurrentBootExhaustions));
    }

    [Fact]
    public void A_log_that_starts_with_the_boot_covers_the_boot_from_zero()
    {
        var host = new HostState { Name = "h" };

        host.Apply(new KernelBoot { Host = "h", Uptime = 0, KernelVersion = "k" });
        host.Apply(Exhaustion(5000));

        Assert.Equal(0, host.FirstUptime);
    }

    [Theory]
    [InlineData(2777545.972711, 30714, "0000:04:00.1")] // a microsecond later
    [InlineData(2777545.972710, 30715, "0000:04:00.1")] // another size
    [InlineData(2777545.972710, 30714, "0000:04:00.0")] // the bond's other port
    public void Records_differing_in_uptime_size_or_device_are_different_records(double uptime, long bytes, string device)
    {
        var host = new HostState();
        host.Apply(Exhaustion(2777545.972710));

        Assert.True(host.Apply(Exhaustion(uptime, bytes, device)));
        Assert.Equal(2, host.ExhaustionEvents);
    }

    [Fact]
    public void A_panic_and_an_exhaustion_at_the_same_uptime_are_not_confused()
    {
        var host = new HostState();
        host.Apply(Exhaustion(2777546.0));

        Assert.True(host.Apply(new KernelPanic { Uptime = 2777546.0, Message = "DMA: Random memory could be DMA read" }));
        Assert.False(host.Apply(new KernelPanic { Uptime = 2777546.0, Message = "DMA: Random memory could be DMA read", SourceFile = "dom0.log" }));
    }

    /// <summary>
    /// Two unstamped lines with the same text may be two real events (a console without printk times, a shipper that
    /// sends no time): nothing tells them from one record read twice, so both count. The HTTP door's 503 says so: a
    /// retry applies such records again (HttpDoorPushBackTests pins that end to end).
    /// </summary>
    [Fact]
    public void Records_without_uptime_or_time_are_never_taken_for_duplicates()
    {
        var host = new HostState();

        Assert.True(host.Apply(new SwiotlbExhausted { Bytes = 30714, Device = "0000:04:00.1" }));
        Assert.True(host.Apply(new SwiotlbExhausted { Bytes = 30714, Device = "0000:04:00.1" }));
        Assert.Equal(2, host.ExhaustionEvents);
    }

    [Fact]
    public void Duplicates_are_still_recognised_after_the_state_was_persisted_and_restored()
    {
        var before = new HostState { Name = "bn2-3c16-ix-4104" };
        before.Apply(Exhaustion(2777545.972710));
        before.PrepareForPersistence();

        var restored = new HostState { Name = before.Name, RecentRecordFingerprints = before.RecentRecordFingerprints };

        Assert.False(restored.Apply(Exhaustion(2777545.972710, file: "dom0.log")));
        Assert.True(restored.Apply(Exhaustion(2777546.5)));
    }

    [Fact]
    public void Only_the_latest_records_are_remembered_for_de_duplication()
    {
        var host = new HostState();
        host.Apply(Exhaustion(1.0));
        for (var i = 0; i < HostState.RememberedRecordKeys; i++)
            host.Apply(Exhaustion(100.0 + i));

        // The first record has been forgotten: a copy of it now counts again (bounded memory over exactness).
        Assert.True(host.Apply(Exhaustion(1.0)));
        Assert.False(host.Apply(Exhaustion(100.0 + HostState.RememberedRecordKeys - 1)));
    }

    [Fact]
    public void VM_starts_are_all_counted_but_only_the_latest_kept()
    {
        var host = new HostState();
        var starts = HostState.KeptVmStartRecords + 50;
        for (var i = 0; i < starts; i++)
            host.Apply(new VmStarted { Uptime = 1000.0 + i, Domid = i, Evidence = "vif" });

        Assert.Equal(starts, host.VmStartEvents);
        Assert.Equal(HostState.KeptVmStartRecords, host.VmStarts.Count);
        Assert.Equal(starts - 1, host.VmStarts[^1].Domid);
    }

    [Fact]
    public void Exhaustion_records_are_all_counted_but_only_the_latest_kept_in_uptime_order()
    {
        var host = new HostState();
        var records = HostState.KeptExhaustionRecords + 10;
        for (var i = records - 1; i >= 0; i--)
            host.Apply(Exhaustion(5000.0 + i));

        Assert.Equal(records, host.ExhaustionEvents);
        Assert.Equal(HostState.KeptExhaustionRecords, host.Exhaustions.Count);
        Assert.Equal(host.Exhaustions.OrderBy(x => x.Uptime).Select(x => x.Uptime), host.Exhaustions.Select(x => x.Uptime));
    }
}
