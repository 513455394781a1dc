using System.Globalization;
using System.Text;

namespace FleetTwin.Domain.Planning;

/// <summary>
/// The plan as a bash script for the pool master. Dry-run unless given <c>--apply</c>; every change is preceded by a
/// check of the current state, so a re-run skips what is done (the master reboots first and ends the first run: run
/// the script again once it is back). Stops at the first failed check or verification.
/// </summary>
public static class PlanScript
{
    public static string Render(RollingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var s = new StringBuilder();
        s.Append("""
            #!/bin/bash
            # FleetTwin rolling GRO plan
            """).Append('\n');
        s.Append(Invariant($"# pool: {plan.Pool}  master: {plan.Master ?? "unknown"}  max down: {plan.MaxDown}")).Append('\n');
        s.Append("""
            # Run on the pool master. Dry-run by default: prints what it would do and changes nothing.
            #   --apply   act. The master goes first and its reboot ends the run: run the script again when it is back;
            #             every step checks the current state first, so done steps are skipped.
            # GRO per PIF via other-config:ethtool-gro is read when the PIF is plugged, so each host reboots to apply it.
            set -u
            APPLY=0
            if [ "${1:-}" = "--apply" ]; then APPLY=1; elif [ -n "${1:-}" ]; then echo "usage: $0 [--apply]" >&2; exit 2; fi
            STATE_DIR="${FLEETTWIN_STATE_DIR:-/root/.fleettwin}"
            BOOT_ID_FILE="${FLEETTWIN_BOOT_ID_FILE:-/proc/sys/kernel/random/boot_id}"
            REBOOT_SETTLE_SECONDS="${FLEETTWIN_REBOOT_SETTLE_SECONDS:-120}"
            BACK_TIMEOUT_SECONDS="${FLEETTWIN_BACK_TIMEOUT_SECONDS:-1200}"

            stop() { echo "STOP: $*" >&2; exit 1; }
            act() {
              if [ "$APPLY" = 1 ]; then echo "+ $*"; "$@" || stop "failed: $*"
              else echo "[dry-run] $*"; fi
            }
            # Runs a command on a host: locally on the master, over ssh elsewhere.
            on_host() { local addr="$1"; shift; if [ "$addr" = local ]; then "$@"; else ssh -o BatchMode=yes "root@$addr" "$@"; fi; }
            gro_key() { xe pif-param-get uuid="$1" param-name=other-config param-key=ethtool-gro 2>/dev/null; }
            gro_live() { on_host "$1" ethtool -k "$2" 2>/dev/null | grep -q '^generic-receive-offload: on'; }
            has_hotfix() { xe patch-list name-label="$1" params=hosts --minimal | tr ',' '\n' | grep -qx "$2"; }
            residents() { xe vm-list resident-on="$1" is-control-domain=false power-state=running --minimal; }
            wait_back() {
              local uuid="$1" waited=0
              sleep "$REBOOT_SETTLE_SECONDS"
              until [ "$(xe host-param-get uuid="$uuid" param-name=host-metrics-live 2>/dev/null)" = true ]; do
                [ "$waited" -ge "$BACK_TIMEOUT_SECONDS" ] && stop "host $uuid not back after ${BACK_TIMEOUT_SECONDS}s"
                sleep 10; waited=$((waited + 10))
              done
            }
            set_gro_on() {
              local pif="$1" device="$2"
              if [ "$(gro_key "$pif")" = on ]; then echo "  $device: other-config:ethtool-gro already on ($pif)"
              else act xe pif-param-set other-config:ethtool-gro=on uuid="$pif"; fi
            }
            remove_gro_key() {
              local pif="$1" device="$2"
              if [ -z "$(gro_key "$pif")" ]; then echo "  $device: no ethtool-gro key left ($pif)"
              else act xe pif-param-remove uuid="$pif" param-name=other-config param-key=ethtool-gro; fi
            }
            verify_gro() {
              local addr="$1"; shift
              local device
              for device in "$@"; do
                if [ "$APPLY" = 1 ]; then
                  gro_live "$addr" "$device" || stop "ethtool -k $device on $addr does not show generic-receive-offload: on"
                  echo "  verified: ethtool -k $device shows generic-receive-offload: on"
                else echo "[dry-run] verify: ethtool -k $device shows generic-receive-offload: on"; fi
              done
            }
            # True when the host is done: key-on=PIF has the key on, no-key=PIF has none left, live=DEV shows GRO on.
            host_done() {
              local addr="$1" check; shift
              for check in "$@"; do
                case "$check" in
                  key-on=*) [ "$(gro_key "${check#*=}")" = on ] || return 1;;
                  no-key=*) [ -z "$(gro_key "${check#*=}")" ] || return 1;;
                  live=*) gro_live "$addr" "${check#*=}" || return 1;;
                esac
              done
            }
            evacuate() {
              local uuid="$1" name="$2"
              act xe host-disable uuid="$uuid"
              act xe host-evacuate uuid="$uuid"
              if [ "$APPLY" = 1 ] && [ -n "$(residents "$uuid")" ]; then stop "guest VMs still resident on $name after host-evacuate"; fi
            }

            """).Append('\n');

        if (plan.Undecided.Count > 0)
        {
            s.Append("# The plan could not decide:\n");
            foreach (var u in plan.Undecided)
                s.Append("#   ").Append(OneLine(u)).Append('\n');
        }
        foreach (var step in plan.Steps.Where(x => x.Order > 0).OrderBy(x => x.Order))
            AppendStep(s, step);
        s.Append("echo \"plan finished\"\n");
        return s.ToString();
    }

    private static void AppendStep(StringBuilder s, HostStep step)
    {
        var addr = step.IsMaster ? "local" : step.Address ?? step.Host;
        s.Append('\n').Append(Invariant($"# --- {step.Order}. {step.Host}{(step.IsMaster ? " (pool master)" : "")}: {PlanText.Describe(step.Action)}")).Append('\n');
        s.Append("# risk: ").Append(OneLine(step.RiskReason)).Append('\n');
        s.Append(Invariant($"echo {Quote($"== {step.Order}. {step.Host}")}")).Append('\n');
        if (step.Action == HostAction.Blocked)
        {
            s.Append(Invariant($"stop {Quote($"{step.Host} is blocked: {string.Join("; ", step.Why)}")}")).Append('\n');
            return;
        }
        foreach (var p in step.Prerequisites.Where(p => p.ScriptCheck is not null))
            s.Append(Invariant($"{p.ScriptCheck} || stop {Quote($"{step.Host}: prerequisite {p.What} not applied")}")).Append('\n');
        if (step.Action == HostAction.ChangeWithoutReboot)
        {
            foreach (var c in step.Changes)
                s.Append(Invariant($"remove_gro_key {c.PifUuid} {c.Device}")).Append('\n');
            return;
        }
        var devices = string.Join(" ", step.Verifications.Select(v => v.Split(' ')[2]));
        // Every change and every verification is checked: a step whose changes only remove a key (6.5+, a leftover
        // ethtool-gro=off) is not done until the key is gone and GRO is live.
        var checks = string.Join(" ", step.Changes.Select(c => c.Kind == PifChangeKind.RemoveGroOverride ? $"no-key={c.PifUuid}" : $"key-on={c.PifUuid}")
            .Concat(step.Verifications.Select(v => "live=" + v.Split(' ')[2])));
        var marker = Invariant($"\"$STATE_DIR/rebooted-{step.HostUuid}\"");
        s.Append(Invariant($"if host_done {Quote(addr)} {checks}; then")).Append('\n');
        s.Append(Invariant($"  echo {Quote($"  {step.Host}: GRO on and live on {devices}: done")}")).Append('\n');
        if (step.IsMaster)
        {
            s.Append(Invariant($"elif [ -f {marker} ] && [ \"$(cat {marker})\" != \"$(cat \"$BOOT_ID_FILE\")\" ]; then")).Append('\n');
            s.Append(Invariant($"  verify_gro local {devices}")).Append('\n');
        }
        s.Append("else\n");
        foreach (var c in step.Changes)
        {
            s.Append(c.Kind switch
            {
                PifChangeKind.RemoveGroOverride => Invariant($"  remove_gro_key {c.PifUuid} {c.Device}"),
                _ => Invariant($"  set_gro_on {c.PifUuid} {c.Device}"),
            }).Append('\n');
        }
        s.Append(Invariant($"  evacuate {step.HostUuid} {Quote(step.Host)}")).Append('\n');
        if (step.SwiotlbDelay is { } delay)
        {
            s.Append("  # ").Append(delay.Label).Append('\n');
            s.Append(Invariant($"  act on_host {Quote(addr)} {delay.Command}")).Append('\n');
        }
        if (step.IsMaster)
        {
            s.Append(Invariant($"  if [ \"$APPLY\" = 1 ]; then mkdir -p \"$STATE_DIR\" && cat \"$BOOT_ID_FILE\" > {marker}; fi")).Append('\n');
            s.Append(Invariant($"  act xe host-reboot uuid={step.HostUuid}")).Append('\n');
            s.Append("  if [ \"$APPLY\" = 1 ]; then echo \"pool master rebooting: run this script again when it is back\"; exit 3; fi\n");
            s.Append(Invariant($"  verify_gro local {devices}")).Append('\n');
        }
        else
        {
            s.Append(Invariant($"  act xe host-reboot uuid={step.HostUuid}")).Append('\n');
            s.Append(Invariant($"  if [ \"$APPLY\" = 1 ]; then wait_back {step.HostUuid}; fi")).Append('\n');
            s.Append(Invariant($"  verify_gro {Quote(addr)} {devices}")).Append('\n');
        }
        s.Append("fi\n");
        s.Append(Invariant($"if [ \"$(xe host-param-get uuid={step.HostUuid} param-name=enabled 2>/dev/null)\" != true ]; then act xe host-enable uuid={step.HostUuid}; fi")).Append('\n');
    }

    /// <summary>Single-quotes a value for bash.</summary>
    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string OneLine(string value) => value.Replace('\n', ' ').Replace('\r', ' ');

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
