using System.Text.Json;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Prediction;
using FleetTwin.Domain.Tests.Planning;

namespace FleetTwin.Domain.Tests.Prediction;

public class BacktestTests
{
    private static SwiotlbExhausted Failure(string host, double uptime, long bytes, string file = "kern.log") =>
        new() { Host = host, Uptime = uptime, Bytes = bytes, Device = "0000:04:00.1", SourceFile = file };

    private static KernelPanic Panic(string host, double uptime, string file = "kern.log") =>
        new() { Host = host, Uptime = uptime, Message = "DMA: Random memory could be DMA read", SourceFile = file };

    private static KernelBoot Boot(string host, string file = "kern.log") =>
        new() { Host = host, Uptime = 0, KernelVersion = "2.6.32.43-0.4.1.xs1.8.0.853.170791xen", XenServerRelease = "6.2", SourceFile = file };

    /// <summary>Every host is the KB configuration: a bnx2x bond eth4 (0000:04:00.0) + eth5 (0000:04:00.1), MTU 9000, GRO off.</summary>
    private static HostConfiguration? Bnx2x(string host)
    {
        var inventory = new PoolFacts().Host(host).Inventory();
        return HostConfiguration.From(inventory, inventory.Hosts[host]);
    }

    [Fact]
    public void A_panic_after_a_burst_of_failures_is_caught_with_the_lead_time_from_the_first_critical_alert()
    {
        // 17 minutes after boot, two failures within 8 s on a bnx2x port are already critical (the log's short
        // exposure gives no quiet time to weigh them against); the 33,302-byte one panics at 4000.
        TwinEvent[] events = [Boot("a"), Failure("a", 1000, 25000), Failure("a", 1008, 17000), Failure("a", 1143, 17500),
            Failure("a", 4000, 33302), Panic("a", 4000.0001)];

        var report = Backtest.Run(events, Bnx2x);

        var panic = Assert.Single(report.Panics);
        Assert.Equal((1008.0, 2992.0001, false), (panic.FirstAlertUptime!.Value, Math.Round(panic.LeadTimeSeconds, 4), panic.Missed));
        Assert.Single(report.Alerts);
        Assert.Equal(0, report.FalseAlarms);
    }

    [Fact]
    public void The_same_burst_at_a_device_the_logs_do_not_name_is_missed_because_it_never_goes_past_warning()
    {
        TwinEvent[] events = [Boot("a"), Failure("a", 1000, 25000), Failure("a", 1008, 17000), Failure("a", 1143, 17500),
            Failure("a", 4000, 33302), Panic("a", 4000.0001)];

        var report = Backtest.Run(events);

        Assert.True(Assert.Single(report.Panics).Missed);
        Assert.Empty(report.Alerts);
    }

    [Fact]
    public void A_panic_whose_only_warning_is_its_own_failed_mapping_is_missed_with_lead_time_zero()
    {
        TwinEvent[] events = [Boot("a"), Failure("a", 4000, 33302), Panic("a", 4000.0001)];

        var report = Backtest.Run(events, Bnx2x);

        var panic = Assert.Single(report.Panics);
        Assert.True(panic.Missed);
        Assert.Equal(0, panic.LeadTimeSeconds);
        Assert.Null(panic.FirstAlertUptime);
        Assert.Equal(1, report.MissedPanics);
    }

    [Fact]
    public void A_critical_alert_not_followed_by_a_panic_is_a_false_alarm_per_host_day()
    {
        TwinEvent[] events = [Boot("b"), Failure("b", 1000, 20000), Failure("b", 1010, 20000), Failure("b", 1020, 20000),
            new VmStarted { Host = "b", Uptime = 2 * 86400, Domid = 7, SourceFile = "kern.log" }];

        var report = Backtest.Run(events, Bnx2x);

        Assert.Empty(report.Panics);
        Assert.Equal(1, report.FalseAlarms);
        Assert.Equal(2.0, report.HostDays, 3);
        Assert.Equal(1.0, report.JudgedHostDays, 3); // the boot's last 24 h can hold no judged alarm
        Assert.Equal(1.0, report.FalseAlarmsPerHostDay, 3);
    }

    [Fact]
    public void A_critical_alert_whose_log_ends_within_24_h_without_a_panic_is_undecided_not_false()
    {
        // The same burst, but the log stops 20 h later: whether the host would have panicked is not in it.
        TwinEvent[] events = [Boot("b"), Failure("b", 1000, 20000), Failure("b", 1010, 20000), Failure("b", 1020, 20000),
            new VmStarted { Host = "b", Uptime = 1000 + 20 * 3600, Domid = 7, SourceFile = "kern.log" }];

        var report = Backtest.Run(events, Bnx2x);

        Assert.True(Assert.Single(report.Alerts).Undecided);
        Assert.Equal((0, 1, 0.0), (report.FalseAlarms, report.UndecidedAlarms, report.JudgedHostDays));
    }

    [Fact]
    public void An_alert_followed_by_its_panic_is_caught_even_when_the_log_ends_at_the_panic()
    {
        TwinEvent[] events = [Boot("a"), Failure("a", 1000, 25000), Failure("a", 1008, 17000), Failure("a", 1143, 17500),
            Failure("a", 4000, 33302), Panic("a", 4000.0001)];

        var report = Backtest.Run(events, Bnx2x);

        Assert.False(Assert.Single(report.Alerts).Undecided);
        Assert.Equal((0, 0), (report.FalseAlarms, report.UndecidedAlarms));
    }

    /// <summary>Boot 0 of host "c": a burst that goes critical at 1008 and panics at 4000; the log reboots after it.</summary>
    private static List<TwinEvent> PanickedBoot() =>
        [Boot("c"), Failure("c", 1000, 25000), Failure("c", 1008, 17000), Failure("c", 1143, 17500), Failure("c", 4000, 33302), Panic("c", 4000.0001), Boot("c")];

    [Fact]
    public void An_alert_while_the_last_panics_page_stands_is_no_new_page_and_never_a_false_alarm()
    {
        // Back from the panic, the host fails again 20 min into the new boot: critical on this boot's evidence (the
        // configuration that panicked fails the same way), but the twin is paging for that panic still (24 h), so it
        // sends nothing new. Two quiet days follow without a panic.
        var events = PanickedBoot();
        events.AddRange([Failure("c", 1200, 21000), new VmStarted { Host = "c", Uptime = 3 * 86400, Domid = 9, SourceFile = "kern.log" }]);

        var report = Backtest.Run(events, Bnx2x);

        Assert.Equal(2, report.Alerts.Count);
        var again = report.Alerts[1];
        Assert.Equal((1, 1200.0, false), (again.Boot, again.Uptime, again.Paged));
        Assert.False(report.IsFalseAlarm(again));
        Assert.Equal((0, 1), (report.FalseAlarms, report.UnpagedAlerts));
        Assert.Contains("no new page", report.ToText(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_alert_after_the_panics_page_lapsed_is_a_page_and_false_when_no_panic_follows()
    {
        // The first failure of the new boot comes 30 h after the panic: the panic's page ended at 24 h, so the alert
        // is a new page, and no panic follows it within a day.
        var events = PanickedBoot();
        events.AddRange([Failure("c", 30 * 3600, 25000), new VmStarted { Host = "c", Uptime = 30 * 3600 + 2 * 86400, Domid = 9, SourceFile = "kern.log" }]);

        var report = Backtest.Run(events, Bnx2x);

        var again = report.Alerts[^1];
        Assert.Equal((1, true), (again.Boot, again.Paged));
        Assert.Equal((1, 0), (report.FalseAlarms, report.UnpagedAlerts));
    }

    [Fact]
    public void An_alert_while_the_page_stands_still_gives_the_lead_of_the_next_panic()
    {
        var events = PanickedBoot();
        events.AddRange([Failure("c", 1200, 21000), Failure("c", 5000, 33500), Panic("c", 5000.0001)]);

        var report = Backtest.Run(events, Bnx2x);

        var second = report.Panics[1];
        Assert.Equal((false, 1200.0, 3800.0001), (second.Missed, second.FirstAlertUptime!.Value, Math.Round(second.LeadTimeSeconds, 4)));
    }

    [Fact]
    public void A_single_failure_is_no_alarm_at_all()
    {
        TwinEvent[] events = [Boot("b"), Failure("b", 1000, 20000), new VmStarted { Host = "b", Uptime = 2 * 86400, Domid = 7, SourceFile = "kern.log" }];

        var report = Backtest.Run(events, Bnx2x);

        Assert.Empty(report.Alerts);
        Assert.Equal(0, report.FalseAlarms);
    }

    [Fact]
    public void The_same_records_in_two_files_count_once_and_a_reboot_in_a_file_starts_a_new_boot()
    {
        TwinEvent[] events =
        [
            Failure("a", 1000, 25000, "kern.log"), Failure("a", 1008, 17000, "kern.log"), Failure("a", 1143, 17500, "kern.log"),
            Boot("a"),
            Failure("a", 1000, 25000, "dom0.log"), Failure("a", 1008, 17000, "dom0.log"), Failure("a", 1143, 17500, "dom0.log"),
            Failure("a", 3500, 33302, "dom0.log"), Panic("a", 3500.0001, "dom0.log"),
        ];

        var report = Backtest.Run(events, Bnx2x);

        var panic = Assert.Single(report.Panics);
        Assert.Equal(2492.0001, panic.LeadTimeSeconds, 3);
        // Files are matched boot by boot: dom0.log's records are kern.log's first boot, counted once; one alert.
        Assert.Single(report.Alerts);
    }

    [Fact]
    public void The_json_has_the_issue_fields_first_then_the_undecided_alarms_and_judged_days()
    {
        var report = Backtest.Run([Boot("a"), Failure("a", 1000, 25000), Failure("a", 4000, 33302), Panic("a", 4000.0001)], Bnx2x);

        using var json = JsonDocument.Parse(report.ToJson());
        Assert.Equal(["panics", "false_alarms", "missed_panics", "host_days", "undecided_alarms", "judged_host_days", "unpaged_alerts"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["host", "panic_uptime", "first_alert_uptime", "lead_time_seconds"], json.RootElement.GetProperty("panics")[0].EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void A_reboot_that_fails_once_and_panics_minutes_later_is_caught_because_its_last_boot_panicked_the_same_way()
    {
        // exact-ramp's reboots: the host comes back with its VMs and the same configuration, fails at 541 and panics at 720.
        TwinEvent[] events = [Boot("a"), Failure("a", 1000, 25000), Failure("a", 1008, 17000), Failure("a", 1143, 17500),
            Failure("a", 4000, 33302), Panic("a", 4000.0001), Boot("a"), Failure("a", 541, 30883), Failure("a", 720, 33302), Panic("a", 720.0001)];

        var report = Backtest.Run(events, Bnx2x);

        Assert.Equal(2, report.Panics.Count);
        var second = report.Panics[1];
        Assert.Equal((1, 541.0, false), (second.Boot, second.FirstAlertUptime!.Value, second.Missed));
        Assert.Contains("the last boot ended in a swiotlb panic", second.AlertReason, StringComparison.Ordinal);
        Assert.Equal(0, report.FalseAlarms);
    }
}
