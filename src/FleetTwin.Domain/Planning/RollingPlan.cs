using FleetTwin.Domain.Fleet;

namespace FleetTwin.Domain.Planning;

/// <summary>
/// A rolling GRO remediation plan for one pool: per host, what to change on which PIF, what must hold first, where its
/// VMs go, and how to verify; in the order the hosts go down (master first, then highest risk first), never more than
/// <see cref="MaxDown"/> at once. What the planner could not decide is listed, never guessed.
/// </summary>
public sealed record RollingPlan(
    string Pool,
    string? PoolUuid,
    string? Master,
    int MaxDown,
    IReadOnlyList<HostStep> Steps,
    IReadOnlyList<string> Undecided,
    IReadOnlyList<string> Notes)
{
    /// <summary>A short id of this plan (pool and steps): the script keeps its progress under /var/lib/fleettwin/&lt;id&gt;.</summary>
    public string PlanId { get; init; } = "";

    /// <summary>The order-aware placement: every move of every VM, as the script runs them.</summary>
    public PlacementFigures Placement { get; init; } = PlacementFigures.None;

    /// <summary>The same rollout with "evacuate to wherever there is room" (xe host-evacuate, XAPI-like): the baseline.</summary>
    public PlacementFigures EvacuateBaseline { get; init; } = PlacementFigures.None;

    /// <summary>When each wave runs and how much panic risk the waiting hosts carry meanwhile.</summary>
    public RolloutTimeline Timeline { get; init; } = RolloutTimeline.None;

    /// <summary>Pool HA as xe pool-list showed it, and what the rollout does about it (disable before, restore after).</summary>
    public PoolHaPlan Ha { get; init; } = PoolHaPlan.Unknown;

    /// <summary>The canary: the first member wave's one host, of the riskiest NIC/driver/firmware class; null when no member reboots.</summary>
    public CanaryChoice? Canary { get; init; }

    /// <summary>True when every host is decided and none is blocked: the script can run to the end.</summary>
    public bool Complete => Undecided.Count == 0 && Steps.All(s => s.Action is HostAction.RebootWithChanges or HostAction.ChangeWithoutReboot or HostAction.NothingToDo);
}

/// <summary>What happens to one host.</summary>
public enum HostAction
{
    /// <summary>Set the PIF keys, evacuate, reboot, verify, enable.</summary>
    RebootWithChanges,

    /// <summary>Only remove a leftover key that does no harm until the next reboot (6.5+ with ethtool-gro=on).</summary>
    ChangeWithoutReboot,

    /// <summary>GRO already on where it matters.</summary>
    NothingToDo,

    /// <summary>A prerequisite is missing or the VMs cannot be evacuated: the plan stops before this host.</summary>
    Blocked,

    /// <summary>The facts do not allow a decision (release, driver, PIF, VM or hotfix list unknown).</summary>
    Undecided,
}

/// <summary>One host's part of the plan.</summary>
public sealed record HostStep(
    int Order,
    int Wave,
    string Host,
    string? HostUuid,
    string? Address,
    bool IsMaster,
    string? Release,
    RiskLevel Risk,
    string RiskReason,
    HostAction Action,
    IReadOnlyList<PifChange> Changes,
    IReadOnlyList<PrerequisiteCheck> Prerequisites,
    IReadOnlyList<VmMove> Moves,
    IReadOnlyList<UnmovableVm> Unmovable,
    IReadOnlyList<string> Verifications,
    IReadOnlyList<string> StopConditions,
    IReadOnlyList<string> Why,
    SwiotlbDelayStep? SwiotlbDelay)
{
    /// <summary>VMs of this host shut down before its reboot and started again after (<c>--shutdown-pinned</c>).</summary>
    public IReadOnlyList<UnmovableVm> ShutDown { get; init; } = [];

    /// <summary>When the host's turn starts, how long its migrations and reboot take, and its panic risk while it waits.</summary>
    public HostTiming? Timing { get; init; }

    /// <summary>Why the host can neither take VMs nor reboot now (not live, disabled), or null: the script passes it by, the rest goes on.</summary>
    public string? NotAvailable { get; init; }

    /// <summary>The NIC class the plan changes on this host (driver, ethtool -i firmware-version and, when lspci listed it, the model of each changed NIC), or null.</summary>
    public string? NicClass { get; init; }
}

/// <summary>
/// Pool HA and the rollout. With HA on, a host going down for its reboot is a host failure to HA (it may fence or restart
/// VMs elsewhere), so HA is disabled before the first wave and enabled again after the last, on the same heartbeat SR,
/// as Xen Orchestra's rolling pool reboot does (xo-server rollingPoolReboot: pool.disable_ha, then pool.enable_ha with
/// the SRs of the pool's ha_statefiles VDIs). xe pool-list shows the state file VDIs (ha-statefiles), not the SR: the script
/// asks xe for their SR (vdi-param-get sr-uuid) before disabling.
/// </summary>
/// <param name="Enabled">xe pool-list ha-enabled; null when the pool-list read did not show it (the script checks it live).</param>
/// <param name="Statefiles">ha-statefiles: the VDI uuid(s) of HA's state file.</param>
/// <param name="HostFailuresToTolerate">ha-host-failures-to-tolerate, set again after the restore.</param>
public sealed record PoolHaPlan(bool? Enabled, IReadOnlyList<string> Statefiles, int? HostFailuresToTolerate)
{
    public static PoolHaPlan Unknown { get; } = new(null, [], null);

    /// <summary>True when HA is on but the facts read do not tell its heartbeat SR (no ha-statefiles): the restore may need a hand.</summary>
    public bool RestoreUnknown => Enabled == true && Statefiles.Count == 0;
}

/// <summary>The canary host and why: its NIC class is the riskiest, so it is proven first and alone.</summary>
/// <param name="NicClass">Driver and firmware-version of the NICs the plan changes, and their model when lspci listed it (<c>bnx2x firmware bc 7.8.22 on Broadcom … BCM57810 10 Gigabit Ethernet</c>).</param>
/// <param name="Why">Why this class is the riskiest, in numbers.</param>
/// <param name="HostsOfClass">Every host of the pool whose changed NICs are of this class.</param>
public sealed record CanaryChoice(string Host, string NicClass, string Why, IReadOnlyList<string> HostsOfClass);

/// <summary>One host's place on the rollout's clock (seconds from the start of the rollout).</summary>
/// <param name="PanicWhileWaiting">P(panic) before its reboot completes: its hazard integrated over the wait.</param>
public sealed record HostTiming(double StartSeconds, double MigrationSeconds, double RebootSeconds, bool RebootFromHistory, double EndSeconds, double? PanicWhileWaiting);

/// <summary>How many times each VM moves and how much memory crosses the network.</summary>
public sealed record PlacementFigures(int Vms, int Moves, int MostMovesOfOneVm, int VmsMovedTwiceOrMore, long BytesMigrated)
{
    public static PlacementFigures None { get; } = new(0, 0, 0, 0, 0);
}

/// <summary>The rollout's length and the risk carried while hosts wait their turn.</summary>
/// <param name="PanicDuringRollout">P(at least one host panics before its reboot), from each host's wait.</param>
public sealed record RolloutTimeline(double TotalSeconds, IReadOnlyList<WaveTiming> Waves, double? PanicDuringRollout, double MigrationGbps, double DefaultRebootSeconds)
{
    public static RolloutTimeline None { get; } = new(0, [], null, 0, 0);
}

/// <summary>One wave: its hosts, when it starts and ends.</summary>
public sealed record WaveTiming(int Wave, IReadOnlyList<string> Hosts, double StartSeconds, double EndSeconds, bool Canary);

/// <summary>The kind of change on one PIF.</summary>
public enum PifChangeKind
{
    /// <summary><c>xe pif-param-set other-config:ethtool-gro=on uuid=&lt;pif&gt;</c>.</summary>
    SetGroOn,

    /// <summary><c>xe pif-param-remove uuid=&lt;pif&gt; param-name=other-config param-key=ethtool-gro</c> (6.5+ has GRO on by default).</summary>
    RemoveGroOverride,

    /// <summary>The key is already on; only the reboot (PIF re-plug) is missing.</summary>
    AlreadySet,
}

/// <summary>One command on one PIF (one per PIF uuid: bond members each get their own, the bond's own PIF none).</summary>
public sealed record PifChange(PifChangeKind Kind, string PifUuid, string Device, string? Bond, string? Driver, string Command, string Why);

/// <summary>A prerequisite and whether the facts show it met.</summary>
public sealed record PrerequisiteCheck(string What, bool Met, string Evidence, string? ScriptCheck);

/// <summary>
/// A VM live-migrated off the host (<c>xe vm-migrate uuid=&lt;vm&gt; host-uuid=&lt;target&gt; live=true</c>) to a host that
/// is done, or (first wave only) to a host of the last wave; <paramref name="MoveNumber"/> is 2 for a VM that landed here earlier.
/// </summary>
public sealed record VmMove(string Vm, string VmUuid, long MemoryBytes, string ToHost, string? ToHostUuid = null, int MoveNumber = 1);

/// <summary>A VM no other host has room for.</summary>
public sealed record UnmovableVm(string Vm, string VmUuid, long? MemoryBytes, string Why);

/// <summary>The optional <c>swiotlb=128</c> step: a delay, not a fix.</summary>
public sealed record SwiotlbDelayStep(string Command, string Label);
