using System.Text.Json;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Prediction;

namespace FleetTwin.Domain.Tests.Prediction;

/// <summary>Per-class scoring of a backtest: which panics had an hour's warning, which alerts cried wolf, who reached warning.</summary>
public class BacktestClassesTests
{
    private static BacktestPanic Caught(string host, double lead) => new(host, 0, 100_000, 100_000 - lead, lead, false, "DMA: Random memory could be DMA read", "critical");

    private static BacktestPanic Missed(string host) => new(host, 0, 100_000, null, 0, true, "DMA: Random memory could be DMA read", null);

    private static BacktestAlert Alert(string host, double uptime) => new(host, 0, uptime, RiskLevel.Critical, "critical");

    /// <summary>A host whose boots' last 24 h are not judged: one day less per boot.</summary>
    private static BacktestHost Host(string name, double days, int boots, RiskLevel highest) => new(name, days, boots, highest) { JudgedDays = days - boots };

    /// <summary>
    /// kb: a panic alerted 2 h ahead and one 30 min ahead, on two hosts; nic: a missed panic, two alerts before
    /// nothing, one alert in a log that ends within its horizon (undecided) and one host that only reached warning;
    /// the unnamed host goes to (unclassified).
    /// </summary>
    private static BacktestReport Report()
    {
        BacktestPanic[] panics = [Caught("kb-1", 7200), Caught("kb-2", 1800), Missed("nic-1")];
        BacktestAlert[] alerts = [Alert("kb-1", 100_000 - 7200), Alert("kb-2", 100_000 - 1800), Alert("nic-2", 1000), Alert("nic-2", 200_000),
            Alert("nic-3", 400_000) with { Undecided = true }];
        return new BacktestReport(panics, alerts, FalseAlarms: 2, MissedPanics: 1, HostDays: 50, BacktestOptions.Default)
        {
            Hosts =
            [
                Host("kb-1", 10, 2, RiskLevel.Critical), Host("kb-2", 10, 2, RiskLevel.Critical),
                Host("nic-1", 10, 2, RiskLevel.Critical), Host("nic-2", 10, 1, RiskLevel.Critical),
                Host("nic-3", 5, 1, RiskLevel.Warning), Host("other", 5, 1, RiskLevel.Latent),
            ],
        };
    }

    private static string? ClassOf(string host) => host.StartsWith("kb-", StringComparison.Ordinal) ? "kb" : host.StartsWith("nic-", StringComparison.Ordinal) ? "nic" : null;

    [Fact]
    public void Each_class_counts_its_panics_by_lead_its_false_alarms_per_100_host_days_and_its_hosts_at_warning()
    {
        var scores = BacktestClasses.Score(Report(), ClassOf);

        Assert.Equal(["(unclassified)", "kb", "nic"], scores.Classes.Select(c => c.Name));
        Assert.Equal(new BacktestClassScore("kb", 2, 20, 2, 1, 1, 0, 0, 2, 2, 0, 16), scores.Classes[1]);
        Assert.Equal(new BacktestClassScore("nic", 3, 25, 1, 0, 0, 1, 2, 3, 2, 1, 21), scores.Classes[2]);
        Assert.Equal(200.0 / 21, scores.Classes[2].FalseAlarmsPer100HostDays, 12); // per judged host-day
        Assert.Equal(new BacktestClassScore("(unclassified)", 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 4), scores.Classes[0]);
        Assert.Equal(new BacktestClassScore("(all)", 6, 50, 3, 1, 1, 1, 2, 5, 4, 1, 41), scores.Overall);
        Assert.Equal(200.0 / 41, scores.Overall.FalseAlarmsPer100HostDays, 12);
    }

    [Fact]
    public void An_alert_an_hour_before_its_panic_is_caught_with_lead_and_one_second_less_is_late()
    {
        BacktestPanic[] panics = [Caught("a", 3600), Caught("b", 3599.999)];
        var report = new BacktestReport(panics, [], 0, 0, 2, BacktestOptions.Default)
        {
            Hosts = [Host("a", 1, 1, RiskLevel.Critical), Host("b", 1, 1, RiskLevel.Critical)],
        };

        var overall = BacktestClasses.Score(report, _ => "x").Overall;

        Assert.Equal((1, 1), (overall.CaughtWithLead, overall.CaughtLate));
    }

    [Fact]
    public void The_json_keeps_todays_fields_first_and_adds_the_classes()
    {
        var report = Report();

        using var json = JsonDocument.Parse(report.ToJson(BacktestClasses.Score(report, ClassOf)));

        Assert.Equal(["panics", "false_alarms", "missed_panics", "host_days", "undecided_alarms", "judged_host_days", "unpaged_alerts", "classes"], json.RootElement.EnumerateObject().Select(p => p.Name));
        var nic = json.RootElement.GetProperty("classes").GetProperty("nic");
        Assert.Equal(["hosts", "host_days", "panics", "caught_lead_1h", "caught_late", "missed", "false_alarms", "false_alarms_per_100_host_days", "hosts_warning", "hosts_critical",
            "undecided_alarms", "judged_host_days", "unpaged_alerts"], nic.EnumerateObject().Select(p => p.Name));
        Assert.Equal((1, 2, 9.524, 1, 21.0), (nic.GetProperty("missed").GetInt32(), nic.GetProperty("false_alarms").GetInt32(), nic.GetProperty("false_alarms_per_100_host_days").GetDouble(),
            nic.GetProperty("undecided_alarms").GetInt32(), nic.GetProperty("judged_host_days").GetDouble()));
        Assert.Equal(["(unclassified)", "kb", "nic", "(all)"], json.RootElement.GetProperty("classes").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void A_replay_gives_each_host_its_covered_days_over_its_boots_and_the_highest_level_it_reached()
    {
        TwinEvent[] events =
        [
            new KernelBoot { Host = "a", Uptime = 0, KernelVersion = "k", SourceFile = "kern.log" },
            new SwiotlbExhausted { Host = "a", Uptime = 3600, Bytes = 20000, Device = "0000:04:00.0", SourceFile = "kern.log" },
            new VmStarted { Host = "a", Uptime = 86400, Domid = 7, SourceFile = "kern.log" },
            new KernelBoot { Host = "a", Uptime = 0, KernelVersion = "k", SourceFile = "kern.log" },
            new VmStarted { Host = "a", Uptime = 43200, Domid = 8, SourceFile = "kern.log" },
            new KernelBoot { Host = "b", Uptime = 0, KernelVersion = "k", SourceFile = "b.log" },
            new VmStarted { Host = "b", Uptime = 43200, Domid = 9, SourceFile = "b.log" },
        ];

        var report = Backtest.Run(events);

        // a: 1 day then half a day (judged: 0 + 0); b: half a day (judged: 0).
        Assert.Equal([new BacktestHost("a", 1.5, 2, RiskLevel.Warning), new BacktestHost("b", 0.5, 1, RiskLevel.Ok)], report.Hosts);
    }
}
