using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Tests.Support;

namespace FleetTwin.Ingest.Tests;

/// <summary>VM start/stop decisions, syslog years, host precedence and panic assembly across hosts.</summary>
public class LifecycleAndTimeTests
{
    private static string Console_(double uptime, string message) => FormattableString.Invariant($"<4>[{uptime:F6}] {message}");

    [Fact]
    public void All_vifs_closed_without_reconnect_for_the_grace_period_is_one_stop_stamped_at_the_close()
    {
        var parsed = Golden.Text(string.Join('\n',
            Console_(100, "/local/domain/9/device/vif/0: Connected"),
            Console_(200, "/local/domain/9/device/vif/0: Closing"),
            Console_(200.5, "/local/domain/9/device/vif/0: Closed"),
            Console_(230, "PCI-DMA: Out of SW-IOMMU space for 100 bytes at device 0000:04:00.0")) + "\n",
            new LogParserOptions { DefaultHost = "h" });

        Assert.Equal(9, parsed.Single<VmStarted>().Domid);
        var stopped = parsed.Single<VmStopped>();
        Assert.Equal(("devices_closed", 200.5), (stopped.Evidence, stopped.Uptime!.Value));
        // The stop is emitted when later text proves no reconnect came, before that text's own event.
        Assert.IsType<VmStopped>(parsed.Events[1]);
    }

    [Fact]
    public void A_reconnect_within_the_grace_period_keeps_one_start_and_no_stop()
    {
        var parsed = Golden.Text(string.Join('\n',
            Console_(100, "device vif9.0 entered promiscuous mode"),
            Console_(101, "/local/domain/9/device/vif/0: Closed"),
            Console_(101.1, "frontend_changed: backend/vif/9/0: prepare for reconnect"),
            Console_(101.2, "/local/domain/9/device/vif/0: Connected"),
            Console_(500, "device vif9.0 entered promiscuous mode")) + "\n");

        Assert.Single(parsed.All<VmStarted>());
        Assert.Empty(parsed.All<VmStopped>());
    }

    [Fact]
    public void The_last_vif_leaving_the_bridge_stops_the_domain_at_once()
    {
        var parsed = Golden.Text(Console_(1, "device vif12.0 entered promiscuous mode") + "\n" + Console_(9, "device vif12.0 left promiscuous mode") + "\n");

        Assert.Equal("vif_removed", parsed.Single<VmStopped>().Evidence);
    }

    [Fact]
    public void A_classic_blkback_attach_after_initialising_starts_the_domain_it_belongs_to()
    {
        var parsed = Golden.Text(Console_(1, "/local/domain/31/device/vbd/51712: Initialising") + "\n" + Console_(2, "blkback: ring-ref 8") + "\n");

        var started = parsed.Single<VmStarted>();
        Assert.Equal((31, "blkback_attach"), (started.Domid, started.Evidence));
    }

    [Fact]
    public void A_blkback_line_with_no_domain_initialising_is_informational()
    {
        var parsed = Golden.Text(Console_(2, "blkback: ring-ref 8") + "\n");

        Assert.Empty(parsed.Events);
        Assert.Equal(1, parsed.Statistics.Informational);
    }

    [Fact]
    public void Syslog_times_roll_over_from_December_to_January_inside_one_file()
    {
        var parsed = Golden.Text(
            "Dec 31 23:59:59 h kernel: [10.000000] PCI-DMA: Out of SW-IOMMU space for 1 bytes at device 0000:04:00.0\n" +
            "Jan  1 00:00:01 h kernel: [12.000000] PCI-DMA: Out of SW-IOMMU space for 2 bytes at device 0000:04:00.0\n",
            new LogParserOptions { Year = 2013 });

        Assert.Equal([new DateTimeOffset(2013, 12, 31, 23, 59, 59, TimeSpan.Zero), new DateTimeOffset(2014, 1, 1, 0, 0, 1, TimeSpan.Zero)],
            parsed.All<SwiotlbExhausted>().Select(e => e.Time!.Value));
    }

    [Fact]
    public void Without_a_year_a_file_written_in_January_that_starts_in_December_starts_the_year_before()
    {
        var parsed = Golden.Text(
            "Dec 31 23:59:59 h kernel: PCI-DMA: Out of SW-IOMMU space for 1 bytes at device 0000:04:00.0\n",
            new LogParserOptions { ReferenceTime = new DateTimeOffset(2015, 1, 2, 0, 0, 0, TimeSpan.Zero) });

        Assert.Equal(2014, parsed.Single<SwiotlbExhausted>().Time!.Value.Year);
    }

    [Fact]
    public void Without_year_or_reference_a_syslog_record_has_no_time_rather_than_a_guessed_one()
    {
        var parsed = Golden.Text("Sep 17 05:05:06 h kernel: PCI-DMA: Out of SW-IOMMU space for 1 bytes at device 0000:04:00.0\n", new LogParserOptions());

        Assert.Null(parsed.Single<SwiotlbExhausted>().Time);
    }

    [Fact]
    public void The_syslog_host_wins_over_the_default_host_and_fills_records_without_one()
    {
        var parsed = Golden.Text(
            "Sep 17 05:05:06 real-host kernel: [1.000000] PCI-DMA: Out of SW-IOMMU space for 1 bytes at device 0000:04:00.0\n" +
            "<3>[2.000000] PCI-DMA: Out of SW-IOMMU space for 2 bytes at device 0000:04:00.0\n",
            new LogParserOptions { DefaultHost = "given", Year = 2014 });

        Assert.Equal(["real-host", "given"], parsed.All<SwiotlbExhausted>().Select(e => e.Host));
    }

    [Fact]
    public void Panics_of_two_hosts_interleaved_in_one_stream_are_assembled_per_host()
    {
        static string Line(string host, string message) => $"Sep 17 05:05:06 {host} kernel: [5.000000] {message}";
        var parsed = Golden.Text(string.Join('\n',
            Line("a", "Kernel panic - not syncing: DMA: Random memory could be DMA read"),
            Line("b", "Kernel panic - not syncing: DMA: Random memory could be DMA written"),
            Line("a", "Pid: 1, comm: netback/0 Not tainted 2.6.32.43-0.4.1.xs1.8.0.853.170791xen #1"),
            Line("b", "Pid: 2, comm: kworker/1:0 Tainted: P  W  O 2.6.32.43-0.4.1.xs1.8.0.853.170791xen #1"),
            Line("a", "Call Trace:"),
            Line("b", "Call Trace:"),
            Line("a", "[<c026c228>] swiotlb_full+0x68/0x80"),
            Line("b", "[<c026c518>] swiotlb_map_page+0x108/0x120"),
            Line("a", "PCI-DMA: Out of SW-IOMMU space for 1 bytes at device 0000:04:00.0")) + "\n");

        var panics = parsed.All<KernelPanic>().OrderBy(p => p.Host).ToList();
        Assert.Equal(("a", 1, "netback/0", "swiotlb_full"), (panics[0].Host, panics[0].Pid!.Value, panics[0].Comm, Assert.Single(panics[0].Trace)));
        Assert.Equal(("b", 2, "kworker/1:0", "swiotlb_map_page"), (panics[1].Host, panics[1].Pid!.Value, panics[1].Comm, Assert.Single(panics[1].Trace)));
        Assert.Equal("2.6.32.43-0.4.1.xs1.8.0.853.170791xen", panics[1].KernelVersion);
    }

    [Fact]
    public void A_modern_panic_with_CPU_PID_Comm_and_address_less_frames_is_assembled()
    {
        var parsed = Golden.Text(string.Join('\n',
            "[  100.000000] Kernel panic - not syncing: DMA: Random memory could be DMA accessed",
            "[  100.000001] CPU: 3 PID: 4321 Comm: vhost-net Not tainted 4.4.0+10 #1",
            "[  100.000002] Hardware name: HP ProLiant DL380p Gen8",
            "[  100.000003] Call Trace:",
            "[  100.000004]  <IRQ>",
            "[  100.000005]  dump_stack+0x63/0x90",
            "[  100.000006]  ? swiotlb_map_page+0x10/0x120",
            "[  100.000007]  bnx2x_start_xmit+0x1bf/0x1a70 [bnx2x]",
            "[  100.000008]  </IRQ>",
            "[  100.000009] ---[ end Kernel panic - not syncing: DMA: Random memory could be DMA accessed ]---") + "\n");

        var panic = parsed.Single<KernelPanic>();
        Assert.Equal((4321, "vhost-net", "4.4.0+10"), (panic.Pid!.Value, panic.Comm, panic.KernelVersion));
        Assert.Equal(["dump_stack", "bnx2x_start_xmit"], panic.Trace);
        Assert.Null(panic.Frames[0].Address);
        Assert.Equal(10, parsed.Statistics.EventRecords);
    }
}
