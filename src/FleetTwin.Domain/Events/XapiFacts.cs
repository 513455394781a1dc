namespace FleetTwin.Domain.Events;

/// <summary>A key/value of an xe map parameter such as other-config or software-version.</summary>
public sealed record ConfigEntry
{
    public string Key { get; init; } = "";
    public string Value { get; init; } = "";
}

/// <summary>
/// One PIF from <c>xe pif-list</c> / <c>xe pif-param-list</c> (params=all for the full set). GRO is configured per
/// PIF through other-config:ethtool-gro; for a bond it belongs on the member PIFs (bond-slave-of), not the bond's own
/// PIF (bond-master-of) — docs/swiotlb.md.
/// </summary>
public sealed record PifFact : TwinEvent
{
    public const string TypeName = "pif";
    public override string Type => TypeName;

    public string Uuid { get; init; } = "";
    public string? Device { get; init; }
    public int? Mtu { get; init; }

    /// <summary>VLAN tag; null for -1 (untagged) or when not listed.</summary>
    public int? Vlan { get; init; }

    public string? HostUuid { get; init; }
    public string? HostName { get; init; }

    /// <summary>Bond uuid this PIF is the master of; null for <c>&lt;not in database&gt;</c> or empty.</summary>
    public string? BondMasterOf { get; init; }

    /// <summary>Bond uuid this PIF is a member of; null for <c>&lt;not in database&gt;</c>.</summary>
    public string? BondSlaveOf { get; init; }

    public bool? Management { get; init; }
    public bool? Physical { get; init; }
    public ConfigEntry[] OtherConfig { get; init; } = [];

    /// <summary>other-config:ethtool-gro (<c>on</c>/<c>off</c>) when set.</summary>
    public string? EthtoolGro { get; init; }
}

/// <summary>One bond from <c>xe bond-list</c>: its master PIF and member PIFs.</summary>
public sealed record BondFact : TwinEvent
{
    public const string TypeName = "bond";
    public override string Type => TypeName;

    public string Uuid { get; init; } = "";
    public string? Master { get; init; }
    public string[] Slaves { get; init; } = [];
    public string? Mode { get; init; }
}

/// <summary>One host from <c>xe host-list</c> (params=all): identity, release and memory.</summary>
public sealed record XenHostFact : TwinEvent
{
    public const string TypeName = "xen_host";
    public override string Type => TypeName;

    public string Uuid { get; init; } = "";
    public string? NameLabel { get; init; }
    public string? Address { get; init; }

    /// <summary>software-version:product_version, e.g. <c>6.2.0</c>.</summary>
    public string? ProductVersion { get; init; }

    /// <summary>software-version:linux, the dom0 kernel release.</summary>
    public string? Linux { get; init; }

    public long? MemoryTotal { get; init; }
    public long? MemoryFree { get; init; }
    public ConfigEntry[] SoftwareVersion { get; init; } = [];

    /// <summary>other-config:boot_time (Unix seconds the host booted), when the record carries it.</summary>
    public double? BootTime { get; init; }

    /// <summary>other-config:agent_start_time (Unix seconds xapi started): minus boot_time, how long the host takes to come up.</summary>
    public double? AgentStartTime { get; init; }

    /// <summary><c>enabled</c>: false while the host is disabled (maintenance): xapi places no VM on it (HOST_DISABLED).</summary>
    public bool? Enabled { get; init; }

    /// <summary><c>host-metrics-live</c>: false when the master has lost the host's heartbeat (halted, crashed, unreachable).</summary>
    public bool? HostMetricsLive { get; init; }
}

/// <summary>One pool from <c>xe pool-list</c>: its name and master host uuid (the master reboots first in a rolling plan).</summary>
public sealed record PoolFact : TwinEvent
{
    public const string TypeName = "pool";
    public override string Type => TypeName;

    public string Uuid { get; init; } = "";
    public string? NameLabel { get; init; }
    public string? Master { get; init; }

    /// <summary><c>ha-enabled</c>: pool HA is on (a rolling reboot disables it first and restores it after, as Xen Orchestra does).</summary>
    public bool? HaEnabled { get; init; }

    /// <summary><c>ha-host-failures-to-tolerate</c>: restored with HA.</summary>
    public int? HaHostFailuresToTolerate { get; init; }

    /// <summary><c>ha-statefiles</c>: the VDI uuid(s) of HA's state file; its SR is the heartbeat SR <c>pool-ha-enable</c> needs again.</summary>
    public string[] HaStatefiles { get; init; } = [];
}

/// <summary>One hotfix from <c>xe patch-list</c> (XenServer 6.x) or <c>xe update-list</c> (7.x+), with the hosts that have it applied.</summary>
public sealed record HotfixFact : TwinEvent
{
    public const string TypeName = "hotfix";
    public override string Type => TypeName;

    public string Uuid { get; init; } = "";

    /// <summary>e.g. <c>XS62ESP1004</c> (bonded bnx2x with GRO needs 6.2 SP1 + XS62ESP1004 or later).</summary>
    public string? NameLabel { get; init; }

    public string? Version { get; init; }

    /// <summary><c>patch</c> or <c>update</c>.</summary>
    public string Kind { get; init; } = "patch";

    /// <summary>Uuids (or names, as xe prints them) of the hosts that have it applied.</summary>
    public string[] Hosts { get; init; } = [];
}

/// <summary>One VM from <c>xe vm-list</c>: where it runs and how much memory it holds (what an evacuation must place).</summary>
public sealed record VmFact : TwinEvent
{
    public const string TypeName = "vm";
    public override string Type => TypeName;

    public string Uuid { get; init; } = "";
    public string? NameLabel { get; init; }
    public string? PowerState { get; init; }

    /// <summary>Host uuid the VM is resident on; null for <c>&lt;not in database&gt;</c> (halted).</summary>
    public string? ResidentOn { get; init; }

    public long? MemoryActual { get; init; }
    public long? MemoryStaticMax { get; init; }
    public int? DomId { get; init; }
    public bool? IsControlDomain { get; init; }

    /// <summary>other-config:pci (e.g. <c>0/0000:04:00.0</c>): a PCI device passed through; such a VM cannot live-migrate.</summary>
    public string? PciPassthrough { get; init; }

    /// <summary>The operations blocked-operations names (e.g. <c>pool_migrate</c>, <c>migrate_send</c>): set by an operator or a product to keep the VM where it is.</summary>
    public string[] BlockedOperations { get; init; } = [];
}
