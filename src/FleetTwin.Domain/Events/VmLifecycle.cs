namespace FleetTwin.Domain.Events;

/// <summary>
/// A guest domain's backend devices came up in dom0 (netback/blkback): the domain started on this host.
/// A domain counts as started once per run even when its frontends reconnect (an HVM guest switching from
/// emulated to PV devices closes and re-opens its vifs during the same start).
/// </summary>
public sealed record VmStarted : TwinEvent
{
    public const string TypeName = "vm_started";
    public override string Type => TypeName;

    /// <summary>Xen domain id (domids are not reused until they wrap, so domid + host names one run of a VM).</summary>
    public int Domid { get; init; }

    /// <summary>What showed it: <c>vif_connected</c>, <c>vif_promiscuous</c>, <c>vbd_connected</c>, <c>blkback_attach</c>.</summary>
    public string Evidence { get; init; } = "";
}

/// <summary>A guest domain's backend devices all went away without reconnecting, or its host rebooted.</summary>
public sealed record VmStopped : TwinEvent
{
    public const string TypeName = "vm_stopped";
    public override string Type => TypeName;

    public int Domid { get; init; }

    /// <summary><c>devices_closed</c>, <c>vif_removed</c>, <c>host_reboot</c> or <c>end_of_log</c>.</summary>
    public string Evidence { get; init; } = "";
}
