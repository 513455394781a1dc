namespace FleetTwin.Domain.Events;

/// <summary>
/// The dom0 kernel booted: the <c>Linux version …</c> banner printk'd first by start_kernel(). Tells the twin the
/// kernel release and so the XenServer release, which decides the SWIOTLB code path and GRO defaults.
/// </summary>
public sealed record KernelBoot : TwinEvent
{
    public const string TypeName = "kernel_boot";
    public override string Type => TypeName;

    /// <summary>The kernel release as printed, e.g. <c>2.6.32.43-0.4.1.xs1.8.0.853.170791xen</c>.</summary>
    public string KernelVersion { get; init; } = "";

    /// <summary>XenServer release this kernel ships with (e.g. <c>6.2</c>), from the release table; null when the table has no row for it.</summary>
    public string? XenServerRelease { get; init; }

    /// <summary>False when the matching table row is marked unconfirmed.</summary>
    public bool ReleaseConfirmed { get; init; }
}

/// <summary>
/// A log daemon (re)started — klogd/syslogd (sysklogd 1.4.1 in XenServer 6.2's dom0), rsyslogd, syslog-ng, or the
/// journal's <c>-- Reboot --</c> separator. At boot this is the first line of the new boot, so it is the boot marker
/// when no <c>Linux version</c> line makes it into the log.
/// </summary>
public sealed record LogDaemonRestart : TwinEvent
{
    public const string TypeName = "log_daemon_restart";
    public override string Type => TypeName;

    /// <summary><c>klogd</c>, <c>syslogd</c>, <c>rsyslogd</c>, <c>syslog-ng</c> or <c>journal</c>.</summary>
    public string Daemon { get; init; } = "";

    /// <summary>Daemon version when the line gives it (<c>1.4.1</c>).</summary>
    public string? Version { get; init; }
}

/// <summary>
/// dom0's kernel command line, from the boot log (<c>Kernel command line: …</c>), <c>cat /proc/cmdline</c> or
/// <c>xen-cmdline --get-dom0</c>. <c>swiotlb=</c> sizes the bounce pool: MiB on XenServer's classic-Xen kernel,
/// slabs in mainline (docs/swiotlb.md); absent means the 64 MiB default.
/// </summary>
public sealed record Dom0CommandLine : TwinEvent
{
    public const string TypeName = "dom0_cmdline";
    public override string Type => TypeName;

    public string CommandLine { get; init; } = "";

    /// <summary>The <c>swiotlb=</c> value as written (<c>128</c>, <c>128,force</c>); null when the option is absent.</summary>
    public string? Swiotlb { get; init; }

    /// <summary>The leading number of <c>swiotlb=</c> (MiB on classic-Xen dom0 kernels); null when absent or not numeric.</summary>
    public int? SwiotlbSize { get; init; }
}
