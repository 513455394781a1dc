using System.Globalization;
using System.Text;
using System.Text.Json;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;

namespace FleetTwin.Domain.Prediction;

/// <summary>Options of a backtest: the predictor's, the alert level, and how much warning counts as warning.</summary>
public sealed record BacktestOptions
{
    public PredictorOptions Predictor { get; init; } = PredictorOptions.Default;

    /// <summary>The level an operator is paged at.</summary>
    public RiskLevel AlertLevel { get; init; } = RiskLevel.Critical;

    /// <summary>
    /// An alert raised less than this before the panic leaves no time to act (the out-of-space record printed just
    /// before the panic is the panic itself): the panic counts as missed.
    /// </summary>
    public double MinUsefulLeadSeconds { get; init; } = 60;

    public static BacktestOptions Default { get; } = new();
}

/// <summary>
/// Replays host logs through the <see cref="PanicPredictor"/> and scores it against the panics that really happened.
/// Events are grouped per host and per boot, put in uptime order, de-duplicated (kern.log and the crash console's
/// dom0.log carry the same records) and fed one by one; after each the host is assessed at that uptime.
/// <para>
/// Boots: within one file a host's uptime going backwards starts a new boot; boots of different files are matched by
/// their order in each file, so every file is assumed to start in the same boot (true of a kern.log and the console
/// log of the crash that ended it).
/// </para>
/// </summary>
public static class Backtest
{
    public static BacktestReport Run(IEnumerable<TwinEvent> events, Func<string, HostConfiguration?>? configurationOf = null, BacktestOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        options ??= BacktestOptions.Default;
        var boots = new Dictionary<(string Host, int Boot), List<(TwinEvent Event, long Order)>>();
        var lastUptime = new Dictionary<(string File, string Host), (double Uptime, int Boot)>();
        long order = 0;
        foreach (var e in events)
        {
            if (e.Uptime is not { } uptime)
                continue; // command-output facts have no uptime: they are configuration, not a moment in a boot
            var host = e.Host ?? "(no host)";
            var key = (e.SourceFile, host);
            var boot = 0;
            if (lastUptime.TryGetValue(key, out var last))
                boot = uptime + 1 < last.Uptime ? last.Boot + 1 : last.Boot;
            lastUptime[key] = (uptime, boot);
            if (!boots.TryGetValue((host, boot), out var list))
                boots[(host, boot)] = list = [];
            list.Add((e, order++));
        }

        var panics = new List<BacktestPanic>();
        var alerts = new List<BacktestAlert>();
        var hosts = new SortedDictionary<string, BacktestHost>(StringComparer.Ordinal);
        double hostSeconds = 0, judgedSeconds = 0;
        // One state per host across its boots, as the live twin keeps it: the predictor sees this boot's records and
        // the summaries of the boots before (how they ended).
        var states = new Dictionary<string, HostState>(StringComparer.Ordinal);
        foreach (var ((host, boot), list) in boots.OrderBy(b => b.Key.Host, StringComparer.Ordinal).ThenBy(b => b.Key.Boot))
        {
            var ordered = list.OrderBy(x => x.Event.Uptime!.Value).ThenBy(x => x.Order).Select(x => x.Event).ToList();
            var seconds = ordered[^1].Uptime!.Value - ordered[0].Uptime!.Value;
            hostSeconds += seconds;
            // An alert can be judged false only where the log runs a whole horizon past it (see BacktestAlert.Undecided).
            var judged = Math.Max(0, seconds - options.Predictor.Horizon.TotalSeconds);
            judgedSeconds += judged;
            if (!states.TryGetValue(host, out var state))
                states[host] = state = new HostState { Name = host };
            else
                state.BeginBoot(ordered[0].Uptime!.Value, ordered[0].Time);
            var highest = ReplayBoot(state, boot, ordered, configurationOf?.Invoke(host), options, panics, alerts);
            hosts[host] = hosts.TryGetValue(host, out var seen)
                ? seen with
                {
                    HostDays = seen.HostDays + seconds / 86400, Boots = seen.Boots + 1, HighestLevel = (RiskLevel)Math.Max((int)seen.HighestLevel, (int)highest),
                    JudgedDays = seen.JudgedDays + judged / 86400,
                }
                : new BacktestHost(host, seconds / 86400, 1, highest) { JudgedDays = judged / 86400 };
        }

        var falseAlarms = alerts.Count(a => BacktestReport.IsFalseAlarm(a, panics, options));
        return new BacktestReport(panics, alerts, falseAlarms, panics.Count(p => p.Missed), hostSeconds / 86400, options)
        {
            Hosts = [.. hosts.Values],
            JudgedHostDays = judgedSeconds / 86400,
        };
    }

    /// <summary>Replays one boot; returns the highest level the host was assessed at (a swiotlb panic counts as critical).</summary>
    private static RiskLevel ReplayBoot(HostState state, int boot, List<TwinEvent> events, HostConfiguration? config, BacktestOptions options,
        List<BacktestPanic> panics, List<BacktestAlert> alerts)
    {
        var host = state.Name;
        var highest = RiskLevel.Unknown;
        var firstAlertOfBoot = alerts.Count;
        var bootPanics = state.Panics.Count;
        var alerting = false;
        BacktestAlert? firstSincePanic = null;
        foreach (var e in events)
        {
            if (!state.Apply(e))
                continue;
            var uptime = e.Uptime!.Value;
            if (e is KernelPanic)
            {
                var record = state.Panics[^1];
                if (!PanicPredictor.IsSwiotlbPanic(record))
                    continue;
                var lead = firstSincePanic is null ? 0 : uptime - firstSincePanic.Uptime;
                var missed = lead < options.MinUsefulLeadSeconds;
                panics.Add(new BacktestPanic(host, boot, uptime, missed ? null : firstSincePanic!.Uptime, missed ? 0 : lead, missed, record.Message,
                    missed ? null : firstSincePanic!.Reason));
                // Whatever follows in this boot's log (the rest of the console dump) is not a new alert.
                firstSincePanic = null;
                alerting = true;
                highest = RiskLevel.Critical;
                continue;
            }
            var prediction = PanicPredictor.Assess(state, config, uptime, options.Predictor);
            // Scored on this boot's evidence: a level carried over from the last boot's panic is that panic's page.
            var level = prediction.OwnBootLevel ?? prediction.Level;
            if (level > highest)
                highest = level;
            var above = level >= options.AlertLevel;
            if (above && !alerting)
            {
                // The twin pages on a change of the host's level. A host back from a swiotlb panic is at the alert
                // level already (the panic's page stands for the critical hold): its own-evidence alert is scored for
                // the next panic's lead, but no new page goes out, so it cannot be a false one.
                var standing = PanicPredictor.CarriedFromLastBoot(state, config, uptime, options.Predictor) >= options.AlertLevel;
                var alert = new BacktestAlert(host, boot, uptime, level, prediction.Reason) { Paged = !standing };
                alerts.Add(alert);
                firstSincePanic ??= alert;
            }
            if (!above && alerting && state.Panics.Count == bootPanics)
                firstSincePanic = null; // the alert was withdrawn before anything happened: a later one starts afresh
            alerting = above || (alerting && state.Panics.Count > bootPanics);
        }
        // Right-censored alerts: no swiotlb panic followed within the horizon, but the boot's log ends before the
        // horizon does, so whether the host would have panicked is not in the log (the replay ended, or the host was
        // rebooted for another reason). They are neither caught panics nor false alarms.
        var end = events[^1].Uptime!.Value;
        var horizon = options.Predictor.Horizon.TotalSeconds;
        for (var i = firstAlertOfBoot; i < alerts.Count; i++)
        {
            var alert = alerts[i];
            if (alert.Paged && alert.Uptime + horizon > end && BacktestReport.IsFalseAlarm(alert, panics, options))
                alerts[i] = alert with { Undecided = true };
        }
        return highest;
    }
}

/// <summary>One panic of the backtest and how much warning the predictor gave.</summary>
public sealed record BacktestPanic(string Host, int Boot, double PanicUptime, double? FirstAlertUptime, double LeadTimeSeconds, bool Missed, string Message, string? AlertReason);

/// <summary>One host of a backtest: the host-days its log covers (over all its boots) and the highest level it was assessed at.</summary>
public sealed record BacktestHost(string Host, double HostDays, int Boots, RiskLevel HighestLevel)
{
    /// <summary>Of <see cref="HostDays"/>, the days on which an alert could be judged: each boot but its last horizon (24 h).</summary>
    public double JudgedDays { get; init; }
}

/// <summary>One moment a host's risk rose to the alert level.</summary>
public sealed record BacktestAlert(string Host, int Boot, double Uptime, RiskLevel Level, string Reason)
{
    /// <summary>
    /// No swiotlb panic followed, but the boot's log ends within the horizon after the alert: neither caught nor false.
    /// A backtest that counted these as false would score a log cut short a day after a critical burst (the corpus's
    /// one-day exact ramps) as crying wolf about a panic the log never had the time to show.
    /// </summary>
    public bool Undecided { get; init; }

    /// <summary>
    /// False when the host was at the alert level already as this boot's own evidence reached it: the page of the
    /// swiotlb panic that ended the boot before still stood, so the twin sent no new one. Such an alert still counts
    /// as the warning before this boot's next panic, but never as a false alarm.
    /// </summary>
    public bool Paged { get; init; } = true;
}

/// <summary>The score: lead time per panic, false alarms (alerts not followed by a panic within the horizon), missed panics, host-days replayed.</summary>
public sealed record BacktestReport(
    IReadOnlyList<BacktestPanic> Panics,
    IReadOnlyList<BacktestAlert> Alerts,
    int FalseAlarms,
    int MissedPanics,
    double HostDays,
    BacktestOptions Options)
{
    /// <summary>Every host replayed, by name.</summary>
    public IReadOnlyList<BacktestHost> Hosts { get; init; } = [];

    /// <summary>Of <see cref="HostDays"/>, those on which an alert could be judged (each boot but its last horizon).</summary>
    public double JudgedHostDays { get; init; }

    /// <summary>Alerts whose horizon the log does not cover and that no panic followed (<see cref="BacktestAlert.Undecided"/>).</summary>
    public int UndecidedAlarms => Alerts.Count(a => a.Undecided);

    /// <summary>Alerts raised while the page of the last boot's swiotlb panic still stood (<see cref="BacktestAlert.Paged"/> false).</summary>
    public int UnpagedAlerts => Alerts.Count(a => !a.Paged);

    /// <summary>False alarms per judged host-day: a false alarm can only be seen where a whole horizon of log follows.</summary>
    public double FalseAlarmsPerHostDay => JudgedHostDays > 0 ? FalseAlarms / JudgedHostDays : 0;

    /// <summary>True when no swiotlb panic of the alert's host and boot followed it within the predictor's horizon.</summary>
    public bool IsFalseAlarm(BacktestAlert alert) => IsFalseAlarm(alert, Panics, Options);

    internal static bool IsFalseAlarm(BacktestAlert alert, IReadOnlyList<BacktestPanic> panics, BacktestOptions options) =>
        alert.Paged && !alert.Undecided && !panics.Any(p => p.Host == alert.Host && p.Boot == alert.Boot
            && p.PanicUptime >= alert.Uptime && p.PanicUptime - alert.Uptime <= options.Predictor.Horizon.TotalSeconds);

    /// <summary>
    /// <c>{"panics":[{"host","panic_uptime","first_alert_uptime","lead_time_seconds"}], "false_alarms":N, "missed_panics":N, "host_days":X}</c>;
    /// a missed panic has <c>first_alert_uptime</c> null and <c>lead_time_seconds</c> 0. With <paramref name="classes"/>,
    /// a <c>classes</c> object follows (<see cref="BacktestClassReport.WriteJson"/>); the fields before it stay the same.
    /// </summary>
    public string ToJson(BacktestClassReport? classes = null)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartArray("panics");
            foreach (var p in Panics)
            {
                json.WriteStartObject();
                json.WriteString("host", p.Host);
                json.WriteNumber("panic_uptime", Math.Round(p.PanicUptime, 6));
                if (p.FirstAlertUptime is { } alert)
                    json.WriteNumber("first_alert_uptime", Math.Round(alert, 6));
                else
                    json.WriteNull("first_alert_uptime");
                json.WriteNumber("lead_time_seconds", Math.Round(p.LeadTimeSeconds, 2));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteNumber("false_alarms", FalseAlarms);
            json.WriteNumber("missed_panics", MissedPanics);
            json.WriteNumber("host_days", Math.Round(HostDays, 4));
            json.WriteNumber("undecided_alarms", UndecidedAlarms);
            json.WriteNumber("judged_host_days", Math.Round(JudgedHostDays, 4));
            json.WriteNumber("unpaged_alerts", UnpagedAlerts);
            if (classes is not null)
            {
                json.WritePropertyName("classes");
                classes.WriteJson(json);
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The readable report: one line per panic and alert, then the score.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        foreach (var p in Panics)
        {
            text.Append(p.Missed
                ? Invariant($"MISSED  {p.Host} panic at uptime {p.PanicUptime:0.00} ({p.Message}): no {Options.AlertLevel.ToString().ToLowerInvariant()} alert at least {Options.MinUsefulLeadSeconds:0} s before it")
                : Invariant($"CAUGHT  {p.Host} panic at uptime {p.PanicUptime:0.00}: {Options.AlertLevel.ToString().ToLowerInvariant()} from uptime {p.FirstAlertUptime:0.00}, lead time {p.LeadTimeSeconds:0} s ({PanicPredictor.Duration(p.LeadTimeSeconds)})"));
            text.AppendLine();
            if (p.AlertReason is not null)
                text.Append("        first alert: ").Append(p.AlertReason).AppendLine();
        }
        foreach (var a in Alerts)
            text.Append(Invariant($"alert   {a.Host} boot {a.Boot} at uptime {a.Uptime:0.00}: {a.Reason}")).Append(a.Undecided ? " (undecided: the log ends within 24 h and shows no panic)"
                : IsFalseAlarm(a) ? " (FALSE ALARM: no swiotlb panic of this boot within 24 h)"
                : !a.Paged ? " (no new page: the last boot's swiotlb panic still stood)" : "").AppendLine();
        text.Append(Invariant($"panics: {Panics.Count}  missed: {MissedPanics}  false alarms: {FalseAlarms} in {JudgedHostDays:0.###} judged of {HostDays:0.###} host-days ({FalseAlarmsPerHostDay:0.###}/host-day)  undecided: {UndecidedAlarms}  no new page: {UnpagedAlerts}")).AppendLine();
        return text.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
