namespace FleetTwin.Domain.Events;

/// <summary>
/// <c>ethtool -k ethN</c>: the NIC's offloads. generic-receive-offload decides whether bnx2x receives into
/// page-sized fragments (no bounce) or MTU-sized linear buffers (bounced through the SWIOTLB).
/// </summary>
public sealed record NicOffloads : TwinEvent
{
    public const string TypeName = "nic_offloads";
    public override string Type => TypeName;

    /// <summary>Interface name from <c>Features for ethN:</c> or the command line; null when neither says.</summary>
    public string? Device { get; init; }

    /// <summary>The generic-receive-offload setting, when listed.</summary>
    public bool? GenericReceiveOffload { get; init; }

    public NicOffload[] Offloads { get; init; } = [];
}

/// <summary>One <c>name: on|off [fixed]</c> line of ethtool -k.</summary>
public sealed record NicOffload
{
    public string Name { get; init; } = "";
    public bool Enabled { get; init; }

    /// <summary>True for <c>[fixed]</c>: the driver does not let it change.</summary>
    public bool Fixed { get; init; }
}

/// <summary><c>ethtool -i ethN</c>: driver, its version and the PCI bus id that SWIOTLB messages name.</summary>
public sealed record NicDriver : TwinEvent
{
    public const string TypeName = "nic_driver";
    public override string Type => TypeName;

    public string? Device { get; init; }
    public string Driver { get; init; } = "";
    public string? Version { get; init; }
    public string? FirmwareVersion { get; init; }

    /// <summary>PCI bus id, e.g. <c>0000:04:00.0</c>: joins this NIC to swiotlb_exhausted.device.</summary>
    public string? BusInfo { get; init; }
}

/// <summary>One interface of <c>ip link</c>: its MTU (9000 makes every RX buffer bounce on bnx2x without GRO).</summary>
public sealed record LinkMtu : TwinEvent
{
    public const string TypeName = "link_mtu";
    public override string Type => TypeName;

    public string Device { get; init; } = "";
    public int Mtu { get; init; }

    /// <summary>Operational state (<c>UP</c>, <c>DOWN</c>, <c>UNKNOWN</c>) when printed.</summary>
    public string? State { get; init; }

    /// <summary>The bridge or bond the interface is enslaved to (<c>master xenbr4</c>), when printed.</summary>
    public string? Master { get; init; }
}

/// <summary>
/// One network controller (PCI class 02: <c>Ethernet controller</c>, <c>Network controller</c>) as <c>lspci</c> lists
/// it (pciutils lspci(8)): <c>04:00.0 Ethernet controller: Broadcom Inc. and subsidiaries NetXtreme II BCM57810 10
/// Gigabit Ethernet (rev 10)</c>, with <c>-nn</c> the class and vendor:device ids in brackets, with <c>-D</c> the PCI
/// domain, with <c>-k</c>/<c>-v</c> the indented <c>Subsystem:</c> and <c>Kernel driver in use:</c> lines below it.
/// The bus id joins it to <see cref="NicDriver.BusInfo"/> (ethtool -i), and so gives the NIC its model.
/// </summary>
public sealed record PciNic : TwinEvent
{
    public const string TypeName = "pci_nic";
    public override string Type => TypeName;

    /// <summary>PCI address in domain form, lower case: <c>0000:04:00.0</c> (lspci without -D prints <c>04:00.0</c>: domain 0000).</summary>
    public string BusId { get; init; } = "";

    /// <summary>The class as lspci names it (<c>Ethernet controller</c>); the class code (<c>0200</c>) when only <c>-n</c> was given.</summary>
    public string Class { get; init; } = "";

    /// <summary>The class code (<c>0200</c>) when <c>-nn</c>/<c>-n</c> printed it.</summary>
    public string? ClassId { get; init; }

    /// <summary>Vendor and device name as lspci prints them from pci.ids, without ids and revision; null with <c>-n</c> alone.</summary>
    public string? Model { get; init; }

    /// <summary>PCI vendor id (<c>14e4</c>) when <c>-nn</c>/<c>-n</c> printed it.</summary>
    public string? VendorId { get; init; }

    /// <summary>PCI device id (<c>168e</c>) when <c>-nn</c>/<c>-n</c> printed it.</summary>
    public string? DeviceId { get; init; }

    /// <summary>The <c>(rev 10)</c> revision, when printed.</summary>
    public string? Revision { get; init; }

    /// <summary>The <c>Subsystem:</c> line of <c>-v</c>/<c>-k</c> (the board maker's card), when printed.</summary>
    public string? Subsystem { get; init; }

    /// <summary>The <c>Kernel driver in use:</c> line of <c>-k</c>/<c>-v</c>, when printed.</summary>
    public string? KernelDriver { get; init; }
}
