using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;
using FleetTwin.Ingest.Tests.Support;

namespace FleetTwin.Ingest.Tests;

/// <summary>The real incident from the KB article: its kern.log and console log, in Golden/kb-incident.</summary>
public class KbIncidentGoldenTests
{
    private const string Host = "bn2-3c16-ix-4104";

    [Fact]
    public void Kern_log_gives_17_exhaustions_3_on_the_first_port_and_14_on_the_second()
    {
        var parsed = Golden.File_("kb-incident/kern.log");

        var exhausted = parsed.All<SwiotlbExhausted>();
        Assert.Equal(17, exhausted.Count);
        Assert.Equal(3, exhausted.Count(e => e.Device == "0000:04:00.0"));
        Assert.Equal(14, exhausted.Count(e => e.Device == "0000:04:00.1"));
        Assert.All(exhausted, e => Assert.Equal(SwiotlbMessageVariant.PciDmaOutOfSwIommu, e.Variant));
        Assert.All(exhausted, e => Assert.Equal(Host, e.Host));
        Assert.Equal(25158, exhausted[0].Bytes);
        Assert.Equal(2777545.972710, exhausted[0].Uptime!.Value, 6);
        Assert.Equal(new DateTimeOffset(2014, 9, 17, 5, 5, 6, TimeSpan.Zero), exhausted[0].Time);
        Assert.Equal(18, exhausted[0].SourceLine);
        Assert.Equal(19034, exhausted[^1].Bytes);
    }

    [Fact]
    public void Kern_log_gives_exactly_one_start_of_domain_174_despite_its_vif_reconnect()
    {
        var parsed = Golden.File_("kb-incident/kern.log");

        var started = parsed.Single<VmStarted>();
        Assert.Equal(174, started.Domid);
        Assert.Equal(2777293.185673, started.Uptime!.Value, 6);
        Assert.Equal("vif_promiscuous", started.Evidence);
    }

    [Fact]
    public void Kern_log_gives_the_boot_of_the_XenServer_6_2_kernel_after_the_log_daemon_restart()
    {
        var parsed = Golden.File_("kb-incident/kern.log");

        var boot = parsed.Single<KernelBoot>();
        Assert.Equal("2.6.32.43-0.4.1.xs1.8.0.853.170791xen", boot.KernelVersion);
        Assert.Equal("6.2", boot.XenServerRelease);
        Assert.True(boot.ReleaseConfirmed);
        Assert.Equal(0.0, boot.Uptime);
        var restart = parsed.Single<LogDaemonRestart>();
        Assert.Equal("klogd", restart.Daemon);
        Assert.Equal("1.4.1", restart.Version);
        // The reboot ends the previous boot's domains.
        var stopped = parsed.Single<VmStopped>();
        Assert.Equal(174, stopped.Domid);
        Assert.Equal("host_reboot", stopped.Evidence);
    }

    [Fact]
    public void Kern_log_has_one_unrecognised_line_and_nothing_malformed()
    {
        var stats = Golden.File_("kb-incident/kern.log").Statistics;

        Assert.Equal(37, stats.LinesRead);
        Assert.Equal(1, stats.Unrecognised);
        Assert.Contains("Reserving virtual address space", stats.UnrecognisedSamples[0].Text);
        Assert.Equal(0, stats.Malformed);
        Assert.Equal(stats.Records, stats.EventRecords + stats.Informational + stats.Unrecognised + stats.Malformed);
    }

    [Fact]
    public void Dom0_log_gives_18_exhaustions_the_last_one_over_the_32_KiB_overflow_buffer()
    {
        var parsed = Golden.File_("kb-incident/dom0.log", host: Host);

        var exhausted = parsed.All<SwiotlbExhausted>();
        Assert.Equal(18, exhausted.Count);
        Assert.Equal(33302, exhausted[^1].Bytes);
        Assert.Equal("0000:04:00.1", exhausted[^1].Device);
        Assert.All(exhausted, e => Assert.Equal(Host, e.Host));
        Assert.All(exhausted, e => Assert.Null(e.Time));
    }

    [Fact]
    public void Dom0_log_gives_the_panic_from_swiotlb_full_via_bnx2x_start_xmit_on_netback()
    {
        var panic = Golden.File_("kb-incident/dom0.log", host: Host).Single<KernelPanic>();

        Assert.Equal("DMA: Random memory could be DMA read", panic.Message);
        Assert.Equal("netback/2", panic.Comm);
        Assert.Equal(1196, panic.Pid);
        Assert.Equal("2.6.32.43-0.4.1.xs1.8.0.853.170791xen", panic.KernelVersion);
        Assert.Equal(["panic", "swiotlb_full", "swiotlb_map_page", "bnx2x_start_xmit"], panic.Trace.Take(4));
        Assert.Equal("kernel_thread_helper", panic.Trace[^1]);
        Assert.Equal(2783556.069986, panic.Uptime!.Value, 6);
        Assert.Equal(36, panic.SourceLine);
        Assert.Equal(Host, panic.Host);

        var bnx2x = panic.Frames.First(f => f.Function == "bnx2x_start_xmit");
        Assert.Equal("bnx2x", bnx2x.Module);
        Assert.Equal(0x1bf, bnx2x.Offset);
        Assert.Equal(0x1a70, bnx2x.Length);
        Assert.Equal("f3d7247f", bnx2x.Address);
        // "? swiotlb_map_page+0x0/0x120" is a stale stack word: kept as a frame, left out of the trace.
        Assert.Contains(panic.Frames, f => f.Function == "swiotlb_map_page" && !f.Reliable);
        Assert.Equal(45, panic.Frames.Length);
    }

    [Fact]
    public void Dom0_log_counts_every_panic_context_line_as_part_of_the_event()
    {
        var stats = Golden.File_("kb-incident/dom0.log", host: Host).Statistics;

        Assert.Equal(84, stats.LinesRead);
        Assert.Equal(0, stats.Unrecognised);
        Assert.Equal(0, stats.Malformed);
        Assert.Equal(stats.Records, stats.EventRecords + stats.Informational);
    }

    [Theory]
    [InlineData("kern.log", null)]
    [InlineData("dom0.log", Host)]
    public void The_flattened_and_the_one_record_per_line_forms_give_the_same_events(string name, string? host)
    {
        var perLine = Golden.File_("kb-incident/" + name, host);
        var flattened = Golden.File_("kb-incident/" + name + ".flattened", host);

        Assert.Equal(1, flattened.Statistics.LinesRead);
        Assert.Equal(perLine.Statistics.Records, flattened.Statistics.Records);
        Assert.Equal(perLine.Events.Select(Golden.Content), flattened.Events.Select(Golden.Content));
    }

    [Fact]
    public void The_crash_console_read_after_the_kern_log_that_ends_in_the_reboot_belongs_to_the_boot_that_panicked()
    {
        var host = new HostState { Name = "bn2-3c16-ix-4104" };
        foreach (var e in Golden.File_("kb-incident/kern.log").Events)
            host.Apply(e);
        Assert.Equal(1, host.CurrentBoot);

        // dom0.log has no times: its uptimes (up to the panic at 2783556) are far beyond what boot 1 can have reached
        // by the clock of its own boot line, so they are boot 0's.
        foreach (var e in Golden.File_("kb-incident/dom0.log", host: "bn2-3c16-ix-4104").Events)
            host.Apply(e);

        Assert.Equal((1, 0.0, 0.0), (host.CurrentBoot, host.FirstUptime!.Value, host.LastUptime!.Value));
        var panicked = Assert.Single(host.PreviousBoots);
        Assert.True(panicked.Panicked);
        Assert.Equal(2783556.07, panicked.PanicUptime!.Value, precision: 2);
        Assert.Equal(18, panicked.Exhaustions);
        Assert.All(host.Panics, p => Assert.Equal(0, p.Boot));
    }
}
