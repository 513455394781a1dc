using System.Text.Json;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Prediction;

namespace FleetTwin.Domain.Tests.Prediction;

public class BacktestTests
{
    private static SwiotlbExhausted Failure(string host, double uptime, long bytes, string file = "kern.log") =>
        new() { Host = host, Uptime = uptime, Bytes = bytes, Device = "0000:04:00.1", SourceFile = file };

    private static KernelPanic Panic(string host, double uptime, string file = "kern.log") =>
        new() { Host = host, Uptime = uptime, Message = "DMA: Random memory could be DMA read", SourceFile = file };

    [Fact]
    public void A_panic_after_a_stream_of_failures_is_caught_with_the_lead_time_from_the_first_alert()
    {
        TwinEvent[] events = [Failure("a", 1000, 25000), Failure("a", 2000, 17000), Failure("a", 4000, 33302), Panic("a", 4000.0001)];

        var report = Backtest.Run(events);

        var panic = Assert.Single(report.Panics);
        Assert.Equal((1000.0, 3000.0001, false), (panic.FirstAlertUptime!.Value, Math.Round(panic.LeadTimeSeconds, 4), panic.Missed));
        Assert.Equal(0, report.FalseAlarms);
    }

    [Fact]
    public void A_panic_whose_only_warning_is_its_own_failed_mapping_is_missed_with_lead_time_zero()
    {
        TwinEvent[] events = [new KernelBoot { Host = "a", Uptime = 0, KernelVersion = "k" }, Failure("a", 4000, 33302), Panic("a", 4000.0001)];

        var report = Backtest.Run(events);

        var panic = Assert.Single(report.Panics);
        Assert.True(panic.Missed);
        Assert.Equal(0, panic.LeadTimeSeconds);
        Assert.Null(panic.FirstAlertUptime);
        Assert.Equal(1, report.MissedPanics);
    }

    [Fact]
    public void An_alert_not_followed_by_a_panic_is_a_false_alarm_per_host_day()
    {
        TwinEvent[] events = [Failure("b", 1000, 20000), new VmStarted { Host = "b", Uptime = 1000 + 2 * 86400, Domid = 7, SourceFile = "kern.log" }];

        var report = Backtest.Run(events);

        Assert.Empty(report.Panics);
        Assert.Equal(1, report.FalseAlarms);
        Assert.Equal(2.0, report.HostDays); // (1000 + 2 days) - 1000 s, exact in binary
    }

    [Fact]
    public void The_same_records_in_two_files_count_once_and_a_reboot_in_a_file_starts_a_new_boot()
    {
        TwinEvent[] events =
        [
            Failure("a", 1000, 25000, "kern.log"), Failure("a", 3000, 17000, "kern.log"),
            new KernelBoot { Host = "a", Uptime = 0, KernelVersion = "k", SourceFile = "kern.log" },
            Failure("a", 1000, 25000, "dom0.log"), Failure("a", 3000, 17000, "dom0.log"), Failure("a", 3500, 33302, "dom0.log"), Panic("a", 3500.0001, "dom0.log"),
        ];

        var report = Backtest.Run(events);

        var panic = Assert.Single(report.Panics);
        Assert.Equal(2500.0001, Math.Round(panic.LeadTimeSeconds, 4));
        Assert.Single(report.Alerts);
    }

    [Fact]
    public void The_json_has_exactly_the_issue_fields()
    {
        var report = Backtest.Run([Failure("a", 1000, 25000), Failure("a", 4000, 33302), Panic("a", 4000.0001)]);

        using var json = JsonDocument.Parse(report.ToJson());
        Assert.Equal(["panics", "false_alarms", "missed_panics", "host_days"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["host", "panic_uptime", "first_alert_uptime", "lead_time_seconds"], json.RootElement.GetProperty("panics")[0].EnumerateObject().Select(p => p.Name));
    }
}
