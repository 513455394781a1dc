using System.Diagnostics;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Prediction;

namespace FleetTwin.Cli.Tests.Support;

/// <summary>
/// A XenServer pool the generated plan script can run against: fake <c>xe</c>, <c>ssh</c>, <c>ethtool</c>,
/// <c>xen-cmdline</c> and <c>sleep</c> on the PATH that keep the pool's state in small files (one per fact, no jq), so
/// what the script did is read back from the pool, not from its own call log. Time is a fake clock that only the fake
/// sleep moves: a rebooting host still shows host-metrics-live for <see cref="HeartbeatSeconds"/> (the master notices a
/// host gone only when its heartbeat stops), is unreachable until it has booted (<see cref="RebootSeconds"/> by
/// default), and comes back with each PIF's GRO as its other-config:ethtool-gro key says (the key is read when the PIF
/// is plugged at boot) or the release's default without one, the dom0 swiotlb size set for the next boot, and
/// disabled unless told that xapi re-enables it.
/// </summary>
internal sealed class FakePool : IDisposable
{
    public const int HeartbeatSeconds = 60;
    public const int RebootSeconds = 300;

    /// <summary>
    /// A script that has slept this much fake time is taken as hung and killed by the fake sleep: twice the longest
    /// legitimate wait of a run (a reboot, the 120 s settle and the default 1200 s back timeout), few enough polls to
    /// end in seconds.
    /// </summary>
    public const int GiveUpSeconds = 3600;

    private readonly FleetInventory _inventory;

    public string Dir { get; } = Directory.CreateTempSubdirectory("fleettwin-pool-").FullName;
    public string Script => Path.Combine(Dir, "plan.sh");
    public string MasterUuid { get; }

    public FakePool(FleetInventory inventory, string pool, string script)
    {
        _inventory = inventory;
        var found = inventory.FindPool(pool) ?? throw new ArgumentException($"no pool {pool}", nameof(pool));
        MasterUuid = inventory.MasterOf(found)!.Uuid!;
        var bin = Directory.CreateDirectory(Path.Combine(Dir, "bin")).FullName;
        foreach (var (name, text) in Fakes)
            Write(Path.Combine(bin, name), text, executable: name != "lib.sh");
        Put("clock", "0");
        Put("master", MasterUuid);
        Put(Path.Combine("pool", "uuid"), found.Uuid);
        Put(Path.Combine("pool", "ha_enabled"), found.HaEnabled == true ? "true" : "false");
        Put(Path.Combine("pool", "ha_statefiles"), string.Join("; ", found.HaStatefiles));
        Put(Path.Combine("pool", "ha_ntol"), (found.HaHostFailuresToTolerate ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var host in inventory.HostsOf(found))
        {
            var h = Path.Combine("hosts", host.Uuid!);
            Put(Path.Combine(h, "name"), host.Name);
            Put(Path.Combine("addresses", host.Address!), host.Uuid!);
            Put(Path.Combine(h, "enabled"), "true");
            Put(Path.Combine(h, "live"), "true");
            Put(Path.Combine(h, "up"), "true");
            Put(Path.Combine(h, "boots"), "1");
            Put(Path.Combine(h, "boot_id"), "boot-1");
            Put(Path.Combine(h, "reboot_seconds"), RebootSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            // GRO is on by default since 6.5; before, a PIF without the key comes up with GRO off.
            Put(Path.Combine(h, "gro_default"), HostConfiguration.ReleaseAtLeast(host.Release!, 6, 5) ? "on" : "off");
            var swiotlb = (host.SwiotlbMiB ?? 64).ToString(System.Globalization.CultureInfo.InvariantCulture);
            Put(Path.Combine(h, "swiotlb"), swiotlb);
            Put(Path.Combine(h, "swiotlb_next"), swiotlb);
            foreach (var nic in inventory.NicsOf(host).Where(n => n.Pif is { Physical: not false } && n.Facts?.GroOn is not null))
                Put(Path.Combine(h, "nics", nic.Device), nic.Facts!.GroOn == true ? "on" : "off");
            foreach (var nic in inventory.NicsOf(host).Where(n => n.Pif is not null))
            {
                var p = Path.Combine("pifs", nic.Pif!.Uuid);
                Put(Path.Combine(p, "host"), host.Uuid!);
                Put(Path.Combine(p, "device"), nic.Device);
                if (nic.Pif.EthtoolGroOverride is { } key)
                    Put(Path.Combine(p, "gro"), key);
            }
        }
        foreach (var vm in inventory.Vms.Values)
        {
            var v = Path.Combine("vms", vm.Uuid);
            Put(Path.Combine(v, "name"), vm.Name);
            Put(Path.Combine(v, "host"), vm.ResidentOn ?? "");
            Put(Path.Combine(v, "power"), vm.PowerState ?? "running");
            Put(Path.Combine(v, "control"), vm.IsControlDomain ? "true" : "false");
        }
        foreach (var fix in inventory.Hotfixes.Values)
            Put(Path.Combine("patches", fix.NameLabel ?? fix.Uuid), string.Join(",", fix.Hosts));
        Directory.CreateDirectory(Path.Combine(Dir, "patches"));
        File.WriteAllText(Script, script);
    }

    // ---- what a test changes in the pool ----

    /// <summary>The host's reboots take this long (fake seconds) until it is reachable and live again.</summary>
    public void RebootTakes(string host, int seconds) => Put(Path.Combine(HostDir(host), "reboot_seconds"), seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The host's next reboot never ends: it stays down.</summary>
    public void NeverComesBack(string host) => Put(Path.Combine(HostDir(host), "reboot_seconds"), "never");

    /// <summary>xapi enables the host when it boots, so the script finds it enabled.</summary>
    public void EnablesOnBoot(string host) => Put(Path.Combine(HostDir(host), "enable_on_boot"), "");

    /// <summary>The NIC comes up with GRO off whatever its PIF's key says.</summary>
    public void GroStaysOff(string host, string device) => Put(Path.Combine(HostDir(host), "gro_stays_off", device), "");

    /// <summary>A running VM the plan does not know appears on the host (started there after the plan was made).</summary>
    public void StartsVm(string host, string name)
    {
        var v = Path.Combine("vms", "new-" + name);
        Put(Path.Combine(v, "name"), name);
        Put(Path.Combine(v, "host"), _inventory.Hosts[host].Uuid!);
        Put(Path.Combine(v, "power"), "running");
        Put(Path.Combine(v, "control"), "false");
    }

    /// <summary>The script is killed (SIGKILL) the next time it sleeps: while it waits for a rebooting host.</summary>
    public void KillAtNextSleep() => Put("kill_at_sleep", "");

    /// <summary>Someone else disables the host.</summary>
    public void Disable(string host) => Put(Path.Combine(HostDir(host), "enabled"), "false");

    /// <summary>Pool HA is on with its state file on <paramref name="vdi"/>, a VDI of <paramref name="sr"/> (the heartbeat SR).</summary>
    public void HaOn(string vdi, string sr, int failuresToTolerate)
    {
        Put(Path.Combine("pool", "ha_enabled"), "true");
        Put(Path.Combine("pool", "ha_statefiles"), vdi);
        Put(Path.Combine("pool", "ha_ntol"), failuresToTolerate.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Put(Path.Combine("vdis", vdi, "sr"), sr);
    }

    /// <summary>The state file's VDI cannot be read (vdi-param-get fails): its SR cannot be told.</summary>
    public void StatefileUnreadable(string vdi) => File.Delete(Path.Combine(Dir, "vdis", vdi, "sr"));

    public bool HaEnabled => Get(Path.Combine("pool", "ha_enabled")) == "true";

    /// <summary>The SR HA was last enabled on (pool-ha-enable heartbeat-sr-uuids), or null.</summary>
    public string? HaHeartbeatSr => Get(Path.Combine("pool", "ha_sr"));

    public string? HaFailuresToTolerate => Get(Path.Combine("pool", "ha_ntol"));

    /// <summary>The host of the VM (its uuid).</summary>
    public string HostOfVm(string vm) => Get(Path.Combine(VmDir(vm), "host"))!;

    /// <summary>vm-migrate of this VM succeeds but leaves it running where it is.</summary>
    public void StaysResident(string vm) => Put(Path.Combine(VmDir(vm), "pinned"), "");

    /// <summary>vm-migrate of this VM fails: HOST_NOT_ENOUGH_FREE_MEMORY.</summary>
    public void CannotMove(string vm) => Put(Path.Combine(VmDir(vm), "unmovable"), "");

    public void PatchHosts(string patch, params string[] hostUuids) => Put(Path.Combine("patches", patch), string.Join(",", hostUuids));

    /// <summary>Moves the fake clock on (a rebooted host whose time has come boots).</summary>
    public void Advance(int seconds) => Bash($"\"{Path.Combine(Dir, "bin", "fakectl")}\" advance {seconds}");

    // ---- what the pool looks like ----

    public string? KeyOf(string pifUuid) => Get(Path.Combine("pifs", pifUuid, "gro"));
    public string? GroOf(string host, string device) => Get(Path.Combine(HostDir(host), "nics", device));
    public bool Enabled(string host) => Get(Path.Combine(HostDir(host), "enabled")) == "true";
    public int Boots(string host) => int.Parse(Get(Path.Combine(HostDir(host), "boots"))!, System.Globalization.CultureInfo.InvariantCulture);
    public string? SwiotlbOf(string host) => Get(Path.Combine(HostDir(host), "swiotlb"));
    public int Clock => int.Parse(Get("clock")!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Names of the running guest VMs on the host.</summary>
    public IReadOnlyList<string> GuestsOn(string host)
    {
        var uuid = _inventory.Hosts[host].Uuid;
        return Directory.GetDirectories(Path.Combine(Dir, "vms"))
            .Where(v => File.ReadAllText(Path.Combine(v, "host")).Trim() == uuid && File.ReadAllText(Path.Combine(v, "control")).Trim() == "false")
            .Select(v => File.ReadAllText(Path.Combine(v, "name")).Trim()).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Every fact of the pool (hosts, PIFs, VMs, patches) as path -> content.</summary>
    public SortedDictionary<string, string> Snapshot()
    {
        var all = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var root in new[] { "hosts", "pifs", "vms", "patches" })
        {
            foreach (var file in Directory.GetFiles(Path.Combine(Dir, root), "*", SearchOption.AllDirectories))
                all[Path.GetRelativePath(Dir, file)] = File.ReadAllText(file);
        }
        return all;
    }

    /// <summary>
    /// Runs the script as on the master. The fake sleep ends a script that waits past <see cref="GiveUpSeconds"/> (deterministic);
    /// a script that spins without sleeping is killed after a wall-clock bound far beyond the ~1 s a run takes.
    /// </summary>
    public async Task<ScriptRun> RunAsync(string args = "", IDictionary<string, string>? env = null)
    {
        var calls = Path.Combine(Dir, "calls.log");
        File.Delete(calls);
        var start = new ProcessStartInfo("bash", $"{Script} {args}") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["PATH"] = Path.Combine(Dir, "bin") + ":" + Environment.GetEnvironmentVariable("PATH");
        start.Environment["FAKE"] = Dir;
        start.Environment["FAKE_GIVE_UP_SECONDS"] = GiveUpSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["FLEETTWIN_STATE_DIR"] = Path.Combine(Dir, "runs");
        start.Environment["FLEETTWIN_BOOT_ID_FILE"] = Path.Combine(Dir, "hosts", MasterUuid, "boot_id");
        foreach (var (key, value) in env ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var hang = new CancellationTokenSource(TimeSpan.FromSeconds(50));
        try
        {
            await process.WaitForExitAsync(hang.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"the plan script still runs after 50 s (killed): it hangs\n{await stdout}{await stderr}");
        }
        var output = await stdout + await stderr;
        return new ScriptRun(process.ExitCode, output, File.Exists(calls) ? File.ReadAllLines(calls) : []);
    }

    /// <summary>
    /// Applies the plan as an operator would: run with --apply; when the script ends for the master's reboot (exit 3),
    /// wait for the master to come back and run it again. Returns every run.
    /// </summary>
    public async Task<IReadOnlyList<ScriptRun>> ApplyAsync(IDictionary<string, string>? env = null)
    {
        var runs = new List<ScriptRun> { await RunAsync("--apply", env) };
        if (runs[0].Exit == 3)
        {
            Advance(RebootSeconds);
            runs.Add(await RunAsync("--apply", env));
        }
        return runs;
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);

    private string HostDir(string host) => Path.Combine("hosts", _inventory.Hosts[host].Uuid!);

    private string VmDir(string vm) => Path.Combine("vms", _inventory.Vms.Values.Single(v => v.Name == vm).Uuid);

    private void Put(string relative, string value)
    {
        var path = Path.Combine(Dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, value + "\n");
    }

    private string? Get(string relative)
    {
        var path = Path.Combine(Dir, relative);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    private void Bash(string command)
    {
        var start = new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardError = true };
        start.Environment["FAKE"] = Dir;
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{command}: {errors}");
    }

    private static void Write(string path, string text, bool executable)
    {
        File.WriteAllText(path, text.Replace("\r\n", "\n") + "\n");
        if (executable && !OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static readonly (string Name, string Text)[] Fakes =
    [
        ("lib.sh", """
            # The fake pool's state under $FAKE, one small file per fact:
            #   clock                fake seconds (only the fake sleep and fakectl move it)
            #   master               the pool master's host uuid
            #   hosts/<uuid>/        name enabled live(host-metrics-live) up(reachable) boots boot_id gro_default
            #                        swiotlb swiotlb_next reboot_seconds(or never) enable_on_boot nics/<dev>(live GRO)
            #                        gro_stays_off/<dev> down_at up_at
            #   pifs/<uuid>/         host device gro(other-config:ethtool-gro; no file = no key)
            #   vms/<uuid>/          name host power control pinned unmovable
            #   patches/<name>       host uuids, comma-separated, as xe patch-list params=hosts --minimal prints them
            #   addresses/<address>  host uuid
            #   pool/                uuid ha_enabled ha_statefiles(VDI uuids) ha_ntol ha_sr(last pool-ha-enable's SR)
            #   vdis/<uuid>/sr       the SR of a VDI (HA's state file)
            S="$FAKE"
            HEARTBEAT_SECONDS=60
            # Builtins only (read, not cat): the script polls, and every fork counts on a busy machine.
            get() { local v=""; [ -f "$1" ] && read -r v < "$1"; printf '%s\n' "$v"; }
            put() { [ -d "${1%/*}" ] || mkdir -p "${1%/*}"; printf '%s\n' "$2" > "$1"; }
            now() { get "$S/clock"; }
            record() { echo "$*" >> "$S/calls.log"; }
            fail() { echo "$*" >&2; exit 1; }
            # A host boots: PIFs are plugged, so GRO is what the key says (the release default without one); the dom0
            # command line set for the next boot takes effect; xapi leaves the host disabled unless enable_on_boot.
            boot() {
              local h="$1" uuid pif dev key n
              uuid="${h##*/}"
              rm -f "$h/up_at" "$h/down_at"
              n=$(( $(get "$h/boots") + 1 )); put "$h/boots" "$n"; put "$h/boot_id" "boot-$n"
              for pif in "$S"/pifs/*; do
                [ "$(get "$pif/host")" = "$uuid" ] || continue
                dev="$(get "$pif/device")"; [ -f "$h/nics/$dev" ] || continue
                key="$(get "$pif/gro")"; key="${key:-$(get "$h/gro_default")}"
                [ -f "$h/gro_stays_off/$dev" ] && key=off
                put "$h/nics/$dev" "$key"
              done
              put "$h/swiotlb" "$(get "$h/swiotlb_next")"
              put "$h/up" true; put "$h/live" true
              if [ -f "$h/enable_on_boot" ]; then put "$h/enabled" true; fi
            }
            # Applies what the clock has reached: a rebooting host drops host-metrics-live, then boots.
            settle() {
              local t h at; read -r t < "$S/clock"
              for h in "$S"/hosts/*; do
                if [ -f "$h/down_at" ]; then read -r at < "$h/down_at"; if [ "$t" -ge "$at" ]; then put "$h/live" false; rm -f "$h/down_at"; fi; fi
                if [ -f "$h/up_at" ]; then read -r at < "$h/up_at"; if [ "$at" != never ] && [ "$t" -ge "$at" ]; then boot "$h"; fi; fi
              done
            }
            """),
        ("xe", """
            #!/bin/bash
            . "$FAKE/bin/lib.sh"
            record "xe $*"
            settle
            arg() { local k="$1" a; shift; for a in "$@"; do case "$a" in "$k="*) echo "${a#*=}"; return;; esac; done; }
            master="$S/hosts/$(get "$S/master")"
            [ "$(get "$master/up")" = true ] || fail "Error: Connection refused (calling connect )"
            cmd="$1"; shift
            uuid="$(arg uuid "$@")"
            case "$cmd" in
              pif-*) obj="$S/pifs/$uuid";;
              host-*) obj="$S/hosts/$uuid";;
            esac
            case "$cmd" in pif-*|host-*) [ -n "$uuid" ] && [ -d "$obj" ] || fail "The uuid you supplied was invalid.";; esac
            is_gro_key() { [ "$(arg param-name "$@")" = other-config ] && [ "$(arg param-key "$@")" = ethtool-gro ] || fail "fake xe: unsupported $cmd $*"; }
            guests() {
              local v out=""
              for v in "$S"/vms/*; do
                [ "$(get "$v/host")" = "$1" ] && [ "$(get "$v/control")" = false ] && [ "$(get "$v/power")" = running ] || continue
                out="${out:+$out,}${v##*/}"
              done
              echo "$out"
            }
            case "$cmd" in
              pif-param-get)
                is_gro_key "$@"
                [ -f "$obj/gro" ] || fail "Error: Key ethtool-gro not found in map"
                get "$obj/gro";;
              pif-param-set)
                value="$(arg other-config:ethtool-gro "$@")"
                [ -n "$value" ] || fail "fake xe: unsupported $cmd $*"
                put "$obj/gro" "$value";;
              pif-param-remove)
                is_gro_key "$@"
                rm -f "$obj/gro";;
              patch-list)
                [ "$(arg params "$@")" = hosts ] || fail "fake xe: unsupported $cmd $*"
                get "$S/patches/$(arg name-label "$@")";;
              vm-param-get)
                [ "$(arg param-name "$@")" = resident-on ] && [ -d "$S/vms/$uuid" ] || fail "fake xe: unsupported $cmd $*"
                get "$S/vms/$uuid/host";;
              vm-migrate)
                v="$S/vms/$uuid"; to="$(arg host-uuid "$@")"
                [ -d "$v" ] && [ "$(arg live "$@")" = true ] || fail "fake xe: unsupported $cmd $*"
                [ -f "$v/unmovable" ] && fail "Error: HOST_NOT_ENOUGH_FREE_MEMORY: no room for $(get "$v/name")"
                [ -f "$v/pinned" ] && { record "fake: $(get "$v/name") stays where it is"; exit 0; }
                [ "$(get "$S/hosts/$to/up")" = true ] && [ "$(get "$S/hosts/$to/enabled")" = true ] || fail "Error: HOST_DISABLED or offline: $to"
                put "$v/host" "$to";;
              vm-list)
                [ "$(arg is-control-domain "$@")" = false ] && [ "$(arg power-state "$@")" = running ] || fail "fake xe: unsupported $cmd $*"
                guests "$(arg resident-on "$@")";;
              host-param-get)
                case "$(arg param-name "$@")" in
                  enabled) get "$obj/enabled";;
                  host-metrics-live) get "$obj/live";;
                  *) fail "fake xe: unsupported $cmd $*";;
                esac;;
              pool-param-get)
                [ "$uuid" = "$(get "$S/pool/uuid")" ] || fail "The uuid you supplied was invalid."
                case "$(arg param-name "$@")" in
                  ha-enabled) get "$S/pool/ha_enabled";;
                  ha-statefiles) get "$S/pool/ha_statefiles";;
                  ha-host-failures-to-tolerate) get "$S/pool/ha_ntol";;
                  *) fail "fake xe: unsupported $cmd $*";;
                esac;;
              pool-param-set)
                [ "$uuid" = "$(get "$S/pool/uuid")" ] && [ -n "$(arg ha-host-failures-to-tolerate "$@")" ] || fail "fake xe: unsupported $cmd $*"
                put "$S/pool/ha_ntol" "$(arg ha-host-failures-to-tolerate "$@")";;
              vdi-param-get)
                [ "$(arg param-name "$@")" = sr-uuid ] || fail "fake xe: unsupported $cmd $*"
                [ -f "$S/vdis/$uuid/sr" ] || fail "The uuid you supplied was invalid."
                get "$S/vdis/$uuid/sr";;
              pool-ha-disable)
                [ "$(get "$S/pool/ha_enabled")" = true ] || fail "Error: HA_NOT_ENABLED"
                put "$S/pool/ha_enabled" false; put "$S/pool/ha_statefiles" ""; put "$S/pool/ha_ntol" 0;;
              pool-ha-enable)
                sr="$(arg heartbeat-sr-uuids "$@")"
                [ -n "$sr" ] || fail "fake xe: pool-ha-enable needs heartbeat-sr-uuids"
                [ "$(get "$S/pool/ha_enabled")" = false ] || fail "Error: HA_IS_ENABLED"
                for h in "$S"/hosts/*; do [ "$(get "$h/live")" = true ] || fail "Error: HA_HOST_IS_ARMED or not live: ${h##*/}"; done
                put "$S/pool/ha_enabled" true; put "$S/pool/ha_sr" "$sr"; put "$S/pool/ha_statefiles" "statefile-on-$sr";;
              host-disable) put "$obj/enabled" false;;
              host-enable)
                [ "$(get "$obj/live")" = true ] || fail "Error: the host is not live"
                put "$obj/enabled" true;;
              host-evacuate)
                for v in $(guests "$uuid" | tr ',' ' '); do
                  [ -f "$S/vms/$v/unmovable" ] && fail "Error: HOST_NOT_ENOUGH_FREE_MEMORY: no host has room for $(get "$S/vms/$v/name")"
                done
                for v in $(guests "$uuid" | tr ',' ' '); do
                  [ -f "$S/vms/$v/pinned" ] && continue
                  to=""
                  for t in "$S"/hosts/*; do
                    [ "${t##*/}" != "$uuid" ] && [ "$(get "$t/up")" = true ] && [ "$(get "$t/enabled")" = true ] && { to="${t##*/}"; break; }
                  done
                  [ -n "$to" ] || fail "Error: no enabled host to migrate $(get "$S/vms/$v/name") to"
                  put "$S/vms/$v/host" "$to"
                done;;
              host-reboot)
                # Refused for an enabled host or one still running guests: rebooting those would lose VMs.
                [ "$(get "$obj/enabled")" = false ] || fail "Error: fake xe: host-reboot of an enabled host"
                [ -z "$(guests "$uuid")" ] || fail "Error: fake xe: host-reboot with guests running"
                # With HA on, a host going down is a failed host to HA (fencing, VM restarts): the rollout must disable it first.
                [ "$(get "$S/pool/ha_enabled")" != true ] || fail "Error: fake xe: host-reboot while pool HA is enabled"
                t="$(now)"
                put "$obj/up" false
                put "$obj/down_at" "$((t + HEARTBEAT_SECONDS))"
                secs="$(get "$obj/reboot_seconds")"
                if [ "$secs" = never ]; then put "$obj/up_at" never; else put "$obj/up_at" "$((t + secs))"; fi;;
              *) fail "fake xe: unsupported command $cmd";;
            esac
            exit 0
            """),
        ("ssh", """
            #!/bin/bash
            . "$FAKE/bin/lib.sh"
            record "ssh $*"
            settle
            while [ "${1:-}" = -o ]; do shift 2; done
            target="${1#root@}"; shift
            uuid="$(get "$S/addresses/$target")"
            [ -n "$uuid" ] || { echo "ssh: Could not resolve hostname $target" >&2; exit 255; }
            [ "$(get "$S/hosts/$uuid/up")" = true ] || { echo "ssh: connect to host $target port 22: No route to host" >&2; exit 255; }
            export FAKE_ON_HOST="$uuid"
            case "$1" in /opt/xensource/libexec/*) cmd="$FAKE/bin/${1##*/}"; shift; set -- "$cmd" "$@";; esac
            exec "$@"
            """),
        ("ethtool", """
            #!/bin/bash
            . "$FAKE/bin/lib.sh"
            settle
            h="$S/hosts/${FAKE_ON_HOST:-$(get "$S/master")}"
            record "ethtool $* on $(get "$h/name")"
            [ "$1" = -k ] || fail "fake ethtool: unsupported $*"
            [ -f "$h/nics/$2" ] || fail "Cannot get device feature names: No such device"
            echo "Offload parameters for $2:"
            echo "generic-segmentation-offload: on"
            echo "generic-receive-offload: $(get "$h/nics/$2")"
            """),
        ("xen-cmdline", """
            #!/bin/bash
            . "$FAKE/bin/lib.sh"
            h="$S/hosts/${FAKE_ON_HOST:-$(get "$S/master")}"
            record "xen-cmdline $* on $(get "$h/name")"
            case "$1 $2" in
              "--set-dom0 swiotlb="*) put "$h/swiotlb_next" "${2#swiotlb=}";;
              *) fail "fake xen-cmdline: unsupported $*";;
            esac
            """),
        ("sleep", """
            #!/bin/bash
            . "$FAKE/bin/lib.sh"
            # The operator's Ctrl-C, or the master's ssh session dropping: the script dies mid-step.
            if [ -f "$S/kill_at_sleep" ]; then rm -f "$S/kill_at_sleep"; kill -KILL "$PPID"; exit 1; fi
            t=$(( $(now) + $1 ))
            put "$S/clock" "$t"
            if [ "$t" -gt "$FAKE_GIVE_UP_SECONDS" ]; then
              echo "fake sleep: the script has slept past ${FAKE_GIVE_UP_SECONDS}s of fake time: killed as hung" >&2
              kill -TERM "$PPID"; exit 1
            fi
            """),
        ("fakectl", """
            #!/bin/bash
            . "$FAKE/bin/lib.sh"
            case "$1" in
              advance) put "$S/clock" "$(( $(now) + $2 ))"; settle;;
              *) fail "fakectl: unknown $1";;
            esac
            """),
    ];
}

/// <summary>One run of the plan script: its exit code, stdout+stderr, and the fake commands it called.</summary>
internal sealed record ScriptRun(int Exit, string Output, string[] Calls);
