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
