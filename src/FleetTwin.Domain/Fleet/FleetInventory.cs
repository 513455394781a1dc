using FleetTwin.Domain.Events;

namespace FleetTwin.Domain.Fleet;

/// <summary>
/// What the fleet is made of — pools, hosts, PIFs, bonds, hotfixes, VMs, each NIC's driver/GRO facts and lspci's NIC models — accumulated
/// from twin events in any order. xe run on a pool master names other hosts (a PIF's host-name-label, a host-list
/// record's name-label, a VM's resident-on uuid), so facts are kept as xe gives them and joined when asked: a
/// <see cref="VmFact"/> read before the <see cref="XenHostFact"/> of its host still lands on that host. Plain public
/// data, so a grain can hold the same inventory and apply the same events.
/// </summary>
public sealed class FleetInventory
{
    /// <summary>Pools by uuid.</summary>
    public Dictionary<string, InventoryPool> Pools { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Hosts by name (the name dom0 logs and prompts carry; xe's name-label).</summary>
    public Dictionary<string, InventoryHost> Hosts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>PIFs by uuid.</summary>
    public Dictionary<string, InventoryPif> Pifs { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Bonds by uuid.</summary>
    public Dictionary<string, InventoryBond> Bonds { get; set; } = new(StringComparer.Ordinal);

    /// <summary>VMs by uuid (control domains and halted VMs included, as xe lists them).</summary>
    public Dictionary<string, InventoryVm> Vms { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Hotfixes by uuid, with the host uuids (or names) xe says have them applied.</summary>
    public Dictionary<string, HotfixFact> Hotfixes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Hosts on which xe patch-list/update-list output was read: the hotfixes of their pool are known (elsewhere unknown, not "none").</summary>
    public SortedSet<string> HotfixListsFrom { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Host names whose xe vm-list output was read: the VMs of the hosts of that pool are known.</summary>
    public SortedSet<string> VmListsFrom { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The reporter of xe output read without a prompt or --host (saved with <c>xe … &gt; file</c>): such output given
    /// together is taken as one pool master's, so its pool-list, host-list and vm-list join (issue 18);
    /// <see cref="XeConsistency"/> checks that they do describe one pool.
    /// </summary>
    public const string UnattributedReporter = "";

    public void Apply(TwinEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        switch (e)
        {
            case PoolFact p: ApplyPool(p); break;
            case XenHostFact h: ApplyHost(h); break;
            case PifFact pif: ApplyPif(pif); break;
            case BondFact b: Bonds[b.Uuid] = new InventoryBond { Uuid = b.Uuid, MasterPif = b.Master, MemberPifs = [.. b.Slaves], Mode = b.Mode }; break;
            case HotfixFact fix:
                Hotfixes[fix.Uuid] = fix;
                HotfixListsFrom.Add(e.Host ?? UnattributedReporter);
                break;
            case VmFact vm: ApplyVm(vm); break;
            case NicDriver d when e.Host is not null && d.Device is not null:
                var nic = NicOn(e.Host, d.Device);
                nic.Driver = d.Driver;
                nic.DriverVersion = d.Version;
                nic.BusId = d.BusInfo ?? nic.BusId;
                nic.FirmwareVersion = d.FirmwareVersion ?? nic.FirmwareVersion;
                break;
            case NicOffloads o when e.Host is not null && o.Device is not null && o.GenericReceiveOffload is { } gro:
                NicOn(e.Host, o.Device).GroOn = gro;
                break;
            case PciNic pci when e.Host is not null && pci.BusId.Length > 0:
                ApplyPciNic(e.Host, pci);
                break;
            case LinkMtu l when e.Host is not null:
                NicOn(e.Host, l.Device).Mtu = l.Mtu;
                break;
            case Dom0CommandLine c when e.Host is not null:
                var cmdHost = HostNamed(e.Host);
                cmdHost.SwiotlbMiB = c.SwiotlbSize;
                cmdHost.SwiotlbDisabled = c.Swiotlb is not null && c.Swiotlb.Split(',').Contains("off");
                cmdHost.CommandLineKnown = true;
                break;
            case KernelBoot b when e.Host is not null:
                var bootHost = HostNamed(e.Host);
                bootHost.Kernel = b.KernelVersion;
                if (b.XenServerRelease is not null)
                {
                    bootHost.Release = b.XenServerRelease;
                    bootHost.ReleaseConfirmed = b.ReleaseConfirmed;
                }
                break;
        }
    }

    /// <summary>The pool named <paramref name="nameOrUuid"/> (name-label or uuid), or null.</summary>
    public InventoryPool? FindPool(string nameOrUuid)
    {
        if (Pools.TryGetValue(nameOrUuid, out var byUuid))
            return byUuid;
        return Pools.Values.FirstOrDefault(p => string.Equals(p.Name, nameOrUuid, StringComparison.Ordinal));
    }

    public InventoryHost? HostByUuid(string uuid) => Hosts.Values.FirstOrDefault(h => h.Uuid == uuid);

    /// <summary>
    /// The hosts of <paramref name="pool"/>: its master and every host an <c>xe host-list</c> listed on a host that
    /// also reported this pool (xe on a pool member lists that pool's hosts only). Sorted by name.
    /// </summary>
    public IReadOnlyList<InventoryHost> HostsOf(InventoryPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return Hosts.Values
            .Where(h => (pool.MasterUuid is not null && h.Uuid == pool.MasterUuid) || h.ListedBy.Overlaps(pool.ReportedBy))
            .OrderBy(h => h.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The pool master, when pool-list named it and host-list gave its name.</summary>
    public InventoryHost? MasterOf(InventoryPool pool) => pool.MasterUuid is null ? null : HostByUuid(pool.MasterUuid);

    /// <summary>
    /// The host's network interfaces: its PIFs (xe) joined by device name with what ethtool/ip said on that host,
    /// plus devices only ethtool knows. Sorted by device.
    /// </summary>
    public IReadOnlyList<HostNic> NicsOf(InventoryHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var result = new Dictionary<string, HostNic>(StringComparer.Ordinal);
        foreach (var pif in Pifs.Values)
        {
            if (!BelongsTo(pif, host) || pif.Device is null)
                continue;
            host.NicsByDevice.TryGetValue(pif.Device, out var facts);
            result[pif.Device] = new HostNic(host.Name, pif.Device, pif, facts);
        }
        foreach (var (device, facts) in host.NicsByDevice)
        {
            if (!result.ContainsKey(device))
                result[device] = new HostNic(host.Name, device, null, facts);
        }
        return result.Values.OrderBy(n => n.Device, StringComparer.Ordinal).ToList();
    }

    /// <summary>The bond whose uuid is <paramref name="bondUuid"/>, or null.</summary>
    public InventoryBond? BondOf(string bondUuid) => Bonds.GetValueOrDefault(bondUuid);

    /// <summary>The member PIFs of a bond (bond-slave-of = the bond), from the bond record or, failing that, the PIFs that name it.</summary>
    public IReadOnlyList<InventoryPif> MembersOf(string bondUuid)
    {
        var members = Pifs.Values.Where(p => p.BondSlaveOf == bondUuid).ToList();
        if (Bonds.TryGetValue(bondUuid, out var bond))
        {
            foreach (var uuid in bond.MemberPifs)
            {
                if (Pifs.TryGetValue(uuid, out var pif) && !members.Contains(pif))
                    members.Add(pif);
            }
        }
        return members.OrderBy(p => p.Device, StringComparer.Ordinal).ToList();
    }

    /// <summary>Running guest VMs resident on the host (control domains left out: they do not migrate).</summary>
    public IReadOnlyList<InventoryVm> VmsOn(InventoryHost host) =>
        host.Uuid is null
            ? []
            : Vms.Values.Where(v => v.ResidentOn == host.Uuid && !v.IsControlDomain && v.PowerState is null or "running")
                .OrderBy(v => v.Name, StringComparer.Ordinal).ToList();

    /// <summary>True when an xe vm-list of this host's pool was read, so an empty <see cref="VmsOn"/> means "no VMs".</summary>
    public bool VmsKnownFor(InventoryHost host) =>
        host.Uuid is not null && (VmListsFrom.Overlaps(host.ListedBy) || VmListsFrom.Contains(host.Name) || Vms.Values.Any(v => v.ResidentOn == host.Uuid));

    /// <summary>Hotfix names applied on the host; null when no patch-list of its pool was read (unknown, not "none").</summary>
    public IReadOnlyList<string>? HotfixesOf(InventoryHost host)
    {
        var known = HotfixListsFrom.Contains(host.Name) || HotfixListsFrom.Overlaps(host.ListedBy);
        var names = Hotfixes.Values
            .Where(f => f.Hosts.Any(h => h == host.Uuid || h == host.Name))
            .Select(f => f.NameLabel ?? f.Uuid)
            .Distinct(StringComparer.Ordinal)
            .OrderBy(n => n, StringComparer.Ordinal)
            .ToList();
        return known || names.Count > 0 ? names : null;
    }

    private bool BelongsTo(InventoryPif pif, InventoryHost host) =>
        (pif.HostUuid is not null && pif.HostUuid == host.Uuid) || (pif.HostUuid is null && pif.HostName == host.Name)
        || (pif.HostName == host.Name && host.Uuid is null);

    private InventoryHost HostNamed(string name)
    {
        if (!Hosts.TryGetValue(name, out var host))
        {
            host = new InventoryHost { Name = name };
            Hosts[name] = host;
        }
        return host;
    }

    private NicFacts NicOn(string hostName, string device)
    {
        var host = HostNamed(hostName);
        if (!host.NicsByDevice.TryGetValue(device, out var nic))
        {
            nic = new NicFacts { Device = device };
            host.NicsByDevice[device] = nic;
        }
        return nic;
    }

    /// <summary>lspci's network controller at a bus id of the host: what a later listing prints adds to, never erases, an earlier one.</summary>
    private void ApplyPciNic(string hostName, PciNic pci)
    {
        var host = HostNamed(hostName);
        var busId = PciBusId.Normalise(pci.BusId);
        if (!host.PciNicsByBusId.TryGetValue(busId, out var nic))
        {
            nic = new PciNicFacts { BusId = busId };
            host.PciNicsByBusId[busId] = nic;
        }
        nic.Model = pci.Model ?? nic.Model;
        nic.VendorId = pci.VendorId ?? nic.VendorId;
        nic.DeviceId = pci.DeviceId ?? nic.DeviceId;
        nic.Revision = pci.Revision ?? nic.Revision;
        nic.Subsystem = pci.Subsystem ?? nic.Subsystem;
        nic.KernelDriver = pci.KernelDriver ?? nic.KernelDriver;
    }

    private void ApplyPool(PoolFact p)
    {
        if (!Pools.TryGetValue(p.Uuid, out var pool))
        {
            pool = new InventoryPool { Uuid = p.Uuid };
            Pools[p.Uuid] = pool;
        }
        pool.Name = p.NameLabel ?? pool.Name;
        pool.MasterUuid = p.Master ?? pool.MasterUuid;
        pool.ReportedBy.Add(p.Host ?? UnattributedReporter);
        pool.HaEnabled = p.HaEnabled ?? pool.HaEnabled;
        pool.HaHostFailuresToTolerate = p.HaHostFailuresToTolerate ?? pool.HaHostFailuresToTolerate;
        if (p.HaStatefiles.Length > 0 || p.HaEnabled == false)
            pool.HaStatefiles = [.. p.HaStatefiles];
    }

    private void ApplyHost(XenHostFact h)
    {
        // A host seen first by uuid only (nothing does that yet) or by name (its own logs) is the same host.
        var name = h.NameLabel ?? HostByUuid(h.Uuid)?.Name ?? h.Uuid;
        var host = HostNamed(name);
        host.Uuid = h.Uuid;
        host.Address = h.Address ?? host.Address;
        host.MemoryTotalBytes = h.MemoryTotal ?? host.MemoryTotalBytes;
        host.MemoryFreeBytes = h.MemoryFree ?? host.MemoryFreeBytes;
        host.Kernel = h.Linux ?? host.Kernel;
        host.Enabled = h.Enabled ?? host.Enabled;
        host.Live = h.HostMetricsLive ?? host.Live;
        if (h.BootTime is { } booted && h.AgentStartTime is { } agent && agent >= booted)
            host.BootToAgentSeconds = agent - booted;
        if (h.ProductVersion is { } version)
        {
            // software-version:product_version 6.2.0 -> release 6.2 (the release table names releases major.minor).
            var parts = version.Split('.');
            host.Release = parts.Length >= 2 ? parts[0] + "." + parts[1] : version;
            host.ReleaseConfirmed = true;
            host.ProductVersion = version;
        }
        host.ListedBy.Add(h.Host ?? UnattributedReporter);
    }

    private void ApplyPif(PifFact p)
    {
        Pifs[p.Uuid] = new InventoryPif
        {
            Uuid = p.Uuid,
            Device = p.Device,
            Mtu = p.Mtu,
            Vlan = p.Vlan,
            HostUuid = p.HostUuid,
            HostName = p.HostName ?? (p.HostUuid is null ? p.Host : null),
            BondMasterOf = p.BondMasterOf,
            BondSlaveOf = p.BondSlaveOf,
            Physical = p.Physical,
            Management = p.Management,
            EthtoolGroOverride = p.EthtoolGro,
        };
        if (p.HostName is not null && p.HostUuid is not null)
        {
            var host = HostNamed(p.HostName);
            host.Uuid ??= p.HostUuid;
        }
    }

    private void ApplyVm(VmFact vm)
    {
        Vms[vm.Uuid] = new InventoryVm
        {
            Uuid = vm.Uuid,
            Name = vm.NameLabel ?? vm.Uuid,
            PowerState = vm.PowerState,
            ResidentOn = vm.ResidentOn,
            MemoryBytes = vm.MemoryActual ?? vm.MemoryStaticMax,
            IsControlDomain = vm.IsControlDomain == true,
            PciPassthrough = vm.PciPassthrough,
            BlockedOperations = vm.BlockedOperations,
        };
        VmListsFrom.Add(vm.Host ?? UnattributedReporter);
    }
}

/// <summary>One pool: its name and master.</summary>
public sealed class InventoryPool
{
    public string Uuid { get; set; } = "";
    public string? Name { get; set; }

    /// <summary>Host uuid of the pool master (the host xe commands run on; it goes first in a rolling reboot).</summary>
    public string? MasterUuid { get; set; }

    /// <summary>xe pool-list ha-enabled; null when the pool-list read did not show it.</summary>
    public bool? HaEnabled { get; set; }

    /// <summary>xe pool-list ha-host-failures-to-tolerate.</summary>
    public int? HaHostFailuresToTolerate { get; set; }

    /// <summary>xe pool-list ha-statefiles: VDI uuids of HA's state file (on the heartbeat SR).</summary>
    public List<string> HaStatefiles { get; set; } = [];

    /// <summary>Hosts on which xe pool-list reported this pool (their host-list output lists this pool's hosts).</summary>
    public SortedSet<string> ReportedBy { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One host: identity, release, memory, dom0 swiotlb size and the NIC facts read on it.</summary>
public sealed class InventoryHost
{
    public string Name { get; set; } = "";
    public string? Uuid { get; set; }
    public string? Address { get; set; }

    /// <summary>XenServer release, major.minor (<c>6.2</c>), from xe's product_version or the kernel banner.</summary>
    public string? Release { get; set; }

    public bool ReleaseConfirmed { get; set; }
    public string? ProductVersion { get; set; }
    public string? Kernel { get; set; }
    public long? MemoryTotalBytes { get; set; }

    /// <summary>xe host-list memory-free: what migrations onto this host can use.</summary>
    public long? MemoryFreeBytes { get; set; }

    /// <summary><c>swiotlb=</c> in MiB; null with <see cref="CommandLineKnown"/> means the 64 MiB default.</summary>
    public int? SwiotlbMiB { get; set; }

    /// <summary>other-config:agent_start_time minus boot_time: dom0 boot to xapi up, the host's own reboot history.</summary>
    public double? BootToAgentSeconds { get; set; }

    public bool SwiotlbDisabled { get; set; }
    public bool CommandLineKnown { get; set; }

    /// <summary>xe host-list enabled (false: disabled, xapi places no VM on it); null when not shown.</summary>
    public bool? Enabled { get; set; }

    /// <summary>xe host-list host-metrics-live (false: halted or unreachable, the master has lost its heartbeat); null when not shown.</summary>
    public bool? Live { get; set; }

    /// <summary>
    /// Why the host can neither take VMs nor be rebooted now, or null. A host whose heartbeat is lost (host-metrics-live
    /// false) is down; a disabled host is in someone's maintenance and XAPI refuses to place VMs on it (HOST_DISABLED).
    /// </summary>
    public string? NotAvailableBecause =>
        Live == false ? "host not live (xe host-list host-metrics-live: false): halted or unreachable"
        : Enabled == false ? "host disabled (xe host-list enabled: false): in maintenance, xapi places no VM on it"
        : null;

    /// <summary>ethtool/ip facts per device, read on this host.</summary>
    public Dictionary<string, NicFacts> NicsByDevice { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Network controllers lspci listed on this host, by bus id in domain form (<see cref="PciBusId"/>).</summary>
    public Dictionary<string, PciNicFacts> PciNicsByBusId { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The PCI model of <paramref name="nic"/>: lspci's entry at the bus id ethtool -i gave it; null when either is
    /// missing (no ethtool -i bus-info, no lspci of the host, or lspci did not list that address).
    /// </summary>
    public PciNicFacts? PciNicOf(NicFacts? nic) =>
        nic?.BusId is { } busId ? PciNicsByBusId.GetValueOrDefault(PciBusId.Normalise(busId)) : null;

    /// <summary>Hosts on which xe host-list listed this host (they are in the same pool).</summary>
    public SortedSet<string> ListedBy { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>What ethtool -i / -k and ip link said about one device on one host.</summary>
public sealed class NicFacts
{
    public string Device { get; set; } = "";
    public string? Driver { get; set; }
    public string? DriverVersion { get; set; }
    public string? BusId { get; set; }

    /// <summary>ethtool -i firmware-version: with the driver, the NIC class a canary proves.</summary>
    public string? FirmwareVersion { get; set; }

    /// <summary>generic-receive-offload as ethtool -k showed it (the live state, whatever other-config asks for).</summary>
    public bool? GroOn { get; set; }

    public int? Mtu { get; set; }
}

/// <summary>What lspci said about one network controller of a host (<see cref="PciNic"/>).</summary>
public sealed class PciNicFacts
{
    /// <summary>Domain form, <c>0000:04:00.0</c>.</summary>
    public string BusId { get; set; } = "";

    /// <summary>Vendor and device name as lspci prints them (<c>Broadcom Inc. and subsidiaries NetXtreme II BCM57810 10 Gigabit Ethernet</c>).</summary>
    public string? Model { get; set; }

    public string? VendorId { get; set; }
    public string? DeviceId { get; set; }
    public string? Revision { get; set; }
    public string? Subsystem { get; set; }
    public string? KernelDriver { get; set; }

    /// <summary>The model's name for a NIC class: lspci's text, else the PCI ids (<c>lspci -n</c>), else null.</summary>
    public string? ModelName =>
        Model ?? (VendorId is not null && DeviceId is not null ? $"PCI device [{VendorId}:{DeviceId}]" : null);
}

/// <summary>One PIF as xe pif-list shows it.</summary>
public sealed class InventoryPif
{
    public string Uuid { get; set; } = "";
    public string? Device { get; set; }
    public int? Mtu { get; set; }
    public int? Vlan { get; set; }
    public string? HostUuid { get; set; }
    public string? HostName { get; set; }

    /// <summary>The bond this PIF is the bond's own (master) PIF of: never the place for other-config:ethtool-gro.</summary>
    public string? BondMasterOf { get; set; }

    /// <summary>The bond this PIF is a member of: GRO for a bond is set here, on each member.</summary>
    public string? BondSlaveOf { get; set; }

    public bool? Physical { get; set; }
    public bool? Management { get; set; }

    /// <summary>other-config:ethtool-gro (<c>on</c>/<c>off</c>) when set; applied when the PIF is plugged (at reboot).</summary>
    public string? EthtoolGroOverride { get; set; }
}

/// <summary>One bond: its own PIF and its member PIFs.</summary>
public sealed class InventoryBond
{
    public string Uuid { get; set; } = "";
    public string? MasterPif { get; set; }
    public List<string> MemberPifs { get; set; } = [];
    public string? Mode { get; set; }
}

/// <summary>One VM: where it runs and the memory an evacuation has to place.</summary>
public sealed class InventoryVm
{
    public string Uuid { get; set; } = "";
    public string Name { get; set; } = "";
    public string? PowerState { get; set; }
    public string? ResidentOn { get; set; }
    public long? MemoryBytes { get; set; }
    public bool IsControlDomain { get; set; }

    /// <summary>other-config:pci: a passed-through PCI device ties the VM to its host (no live migration).</summary>
    public string? PciPassthrough { get; set; }

    /// <summary>blocked-operations of the VM (pool_migrate / migrate_send blocked: it must not be migrated).</summary>
    public string[] BlockedOperations { get; set; } = [];

    /// <summary>Why the VM cannot live-migrate, or null when nothing the inventory holds says so.</summary>
    public string? PinnedBecause =>
        PciPassthrough is { Length: > 0 } pci ? $"PCI passthrough (other-config:pci={pci})"
        : BlockedOperations.FirstOrDefault(o => o is "pool_migrate" or "migrate_send") is { } op ? $"blocked-operations:{op} is set"
        : null;
}

/// <summary>A network interface of a host: its PIF (when xe listed it) joined with ethtool/ip facts read on the host.</summary>
public sealed record HostNic(string HostName, string Device, InventoryPif? Pif, NicFacts? Facts)
{
    public string? Driver => Facts?.Driver;

    /// <summary>MTU from xe (what the PIF is configured with), else from ip link.</summary>
    public int? Mtu => Pif?.Mtu ?? Facts?.Mtu;

    /// <summary>Live GRO from ethtool -k; else what other-config asks for; null when neither is known.</summary>
    public bool? GroOn => Facts?.GroOn ?? (Pif?.EthtoolGroOverride switch { "on" => true, "off" => false, _ => null });

    public bool IsBondMember => Pif?.BondSlaveOf is not null;
    public bool IsBondPif => Pif?.BondMasterOf is not null;
    public bool IsPhysical => Pif?.Physical ?? !IsBondPif;
}
