using System.Globalization;
using System.Text;
using System.Text.Json;
using FleetTwin.Domain.Fleet;

namespace FleetTwin.Domain.Prediction;

/// <summary>
/// One class of hosts scored: its panics split by how much warning the alert gave, the alerts no panic followed, and
/// how many hosts reached warning. "Caught" means alerted at least <see cref="BacktestOptions.MinUsefulLeadSeconds"/>
/// before the panic (else it is missed); <see cref="BacktestClasses.UsefulLeadSeconds"/> splits the caught ones into
/// "time to act" and "too late to plan".
/// </summary>
/// <param name="Name">The class (with <c>fleettwin backtest --classes</c>: the directory above the host's directory).</param>
/// <param name="Hosts">Hosts replayed.</param>
/// <param name="HostDays">Host-days their logs cover.</param>
/// <param name="Panics">Swiotlb panics the logs show.</param>
/// <param name="CaughtWithLead">Panics alerted at least an hour before.</param>
/// <param name="CaughtLate">Panics alerted, but less than an hour before.</param>
/// <param name="Missed">Panics without a useful alert.</param>
/// <param name="FalseAlarms">Alerts not followed by a panic of the same boot within the predictor's horizon (24 h), where the log covers that horizon.</param>
/// <param name="HostsReachedWarning">Hosts assessed at warning or above at some moment of the replay.</param>
/// <param name="HostsReachedCritical">Hosts assessed critical at some moment (a panic counts).</param>
/// <param name="UndecidedAlarms">Alerts no panic followed whose horizon runs past the end of the boot's log (<see cref="BacktestAlert.Undecided"/>).</param>
/// <param name="JudgedHostDays">Of <paramref name="HostDays"/>, the days on which an alert could be judged: each boot but its last 24 h.</param>
public sealed record BacktestClassScore(
    string Name,
    int Hosts,
    double HostDays,
    int Panics,
    int CaughtWithLead,
    int CaughtLate,
    int Missed,
    int FalseAlarms,
    int HostsReachedWarning,
    int HostsReachedCritical,
    int UndecidedAlarms,
    double JudgedHostDays)
{
    /// <summary>
    /// False alarms per 100 judged host-days (the target: at most 1 on the corpus as a whole). Judged days, not
    /// covered days: an alert in a boot's last 24 h can only be undecided, never false, so those days cannot count
    /// towards the rate's exposure either.
    /// </summary>
    public double FalseAlarmsPer100HostDays => JudgedHostDays > 0 ? FalseAlarms * 100 / JudgedHostDays : 0;

    /// <summary>Alerts raised while the page of the last boot's swiotlb panic still stood: no new page (<see cref="BacktestAlert.Paged"/>).</summary>
    public int UnpagedAlerts { get; init; }
}

/// <summary>The per-class scores of a backtest, in class-name order, and the whole.</summary>
public sealed record BacktestClassReport(IReadOnlyList<BacktestClassScore> Classes, BacktestClassScore Overall)
{
    /// <summary>
    /// <c>{"CLASS": {"hosts", "host_days", "panics", "caught_lead_1h", "caught_late", "missed", "false_alarms",
    /// "false_alarms_per_100_host_days", "hosts_warning", "hosts_critical", "undecided_alarms", "judged_host_days", "unpaged_alerts"}, ...}</c>,
    /// then the same for <c>(all)</c>.
    /// </summary>
    public void WriteJson(Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        foreach (var score in Classes.Append(Overall))
        {
            json.WriteStartObject(score.Name);
            json.WriteNumber("hosts", score.Hosts);
            json.WriteNumber("host_days", Math.Round(score.HostDays, 4));
            json.WriteNumber("panics", score.Panics);
            json.WriteNumber("caught_lead_1h", score.CaughtWithLead);
            json.WriteNumber("caught_late", score.CaughtLate);
            json.WriteNumber("missed", score.Missed);
            json.WriteNumber("false_alarms", score.FalseAlarms);
            json.WriteNumber("false_alarms_per_100_host_days", Math.Round(score.FalseAlarmsPer100HostDays, 3));
            json.WriteNumber("hosts_warning", score.HostsReachedWarning);
            json.WriteNumber("hosts_critical", score.HostsReachedCritical);
            json.WriteNumber("undecided_alarms", score.UndecidedAlarms);
            json.WriteNumber("judged_host_days", Math.Round(score.JudgedHostDays, 4));
            json.WriteNumber("unpaged_alerts", score.UnpagedAlerts);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    /// <summary>One row per class, then the whole.</summary>
    public string ToText()
    {
        string[] header = ["CLASS", "HOSTS", "HOST-DAYS", "PANICS", "CAUGHT>=1H", "CAUGHT<1H", "MISSED", "FALSE ALARMS", "JUDGED DAYS", "/100 JUDGED", "UNDECIDED", "NO NEW PAGE", "WARNING+", "CRITICAL"];
        var rows = Classes.Append(Overall).Select(s => new[]
        {
            s.Name, Invariant($"{s.Hosts}"), Invariant($"{s.HostDays:0.0}"), Invariant($"{s.Panics}"), Invariant($"{s.CaughtWithLead}"),
            Invariant($"{s.CaughtLate}"), Invariant($"{s.Missed}"), Invariant($"{s.FalseAlarms}"), Invariant($"{s.JudgedHostDays:0.0}"), Invariant($"{s.FalseAlarmsPer100HostDays:0.00}"), Invariant($"{s.UndecidedAlarms}"),
            Invariant($"{s.UnpagedAlerts}"), Invariant($"{s.HostsReachedWarning}"), Invariant($"{s.HostsReachedCritical}"),
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        void Row(IReadOnlyList<string> cells)
        {
            for (var i = 0; i < cells.Count; i++)
            {
                if (i > 0)
                    text.Append("  ");
                text.Append(i == 0 ? cells[i].PadRight(widths[i]) : cells[i].PadLeft(widths[i]));
            }
            text.Append('\n');
        }
        Row(header);
        foreach (var row in rows)
            Row(row);
        return text.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Scores a <see cref="BacktestReport"/> per class of hosts (a fleet corpus: CLASS/HOST/kern.log).</summary>
public static class BacktestClasses
{
    /// <summary>An alert at least this long before the panic gives time to act (evacuate the host, plan the GRO change).</summary>
    public const double UsefulLeadSeconds = 3600;

    /// <summary>The class of hosts <paramref name="classOf"/> names none of.</summary>
    public const string Unclassified = "(unclassified)";

    /// <summary>The name of the overall row.</summary>
    public const string All = "(all)";

    public static BacktestClassReport Score(BacktestReport report, Func<string, string?> classOf)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(classOf);
        string ClassOf(string host) => classOf(host) ?? Unclassified;
        var names = new SortedSet<string>(report.Hosts.Select(h => ClassOf(h.Host)), StringComparer.Ordinal);
        var classes = names.Select(name => ScoreOf(name, report, h => ClassOf(h) == name)).ToList();
        return new BacktestClassReport(classes, ScoreOf(All, report, _ => true));
    }

    private static BacktestClassScore ScoreOf(string name, BacktestReport report, Func<string, bool> member)
    {
        var hosts = report.Hosts.Where(h => member(h.Host)).ToList();
        var panics = report.Panics.Where(p => member(p.Host)).ToList();
        return new BacktestClassScore(
            name,
            hosts.Count,
            hosts.Sum(h => h.HostDays),
            panics.Count,
            panics.Count(p => !p.Missed && p.LeadTimeSeconds >= UsefulLeadSeconds),
            panics.Count(p => !p.Missed && p.LeadTimeSeconds < UsefulLeadSeconds),
            panics.Count(p => p.Missed),
            report.Alerts.Count(a => member(a.Host) && report.IsFalseAlarm(a)),
            hosts.Count(h => h.HighestLevel >= RiskLevel.Warning),
            hosts.Count(h => h.HighestLevel >= RiskLevel.Critical),
            report.Alerts.Count(a => member(a.Host) && a.Undecided),
            hosts.Sum(h => h.JudgedDays))
        {
            UnpagedAlerts = report.Alerts.Count(a => member(a.Host) && !a.Paged),
        };
    }
}
