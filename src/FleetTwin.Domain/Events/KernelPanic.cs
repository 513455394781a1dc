namespace FleetTwin.Domain.Events;

/// <summary>
/// <c>Kernel panic - not syncing: …</c> with the context dump_stack() prints after it (2.6.32 kernel/panic.c:
/// the message, then <c>Pid: N, comm: X …</c> and the <c>Call Trace:</c>; later kernels print
/// <c>CPU: N PID: N Comm: X …</c>), assembled from several records of one host.
/// </summary>
public sealed record KernelPanic : TwinEvent
{
    public const string TypeName = "kernel_panic";
    public override string Type => TypeName;

    /// <summary>The panic text, e.g. <c>DMA: Random memory could be DMA read</c> (lib/swiotlb.c swiotlb_full).</summary>
    public string Message { get; init; } = "";

    /// <summary>Task that was running (<c>netback/2</c>); null when the dump did not say.</summary>
    public string? Comm { get; init; }

    public int? Pid { get; init; }

    /// <summary>Kernel release from the Pid/CPU line, e.g. <c>2.6.32.43-0.4.1.xs1.8.0.853.170791xen</c>.</summary>
    public string? KernelVersion { get; init; }

    /// <summary>Function names of the reliable frames, innermost first (frames printed with <c>?</c> are stale stack words and left out).</summary>
    public string[] Trace { get; init; } = [];

    /// <summary>Every frame as printed, reliable or not, innermost first.</summary>
    public KernelStackFrame[] Frames { get; init; } = [];
}

/// <summary>One <c>[&lt;c026c228&gt;] swiotlb_full+0x68/0x80 [module]</c> line of a call trace.</summary>
public sealed record KernelStackFrame
{
    public string Function { get; init; } = "";

    /// <summary>Offset into the function (the <c>+0x68</c>).</summary>
    public long Offset { get; init; }

    /// <summary>Length of the function (the <c>/0x80</c>).</summary>
    public long Length { get; init; }

    /// <summary>Module the function lives in (<c>bnx2x</c>); null for the core kernel.</summary>
    public string? Module { get; init; }

    /// <summary>False for frames the unwinder marked with <c>?</c> (a return address found on the stack, not proven to be in the chain).</summary>
    public bool Reliable { get; init; }

    /// <summary>The return address as printed (hex, without <c>0x</c>); null when the kernel no longer prints it (4.x+).</summary>
    public string? Address { get; init; }
}
