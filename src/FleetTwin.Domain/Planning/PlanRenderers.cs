using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FleetTwin.Domain.Planning;

/// <summary>The plan as an operator reads it.</summary>
public static class PlanText
{
    public static string Render(RollingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var t = new StringBuilder();
        t.Append(Invariant($"Rolling GRO plan for pool {plan.Pool}{(plan.Master is null ? "" : $" (master {plan.Master})")}, at most {plan.MaxDown} host(s) down at once")).AppendLine();
        if (!plan.Complete)
            t.AppendLine("PLAN INCOMPLETE: see 'cannot decide' and blocked hosts below.");
        AppendSummary(t, plan);
        if (plan.Ha.Enabled == true)
        {
            t.AppendLine("Pool HA is on: before the first wave  xe pool-ha-disable");
            t.AppendLine(plan.Ha.RestoreUnknown
                ? "  after the last wave  xe pool-ha-enable heartbeat-sr-uuids=<SR>   # HEARTBEAT SR UNKNOWN: no ha-statefiles read; the script asks the live pool, else restore HA by hand"
                : Invariant($"  after the last wave  xe pool-ha-enable heartbeat-sr-uuids=<SR of VDI {string.Join(",", plan.Ha.Statefiles)}>{(plan.Ha.HostFailuresToTolerate is { } n ? $"; xe pool-param-set ha-host-failures-to-tolerate={n}" : "")}"));
        }
        if (plan.Canary is { } canary)
            t.Append(Invariant($"Canary: {canary.Host}, NIC class {canary.NicClass} (hosts: {string.Join(", ", canary.HostsOfClass)}): {canary.Why}")).AppendLine();
        foreach (var s in plan.Steps)
        {
            t.AppendLine();
            var head = s.Order > 0 ? Invariant($"{s.Order}. ") : "-  ";
            var wave = s.Wave > 0 ? Invariant($"  wave {s.Wave}{(plan.Timeline.Waves.FirstOrDefault(w => w.Wave == s.Wave)?.Canary == true ? " (canary)" : "")}") : "";
            t.Append(Invariant($"{head}{s.Host}{(s.IsMaster ? " [pool master]" : "")}{wave}  release {s.Release ?? "unknown"}  risk {s.Risk.ToString().ToLowerInvariant()}  -> {Describe(s.Action)}")).AppendLine();
            if (s.Timing is { } timing)
                t.Append(Invariant($"   timing: starts {Clock(timing.StartSeconds)}, migrations {Clock(timing.MigrationSeconds)}, reboot {Clock(timing.RebootSeconds)} ({(timing.RebootFromHistory ? "its boot_time -> agent_start_time + firmware" : "default")}), done {Clock(timing.EndSeconds)}; P(panic) while waiting {Percent(timing.PanicWhileWaiting)}")).AppendLine();
            t.Append("   risk: ").Append(s.RiskReason).AppendLine();
            if (s.NicClass is { } nicClass)
                t.Append("   NIC class: ").Append(nicClass).AppendLine();
            foreach (var why in s.Why)
                t.Append("   ! ").Append(why).AppendLine();
            foreach (var p in s.Prerequisites)
                t.Append(Invariant($"   prerequisite {(p.Met ? "ok " : "MISSING")}: {p.What} ({p.Evidence})")).AppendLine();
            if (s.Action is HostAction.RebootWithChanges or HostAction.ChangeWithoutReboot)
            {
                foreach (var c in s.Changes)
                    t.Append(Invariant($"   {c.Device,-6} {c.Command}   # {c.Why}")).AppendLine();
            }
            if (s.Action == HostAction.RebootWithChanges)
            {
                t.Append(Invariant($"   xe host-disable uuid={s.HostUuid}")).AppendLine();
                foreach (var m in s.Moves)
                    t.Append(Invariant($"   xe vm-migrate uuid={m.VmUuid} host-uuid={m.ToHostUuid} live=true   # {m.Vm} ({RollingPlanner.Gib(m.MemoryBytes)}) -> {m.ToHost}{(m.MoveNumber > 1 ? $", move {m.MoveNumber}" : "")}")).AppendLine();
                foreach (var v in s.ShutDown)
                    t.Append(Invariant($"   xe vm-shutdown uuid={v.VmUuid}   # {v.Vm}: {v.Why}")).AppendLine();
                if (s.SwiotlbDelay is { } delay)
                    t.Append(Invariant($"   {delay.Command}   # {delay.Label}")).AppendLine();
                t.Append(Invariant($"   xe host-reboot uuid={s.HostUuid}")).AppendLine();
                foreach (var v in s.Verifications)
                    t.Append("   verify: ").Append(v).AppendLine();
                t.Append(Invariant($"   xe host-enable uuid={s.HostUuid}")).AppendLine();
                foreach (var v in s.ShutDown)
                    t.Append(Invariant($"   xe vm-start uuid={v.VmUuid} on={s.HostUuid}   # {v.Vm}")).AppendLine();
                foreach (var stop in s.StopConditions)
                    t.Append("   stop if: ").Append(stop).AppendLine();
            }
            foreach (var u in s.Unmovable)
                t.Append(Invariant($"   cannot move {u.Vm}{(u.MemoryBytes is { } b ? $" ({RollingPlanner.Gib(b)})" : "")}: {u.Why}")).AppendLine();
        }
        if (plan.Undecided.Count > 0)
        {
            t.AppendLine().AppendLine("Cannot decide:");
            foreach (var u in plan.Undecided)
                t.Append("  - ").Append(u).AppendLine();
        }
        if (plan.Notes.Count > 0)
        {
            t.AppendLine().AppendLine("Notes:");
            foreach (var n in plan.Notes)
                t.Append("  - ").Append(n).AppendLine();
        }
        return t.ToString();
    }

    private static void AppendSummary(StringBuilder t, RollingPlan plan)
    {
        if (plan.Timeline.Waves.Count == 0)
            return;
        var p = plan.Placement;
        var b = plan.EvacuateBaseline;
        t.Append(Invariant($"Plan id {plan.PlanId}; {plan.Timeline.Waves.Count} wave(s), ETA {Clock(plan.Timeline.TotalSeconds)}; P(any host panics before its reboot) {Percent(plan.Timeline.PanicDuringRollout)}")).AppendLine();
        t.Append(Invariant($"Moves: {p.Moves} for {p.Vms} VM(s), at most {p.MostMovesOfOneVm} per VM ({p.VmsMovedTwiceOrMore} moved twice: the first wave's), {RollingPlanner.Gib(p.BytesMigrated)} migrated")).AppendLine();
        t.Append(Invariant($"  baseline (xe host-evacuate, wherever there is room): {b.Moves} moves, at most {b.MostMovesOfOneVm} per VM ({b.VmsMovedTwiceOrMore} moved twice or more), {RollingPlanner.Gib(b.BytesMigrated)} migrated")).AppendLine();
        foreach (var w in plan.Timeline.Waves)
            t.Append(Invariant($"  wave {w.Wave}{(w.Canary ? " (canary)" : "")}: {string.Join(", ", w.Hosts)}  {Clock(w.StartSeconds)} -> {Clock(w.EndSeconds)}")).AppendLine();
    }

    /// <summary>Seconds as h:mm:ss.</summary>
    internal static string Clock(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return Invariant($"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}");
    }

    internal static string Percent(double? p) => p is { } v ? Invariant($"{v * 100:0.###} %") : "unknown (no probability in the prediction)";

    internal static string Describe(HostAction action) => action switch
    {
        HostAction.RebootWithChanges => "change, evacuate, reboot, verify",
        HostAction.ChangeWithoutReboot => "remove leftover key (no reboot needed)",
        HostAction.NothingToDo => "nothing to do",
        HostAction.Blocked => "BLOCKED",
        HostAction.Undecided => "CANNOT DECIDE",
        _ => action.ToString(),
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The plan as JSON (snake_case, the same facts as the text).</summary>
public static class PlanJson
{
    public static string Render(RollingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        using var buffer = new MemoryStream();
        using (var j = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartObject();
            j.WriteString("pool", plan.Pool);
            j.WriteString("pool_uuid", plan.PoolUuid);
            j.WriteString("master", plan.Master);
            j.WriteNumber("max_down", plan.MaxDown);
            j.WriteBoolean("complete", plan.Complete);
            j.WriteString("plan_id", plan.PlanId);
            Figures(j, "placement", plan.Placement);
            Figures(j, "evacuate_baseline", plan.EvacuateBaseline);
            j.WriteStartObject("timeline");
            j.WriteNumber("total_seconds", Math.Round(plan.Timeline.TotalSeconds, 1));
            Probability(j, "panic_during_rollout", plan.Timeline.PanicDuringRollout);
            j.WriteNumber("migration_gbps", plan.Timeline.MigrationGbps);
            j.WriteNumber("default_reboot_seconds", plan.Timeline.DefaultRebootSeconds);
            j.WriteStartArray("waves");
            foreach (var w in plan.Timeline.Waves)
            {
                j.WriteStartObject();
                j.WriteNumber("wave", w.Wave);
                j.WriteBoolean("canary", w.Canary);
                Strings(j, "hosts", w.Hosts);
                j.WriteNumber("start_seconds", Math.Round(w.StartSeconds, 1));
                j.WriteNumber("end_seconds", Math.Round(w.EndSeconds, 1));
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteEndObject();
            j.WriteStartObject("ha");
            if (plan.Ha.Enabled is { } haOn)
                j.WriteBoolean("enabled", haOn);
            else
                j.WriteNull("enabled");
            Strings(j, "statefiles", plan.Ha.Statefiles);
            if (plan.Ha.HostFailuresToTolerate is { } ntol)
                j.WriteNumber("host_failures_to_tolerate", ntol);
            else
                j.WriteNull("host_failures_to_tolerate");
            j.WriteBoolean("restore_sr_unknown", plan.Ha.RestoreUnknown);
            j.WriteEndObject();
            if (plan.Canary is { } canary)
            {
                j.WriteStartObject("canary");
                j.WriteString("host", canary.Host);
                j.WriteString("nic_class", canary.NicClass);
                j.WriteString("why", canary.Why);
                Strings(j, "hosts_of_class", canary.HostsOfClass);
                j.WriteEndObject();
            }
            else
                j.WriteNull("canary");
            j.WriteStartArray("steps");
            foreach (var s in plan.Steps)
            {
                j.WriteStartObject();
                j.WriteNumber("order", s.Order);
                j.WriteNumber("wave", s.Wave);
                j.WriteString("host", s.Host);
                j.WriteString("host_uuid", s.HostUuid);
                j.WriteBoolean("is_master", s.IsMaster);
                j.WriteString("release", s.Release);
                j.WriteString("risk", s.Risk.ToString().ToLowerInvariant());
                j.WriteString("risk_reason", s.RiskReason);
                j.WriteString("action", Snake(s.Action.ToString()));
                j.WriteString("not_available", s.NotAvailable);
                j.WriteString("nic_class", s.NicClass);
                j.WriteStartArray("changes");
                foreach (var c in s.Changes)
                {
                    j.WriteStartObject();
                    j.WriteString("kind", Snake(c.Kind.ToString()));
                    j.WriteString("pif_uuid", c.PifUuid);
                    j.WriteString("device", c.Device);
                    j.WriteString("bond", c.Bond);
                    j.WriteString("driver", c.Driver);
                    j.WriteString("command", c.Command);
                    j.WriteString("why", c.Why);
                    j.WriteEndObject();
                }
                j.WriteEndArray();
                j.WriteStartArray("prerequisites");
                foreach (var p in s.Prerequisites)
                {
                    j.WriteStartObject();
                    j.WriteString("what", p.What);
                    j.WriteBoolean("met", p.Met);
                    j.WriteString("evidence", p.Evidence);
                    j.WriteEndObject();
                }
                j.WriteEndArray();
                j.WriteStartArray("moves");
                foreach (var m in s.Moves)
                {
                    j.WriteStartObject();
                    j.WriteString("vm", m.Vm);
                    j.WriteString("vm_uuid", m.VmUuid);
                    j.WriteNumber("memory_bytes", m.MemoryBytes);
                    j.WriteString("to_host", m.ToHost);
                    j.WriteString("to_host_uuid", m.ToHostUuid);
                    j.WriteNumber("move", m.MoveNumber);
                    j.WriteEndObject();
                }
                j.WriteEndArray();
                j.WriteStartArray("unmovable");
                foreach (var u in s.Unmovable)
                {
                    j.WriteStartObject();
                    j.WriteString("vm", u.Vm);
                    j.WriteString("vm_uuid", u.VmUuid);
                    if (u.MemoryBytes is { } b)
                        j.WriteNumber("memory_bytes", b);
                    else
                        j.WriteNull("memory_bytes");
                    j.WriteString("why", u.Why);
                    j.WriteEndObject();
                }
                j.WriteEndArray();
                Strings(j, "verifications", s.Verifications);
                Strings(j, "stop_conditions", s.StopConditions);
                Strings(j, "why", s.Why);
                j.WriteStartArray("shut_down");
                foreach (var v in s.ShutDown)
                    j.WriteStringValue(v.VmUuid);
                j.WriteEndArray();
                if (s.Timing is { } t)
                {
                    j.WriteStartObject("timing");
                    j.WriteNumber("start_seconds", Math.Round(t.StartSeconds, 1));
                    j.WriteNumber("migration_seconds", Math.Round(t.MigrationSeconds, 1));
                    j.WriteNumber("reboot_seconds", Math.Round(t.RebootSeconds, 1));
                    j.WriteBoolean("reboot_from_history", t.RebootFromHistory);
                    j.WriteNumber("end_seconds", Math.Round(t.EndSeconds, 1));
                    Probability(j, "panic_while_waiting", t.PanicWhileWaiting);
                    j.WriteEndObject();
                }
                if (s.SwiotlbDelay is { } d)
                {
                    j.WriteStartObject("swiotlb_delay");
                    j.WriteString("command", d.Command);
                    j.WriteString("label", d.Label);
                    j.WriteEndObject();
                }
                j.WriteEndObject();
            }
            j.WriteEndArray();
            Strings(j, "undecided", plan.Undecided);
            Strings(j, "notes", plan.Notes);
            j.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Figures(Utf8JsonWriter j, string name, PlacementFigures f)
    {
        j.WriteStartObject(name);
        j.WriteNumber("vms", f.Vms);
        j.WriteNumber("moves", f.Moves);
        j.WriteNumber("most_moves_of_one_vm", f.MostMovesOfOneVm);
        j.WriteNumber("vms_moved_twice_or_more", f.VmsMovedTwiceOrMore);
        j.WriteNumber("bytes_migrated", f.BytesMigrated);
        j.WriteEndObject();
    }

    private static void Probability(Utf8JsonWriter j, string name, double? p)
    {
        if (p is { } v)
            j.WriteNumber(name, Math.Round(v, 6));
        else
            j.WriteNull(name);
    }

    private static void Strings(Utf8JsonWriter j, string name, IEnumerable<string> values)
    {
        j.WriteStartArray(name);
        foreach (var v in values)
            j.WriteStringValue(v);
        j.WriteEndArray();
    }

    private static string Snake(string pascal)
    {
        var s = new StringBuilder();
        foreach (var ch in pascal)
        {
            if (char.IsUpper(ch) && s.Length > 0)
                s.Append('_');
            s.Append(char.ToLowerInvariant(ch));
        }
        return s.ToString();
    }
}

/// <summary>The plan as one HTML page: the text plan and the rollout's Gantt chart (inline SVG, one row per host).</summary>
public static class PlanHtml
{
    public static string Render(RollingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .Append(Escape($"FleetTwin plan {plan.Pool}")).Append("</title></head><body>\n");
        h.Append("<h1>").Append(Escape($"Rolling GRO plan for pool {plan.Pool}")).Append("</h1>\n");
        h.Append(Gantt(plan)).Append('\n');
        h.Append("<pre>").Append(Escape(PlanText.Render(plan))).Append("</pre>\n</body></html>\n");
        return h.ToString();
    }

    /// <summary>One bar per rebooting host: migrations (blue), reboot (orange), verify (green), on the rollout's clock.</summary>
    public static string Gantt(RollingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var rows = plan.Steps.Where(s => s.Timing is { } t && t.EndSeconds > t.StartSeconds).OrderBy(s => s.Timing!.StartSeconds).ThenBy(s => s.Order).ToList();
        const int label = 220, width = 900, row = 22, top = 30;
        var total = Math.Max(1, plan.Timeline.TotalSeconds);
        double X(double seconds) => label + seconds / total * (width - label - 10);
        var g = new StringBuilder();
        g.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{top + rows.Count * row + 20}\" font-family=\"monospace\" font-size=\"12\">"));
        g.Append(Invariant($"<text x=\"4\" y=\"16\">{Escape($"ETA {PlanText.Clock(plan.Timeline.TotalSeconds)}, {plan.Timeline.Waves.Count} wave(s)")}</text>"));
        for (var i = 0; i < rows.Count; i++)
        {
            var s = rows[i];
            var t = s.Timing!;
            var y = top + i * row;
            g.Append(Invariant($"<text x=\"4\" y=\"{y + 14}\">{Escape($"w{s.Wave} {s.Host}")}</text>"));
            var migrateEnd = t.StartSeconds + t.MigrationSeconds;
            var rebootEnd = migrateEnd + t.RebootSeconds;
            Bar(g, X(t.StartSeconds), X(migrateEnd), y, "#4a7bd0", $"{s.Host}: migrations {PlanText.Clock(t.MigrationSeconds)}");
            Bar(g, X(migrateEnd), X(rebootEnd), y, "#e08a2c", $"{s.Host}: reboot {PlanText.Clock(t.RebootSeconds)}");
            Bar(g, X(rebootEnd), X(t.EndSeconds), y, "#3a9a4a", $"{s.Host}: verify and enable");
        }
        g.Append("</svg>");
        return g.ToString();
    }

    private static void Bar(StringBuilder g, double x0, double x1, int y, string colour, string title) =>
        g.Append(Invariant($"<rect x=\"{x0:0.#}\" y=\"{y + 3}\" width=\"{Math.Max(0.5, x1 - x0):0.#}\" height=\"{16}\" fill=\"{colour}\"><title>{Escape(title)}</title></rect>"));

    private static string Escape(string text) => System.Net.WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
