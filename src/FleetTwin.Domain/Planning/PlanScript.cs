using System.Globalization;
using System.Text;

namespace FleetTwin.Domain.Planning;

/// <summary>
/// The plan as a bash script for the pool master. Dry-run unless given <c>--apply</c>; each host's progress is recorded
/// on the master (evacuate, change, reboot, verify, enable, finished) so a re-run continues from it (the master reboots
/// first and ends the first run: run the script again once it is back). Every VM moves with an explicit
/// <c>xe vm-migrate</c> to the host the plan chose. Stops at the first failed check or verification, and (exit 4) when
/// the pool differs from what the plan assumed unless given <c>--accept-drift</c>.
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
        s.Append(Invariant($"# pool: {plan.Pool}  master: {plan.Master ?? "unknown"}  max down: {plan.MaxDown}  plan: {plan.PlanId}")).Append('\n');
        s.Append(Invariant($"PLAN_ID={plan.PlanId}")).Append('\n');
        s.Append(Invariant($"POOL_UUID={Quote(plan.PoolUuid ?? "")}")).Append('\n');
        // What the plan read of pool HA: on, off or unknown (pool-list without ha-enabled); the script checks it live.
        s.Append(Invariant($"HA_PLANNED={(plan.Ha.Enabled switch { true => "on", false => "off", null => "unknown" })}")).Append('\n');
        s.Append("""
            # Run on the pool master. Dry-run by default: prints what it would do and changes nothing.
            #   --apply         act. The master goes first and its reboot ends the run: run the script again when it is back.
            #   --accept-drift  go on although the pool differs from what the plan assumed (a running VM the plan does not
            #                   know, a host disabled by someone else, HA on where the plan read it off); without it the run
            #                   stops: re-plan from fresh xe output.
            # Exit: 0 done, 1 stopped at a failed check, 2 usage, 3 the master reboots (run again), 4 drift, 5 done but
            # hosts were left out (not live, disabled) or pool HA could not be restored (the output says what to do).
            # Pool HA, when on, is disabled before the first wave and enabled again after the last on the SR of its state
            # file (as Xen Orchestra's rolling pool reboot does); recorded under $STATE_DIR/pool.ha so a re-run does not
            # disable it twice.
            # Progress is recorded per host under $STATE_DIR (evacuating, evacuate, change, rebooting, reboot, verify, enable,
            # finished): a re-run checks the last recorded step still holds and continues from the next one.
            # Every VM moves with an explicit xe vm-migrate to the host the plan chose (a host already done), not host-evacuate,
            # whose placement knows nothing of the rollout order.
            # GRO per PIF via other-config:ethtool-gro is read when the PIF is plugged, so each host reboots to apply it.
            set -u
            APPLY=0
            ACCEPT_DRIFT=0
            for arg in "$@"; do
              case "$arg" in
                --apply) APPLY=1;;
                --accept-drift) ACCEPT_DRIFT=1;;
                *) echo "usage: $0 [--apply] [--accept-drift]" >&2; exit 2;;
              esac
            done
            STATE_DIR="${FLEETTWIN_STATE_DIR:-/var/lib/fleettwin}/$PLAN_ID"
            BOOT_ID_FILE="${FLEETTWIN_BOOT_ID_FILE:-/proc/sys/kernel/random/boot_id}"
            REBOOT_SETTLE_SECONDS="${FLEETTWIN_REBOOT_SETTLE_SECONDS:-120}"
            BACK_TIMEOUT_SECONDS="${FLEETTWIN_BACK_TIMEOUT_SECONDS:-1200}"
            STEPS="evacuating evacuate change rebooting reboot verify enable finished"

            stop() { echo "STOP: $*" >&2; ha_reminder; exit 1; }
            LEFT_OUT=""
            HA_LEFT_OFF=0
            drift() {
              if [ "$ACCEPT_DRIFT" = 1 ]; then echo "drift accepted (--accept-drift): $*"
              else echo "STOP: the pool differs from the plan: $*; re-plan from fresh xe output, or run with --accept-drift" >&2; exit 4; fi
            }
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
            enabled() { [ "$(xe host-param-get uuid="$1" param-name=enabled 2>/dev/null)" = true ]; }
            # The host's last recorded step ("" before its turn); todo is true while STEP is not recorded yet.
            # A dry run keeps its steps in memory, so it walks the plan as --apply would, changing nothing.
            declare -A DRY_STATE=()
            state_of() {
              local v=""
              if [ "$APPLY" = 0 ] && [ -n "${DRY_STATE[$1]:-}" ]; then v="${DRY_STATE[$1]}"
              elif [ -f "$STATE_DIR/$1" ]; then read -r v < "$STATE_DIR/$1"; fi
              echo "$v"
            }
            rank() { local i=0 s; for s in $STEPS; do i=$((i + 1)); [ "$s" = "$1" ] && { echo "$i"; return; }; done; echo 0; }
            todo() { [ "$(rank "$(state_of "$1")")" -lt "$(rank "$2")" ]; }
            record() {
              if [ "$APPLY" = 1 ]; then mkdir -p "$STATE_DIR" && echo "$2" > "$STATE_DIR/$1"; else DRY_STATE[$1]="$2"; fi
            }
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
            # A host's turn begins: done hosts are skipped; before its first step the pool must look as the plan assumed; a
            # resumed host's last recorded step must still hold.
            begin_host() {
              local uuid="$1" name="$2" addr="$3" expected="$4" devices="$5" step vm; shift 5
              step="$(state_of "$uuid")"
              case "$step" in
                finished) echo "  $name: done (recorded)"; return;;
                "")
                  if enabled "$uuid" && host_done "$addr" "$@"; then echo "  $name: GRO on and live on $devices: done"; record "$uuid" finished; return; fi
                  enabled "$uuid" || drift "$name is disabled, and not by this plan"
                  for vm in $(residents "$uuid" | tr ',' ' '); do
                    case ",$expected," in *",$vm,"*) ;; *) drift "VM $vm is running on $name and the plan does not know it";; esac
                  done;;
                evacuate|change)
                  [ -z "$(residents "$uuid")" ] || [ "$APPLY" = 0 ] || stop "$name is recorded as evacuated but guest VMs run on it";;
                verify|enable)
                  [ "$(xe host-param-get uuid="$uuid" param-name=host-metrics-live 2>/dev/null)" = true ] || stop "$name is recorded as rebooted but is not live";;
              esac
              [ -n "$step" ] && echo "  $name: resuming after '$step'"
              return 0
            }
            # Moves one VM to the host the plan chose, unless it is already there (a resumed run).
            migrate_vm() {
              local vm="$1" target="$2"
              if [ "$(xe vm-param-get uuid="$vm" param-name=resident-on 2>/dev/null)" = "$target" ]; then echo "  $vm: already on $target"; return; fi
              act xe vm-migrate uuid="$vm" host-uuid="$target" live=true
            }
            evacuate() {
              local uuid="$1" name="$2" shut="$3" spec vm; shift 3
              record "$uuid" evacuating
              if enabled "$uuid" || [ "$APPLY" = 0 ]; then act xe host-disable uuid="$uuid"; fi
              for spec in "$@"; do migrate_vm "${spec%%=*}" "${spec#*=}"; done
              for vm in $shut; do act xe vm-shutdown uuid="$vm"; done
              if [ "$APPLY" = 1 ] && [ -n "$(residents "$uuid")" ]; then stop "guest VMs still resident on $name after the planned migrations"; fi
              record "$uuid" evacuate
            }
            reboot_host() {
              local uuid="$1" name="$2" role="$3"
              if [ "$role" = master ] && [ "$APPLY" = 1 ]; then mkdir -p "$STATE_DIR" && cat "$BOOT_ID_FILE" > "$STATE_DIR/$uuid.boot_id"; fi
              act xe host-reboot uuid="$uuid"
              record "$uuid" rebooting
              if [ "$role" = master ] && [ "$APPLY" = 1 ]; then echo "pool master rebooting: run this script again when it is back"; exit 3; fi
            }
            # The host is back from its reboot: the master by its boot id, a member by host-metrics-live.
            back() {
              local uuid="$1" role="$2"
              if [ "$APPLY" = 1 ]; then
                if [ "$role" = master ]; then
                  [ "$(cat "$STATE_DIR/$uuid.boot_id" 2>/dev/null)" != "$(cat "$BOOT_ID_FILE")" ] || stop "the pool master has not rebooted yet"
                else wait_back "$uuid"; fi
              fi
              record "$uuid" reboot
            }
            # Pool HA: a host going down for its reboot is a failed host to HA, which may fence or restart VMs elsewhere.
            pool_param() { xe pool-param-get uuid="$POOL_UUID" param-name="$1" 2>/dev/null; }
            ha_disable() {
              local step vdi sr srs="" ntol
              step="$(state_of pool.ha)"
              case "$step" in
                restored) echo "pool HA: disabled and restored by this plan (recorded)"; return;;
                disabled)
                  [ "$(pool_param ha-enabled)" != true ] || drift "pool HA was enabled again since this plan disabled it"
                  echo "pool HA: disabled by this plan (recorded)"; return;;
              esac
              if [ "$(pool_param ha-enabled)" != true ]; then [ "$HA_PLANNED" = off ] || echo "pool HA: off"; return; fi
              [ "$HA_PLANNED" != off ] || drift "pool HA is enabled and the plan read it off"
              # xe pool-list shows HA's state file VDIs; pool-ha-enable wants the SR they are on.
              for vdi in $(pool_param ha-statefiles | tr ';,' '  '); do
                sr="$(xe vdi-param-get uuid="$vdi" param-name=sr-uuid 2>/dev/null)" || sr=""
                [ -n "$sr" ] && case ",$srs," in *",$sr,"*) ;; *) srs="${srs:+$srs,}$sr";; esac
              done
              ntol="$(pool_param ha-host-failures-to-tolerate)" || ntol=""
              [ -n "$srs" ] || echo "WARNING: the HA heartbeat SR cannot be told (no readable ha-statefiles): HA will have to be enabled again by hand after the rollout"
              record pool.ha-sr "$srs"
              record pool.ha-ntol "$ntol"
              act xe pool-ha-disable
              record pool.ha disabled
            }
            ha_restore() {
              local srs ntol
              [ "$(state_of pool.ha)" = disabled ] || return 0
              srs="$(state_of pool.ha-sr)"; ntol="$(state_of pool.ha-ntol)"
              if [ -z "$srs" ]; then
                echo "HA NOT RESTORED: the heartbeat SR could not be told; enable it by hand: xe pool-ha-enable heartbeat-sr-uuids=<SR>" >&2
                HA_LEFT_OFF=1; return
              fi
              act xe pool-ha-enable heartbeat-sr-uuids="$srs"
              if [ -n "$ntol" ]; then act xe pool-param-set ha-host-failures-to-tolerate="$ntol" uuid="$POOL_UUID"; fi
              record pool.ha restored
            }
            ha_reminder() {
              if [ "$(state_of pool.ha)" = disabled ]; then
                echo "pool HA is still disabled by this plan: a re-run restores it after the last wave, or: xe pool-ha-enable heartbeat-sr-uuids=$(state_of pool.ha-sr)" >&2
              fi
            }
            left_out() { echo "  SKIPPED $1: $2"; LEFT_OUT="${LEFT_OUT:+$LEFT_OUT, }$1"; }
            finish() {
              ha_restore
              if [ -n "$LEFT_OUT" ] || [ "$HA_LEFT_OFF" = 1 ]; then
                echo "plan finished, not all of it: ${LEFT_OUT:+left out: $LEFT_OUT}${LEFT_OUT:+; }$([ "$HA_LEFT_OFF" = 1 ] && echo "pool HA not restored")"
                exit 5
              fi
              echo "plan finished"
            }
            enable_host() { if ! enabled "$1" || [ "$APPLY" = 0 ]; then act xe host-enable uuid="$1"; fi; }
            start_again() { local vm; for vm in $2; do act xe vm-start uuid="$vm" on="$1"; done; }

            """).Append('\n');

        if (plan.Undecided.Count > 0)
        {
            s.Append("# The plan could not decide:\n");
            foreach (var u in plan.Undecided)
                s.Append("#   ").Append(OneLine(u)).Append('\n');
        }
        // What the plan expects on each host when its turn comes: its own running guests and those the plan landed there.
        var expected = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var step in plan.Steps)
            expected[step.Host] = [.. step.Moves.Where(m => m.MoveNumber == 1).Select(m => m.VmUuid).Concat(step.ShutDown.Select(v => v.VmUuid))];
        foreach (var step in plan.Steps.OrderBy(x => x.Order))
        {
            foreach (var m in step.Moves.Where(m => m.MoveNumber == 1))
            {
                var to = plan.Steps.FirstOrDefault(x => x.Host == m.ToHost);
                if (to is not null && to.Order > step.Order)
                    expected[to.Host].Add(m.VmUuid);
            }
        }
        var ordered = plan.Steps.Where(x => x.Order > 0).OrderBy(x => x.Order).ToList();
        var haDisabled = false;
        for (var i = 0; i < ordered.Count;)
        {
            var step = ordered[i];
            if (!haDisabled && step.Action == HostAction.RebootWithChanges && step.Wave > 0)
            {
                s.Append("\n# Pool HA off for the rollout (restored after the last wave).\nha_disable\n");
                haDisabled = true;
            }
            if (step.Action != HostAction.RebootWithChanges || step.Wave == 0)
            {
                AppendHead(s, step, expected);
                i++;
                continue;
            }
            var wave = ordered.Skip(i).TakeWhile(x => x.Wave == step.Wave && x.Action == HostAction.RebootWithChanges).ToList();
            i += wave.Count;
            s.Append('\n').Append(Invariant($"# ===== wave {step.Wave}: {string.Join(", ", wave.Select(w => w.Host))}{(plan.Timeline.Waves.FirstOrDefault(w => w.Wave == step.Wave)?.Canary == true ? " (canary: the run goes on only once it is verified)" : "")}")).Append('\n');
            var active = wave.Where(w => AppendHead(s, w, expected)).ToList();
            foreach (var w in active)
                AppendPrepare(s, w);
            foreach (var w in active)
                AppendReboot(s, w);
            foreach (var w in active)
                AppendFinish(s, w);
        }
        s.Append("finish\n");
        return s.ToString();
    }

    private static string AddressOf(HostStep step) => step.IsMaster ? "local" : step.Address ?? step.Host;

    private static IEnumerable<string> Devices(HostStep step) => step.Verifications.Select(v => v.Split(' ')[2]);

    /// <summary>Prerequisite checks, drift checks and the "already done" check of one host; a blocked host stops the run here.</summary>
    private static bool AppendHead(StringBuilder s, HostStep step, IReadOnlyDictionary<string, List<string>> expected)
    {
        s.Append('\n').Append(Invariant($"# --- {step.Order}. {step.Host}{(step.IsMaster ? " (pool master)" : "")}: {PlanText.Describe(step.Action)}{(step.Wave > 0 ? $" (wave {step.Wave})" : "")}")).Append('\n');
        s.Append("# risk: ").Append(OneLine(step.RiskReason)).Append('\n');
        s.Append(Invariant($"echo {Quote($"== {step.Order}. {step.Host}")}")).Append('\n');
        if (step.NotAvailable is { } down)
        {
            // Down or disabled: it takes no VMs and is not rebooted; the rest of the pool goes on without it.
            s.Append(Invariant($"left_out {Quote(step.Host)} {Quote(down)}")).Append('\n');
            return false;
        }
        if (step.Action == HostAction.Blocked)
        {
            s.Append(Invariant($"stop {Quote($"{step.Host} is blocked: {string.Join("; ", step.Why)}")}")).Append('\n');
            return false;
        }
        foreach (var p in step.Prerequisites.Where(p => p.ScriptCheck is not null))
            s.Append(Invariant($"{p.ScriptCheck} || stop {Quote($"{step.Host}: prerequisite {p.What} not applied")}")).Append('\n');
        if (step.Action == HostAction.ChangeWithoutReboot)
        {
            foreach (var c in step.Changes)
                s.Append(Invariant($"remove_gro_key {c.PifUuid} {c.Device}")).Append('\n');
            return false;
        }
        // Every change and every verification is checked: a step whose changes only remove a key (6.5+, a leftover
        // ethtool-gro=off) is not done until the key is gone and GRO is live.
        var checks = string.Join(" ", step.Changes.Select(c => c.Kind == PifChangeKind.RemoveGroOverride ? $"no-key={c.PifUuid}" : $"key-on={c.PifUuid}")
            .Concat(Devices(step).Select(d => "live=" + d)));
        var vms = string.Join(",", expected.GetValueOrDefault(step.Host) ?? []);
        s.Append(Invariant($"begin_host {step.HostUuid} {Quote(step.Host)} {Quote(AddressOf(step))} {Quote(vms)} {Quote(string.Join(" ", Devices(step)))} {checks}")).Append('\n');
        return true;
    }

    /// <summary>Disable, migrate each VM to its planned host, change the PIF keys (each recorded once done).</summary>
    private static void AppendPrepare(StringBuilder s, HostStep step)
    {
        var moves = string.Join(" ", step.Moves.Select(m => $"{m.VmUuid}={m.ToHostUuid}"));
        var shut = string.Join(" ", step.ShutDown.Select(v => v.VmUuid));
        s.Append(Invariant($"if todo {step.HostUuid} evacuate; then evacuate {step.HostUuid} {Quote(step.Host)} {Quote(shut)} {moves}; fi")).Append('\n');
        s.Append(Invariant($"if todo {step.HostUuid} change; then")).Append('\n');
        foreach (var c in step.Changes)
        {
            s.Append(c.Kind switch
            {
                PifChangeKind.RemoveGroOverride => Invariant($"  remove_gro_key {c.PifUuid} {c.Device}"),
                _ => Invariant($"  set_gro_on {c.PifUuid} {c.Device}"),
            }).Append('\n');
        }
        if (step.SwiotlbDelay is { } delay)
        {
            s.Append("  # ").Append(delay.Label).Append('\n');
            s.Append(Invariant($"  act on_host {Quote(AddressOf(step))} {delay.Command}")).Append('\n');
        }
        s.Append(Invariant($"  record {step.HostUuid} change")).Append('\n');
        s.Append("fi\n");
    }

    private static void AppendReboot(StringBuilder s, HostStep step) =>
        s.Append(Invariant($"if todo {step.HostUuid} rebooting; then reboot_host {step.HostUuid} {Quote(step.Host)} {(step.IsMaster ? "master" : "member")}; fi")).Append('\n');

    private static void AppendFinish(StringBuilder s, HostStep step)
    {
        var devices = string.Join(" ", Devices(step));
        s.Append(Invariant($"if todo {step.HostUuid} reboot; then back {step.HostUuid} {(step.IsMaster ? "master" : "member")}; fi")).Append('\n');
        s.Append(Invariant($"if todo {step.HostUuid} verify; then verify_gro {Quote(AddressOf(step))} {devices}; record {step.HostUuid} verify; fi")).Append('\n');
        s.Append(Invariant($"if todo {step.HostUuid} enable; then enable_host {step.HostUuid}; record {step.HostUuid} enable; fi")).Append('\n');
        s.Append(Invariant($"if todo {step.HostUuid} finished; then start_again {step.HostUuid} {Quote(string.Join(" ", step.ShutDown.Select(v => v.VmUuid)))}; record {step.HostUuid} finished; echo {Quote($"  {step.Host}: done")}; fi")).Append('\n');
    }

    /// <summary>Single-quotes a value for bash.</summary>
    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string OneLine(string value) => value.Replace('\n', ' ').Replace('\r', ' ');

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
