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
        foreach (var s in plan.Steps)
        {
            t.AppendLine();
            var head = s.Order > 0 ? Invariant($"{s.Order}. ") : "-  ";
            t.Append(Invariant($"{head}{s.Host}{(s.IsMaster ? " [pool master]" : "")}  release {s.Release ?? "unknown"}  risk {s.Risk.ToString().ToLowerInvariant()}  -> {Describe(s.Action)}")).AppendLine();
            t.Append("   risk: ").Append(s.RiskReason).AppendLine();
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
                t.Append(Invariant($"   xe host-evacuate uuid={s.HostUuid}")).AppendLine();
                foreach (var m in s.Moves)
                    t.Append(Invariant($"      {m.Vm} ({RollingPlanner.Gib(m.MemoryBytes)}) -> {m.ToHost}")).AppendLine();
                if (s.SwiotlbDelay is { } delay)
                    t.Append(Invariant($"   {delay.Command}   # {delay.Label}")).AppendLine();
                t.Append(Invariant($"   xe host-reboot uuid={s.HostUuid}")).AppendLine();
                foreach (var v in s.Verifications)
                    t.Append("   verify: ").Append(v).AppendLine();
                t.Append(Invariant($"   xe host-enable uuid={s.HostUuid}")).AppendLine();
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
