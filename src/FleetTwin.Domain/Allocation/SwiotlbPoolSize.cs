using System.Globalization;

namespace FleetTwin.Domain.Allocation;

/// <summary>
/// The size of a dom0 bounce pool, in slabs. Always a whole number of 128-slab segments, as the kernel rounds it.
/// </summary>
public readonly record struct SwiotlbPoolSize
{
    private SwiotlbPoolSize(int slabs) => Slabs = slabs;

    /// <summary>Number of 2 KiB slabs (<c>io_tlb_nslabs</c>).</summary>
    public int Slabs { get; }

    /// <summary>Pool size in bytes.</summary>
    public long Bytes => (long)Slabs * SwiotlbGeometry.SlabBytes;

    /// <summary>Pool size in MiB (what XenServer's <c>swiotlb=</c> counts).</summary>
    public double MiB => Bytes / (1024.0 * 1024.0);

    /// <summary>Number of 128-slab segments.</summary>
    public int Segments => Slabs / SwiotlbGeometry.SegmentSlabs;

    /// <summary>XenServer's default dom0 pool: 64 MiB = 32,768 slabs.</summary>
    public static SwiotlbPoolSize XenServerDefault { get; } = FromMiB(64);

    /// <summary>
    /// A pool of <paramref name="mib"/> MiB: the classic-Xen dom0 reading of <c>swiotlb=N</c>
    /// (<c>swiotlb=128</c> -> 128 MiB = 65,536 slabs).
    /// </summary>
    public static SwiotlbPoolSize FromMiB(int mib)
    {
        // 1 MiB = 512 slabs; bounded so the slab count fits an int and a pool stays a plausible dom0 size.
        if (mib is <= 0 or > 4096)
            throw new ArgumentOutOfRangeException(nameof(mib), mib, "swiotlb pool size must be 1..4096 MiB");
        return FromSlabs(mib * (1024 * 1024 / SwiotlbGeometry.SlabBytes));
    }

    /// <summary>
    /// A pool of <paramref name="slabs"/> slabs, rounded up to whole segments like mainline's
    /// <c>setup_io_tlb_npages()</c>: <c>io_tlb_nslabs = ALIGN(io_tlb_nslabs, IO_TLB_SEGSIZE)</c>.
    /// </summary>
    public static SwiotlbPoolSize FromSlabs(int slabs)
    {
        if (slabs is <= 0 or > 2 * 1024 * 1024)
            throw new ArgumentOutOfRangeException(nameof(slabs), slabs, "swiotlb pool must have 1..2,097,152 slabs");
        var aligned = (slabs + SwiotlbGeometry.SegmentSlabs - 1) / SwiotlbGeometry.SegmentSlabs * SwiotlbGeometry.SegmentSlabs;
        return new SwiotlbPoolSize(aligned);
    }

    /// <summary>
    /// The pool a classic-Xen dom0 sets up without a <c>swiotlb=</c> option: 64 MiB, but only 2/4/8 MiB when dom0 has
    /// under 512 MiB / 1 GiB / 2 GiB of RAM (the forward port's default sizing; see docs/swiotlb.md).
    /// </summary>
    public static SwiotlbPoolSize XenDom0DefaultFor(long dom0MemoryBytes)
    {
        const long MiB = 1024 * 1024;
        if (dom0MemoryBytes <= 0)
            throw new ArgumentOutOfRangeException(nameof(dom0MemoryBytes), dom0MemoryBytes, "dom0 memory must be positive");
        return dom0MemoryBytes switch
        {
            < 512 * MiB => FromMiB(2),
            < 1024 * MiB => FromMiB(4),
            < 2048 * MiB => FromMiB(8),
            _ => XenServerDefault,
        };
    }

    /// <summary>
    /// Reads the pool size from a dom0 kernel command line (<c>/proc/cmdline</c> or <c>xen-cmdline --get-dom0</c>).
    /// On XenServer's classic-Xen kernel <c>swiotlb=N</c> is in MiB; <c>swiotlb=N,force</c> keeps the size, and
    /// <c>swiotlb=off</c> is reported as <c>null</c> size with <c>disabled = true</c>. Returns <c>null</c> when the
    /// line has no <c>swiotlb=</c> option (the caller applies <see cref="XenDom0DefaultFor"/>).
    /// </summary>
    /// <exception cref="FormatException">The option is present but its value is not a size, naming the token.</exception>
    public static SwiotlbPoolSize? FromXenDom0CommandLine(string commandLine, out bool disabled)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        disabled = false;
        SwiotlbPoolSize? size = null;
        foreach (var token in commandLine.Split([' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (!token.StartsWith("swiotlb=", StringComparison.Ordinal))
                continue;
            var value = token["swiotlb=".Length..];
            // The last occurrence wins, as with any repeated kernel parameter.
            disabled = false;
            size = null;
            foreach (var part in value.Split(','))
            {
                if (part.Length == 0 || part == "force")
                    continue;
                if (part == "off")
                {
                    disabled = true;
                    continue;
                }
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var mib) || mib <= 0)
                    throw new FormatException($"dom0 command line option '{token}': '{part}' is not a pool size in MiB");
                size = FromMiB(mib);
            }
        }
        return size;
    }

    /// <inheritdoc />
    public override string ToString() =>
        Slabs % 512 == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{Slabs / 512} MiB ({Slabs} slabs)")
            : string.Create(CultureInfo.InvariantCulture, $"{MiB:0.###} MiB ({Slabs} slabs)");
}
