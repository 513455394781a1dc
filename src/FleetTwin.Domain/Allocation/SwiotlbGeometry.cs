namespace FleetTwin.Domain.Allocation;

/// <summary>
/// The fixed shape of the software IOMMU bounce pool, as in 2.6.32 <c>include/linux/swiotlb.h</c> and
/// <c>lib/swiotlb.c</c> (and the classic-Xen forward port XenServer 6.2's dom0 runs).
/// </summary>
public static class SwiotlbGeometry
{
    /// <summary><c>IO_TLB_SHIFT</c>: a slab is 2 KiB.</summary>
    public const int SlabShift = 11;

    /// <summary>Bytes per slab (<c>1 &lt;&lt; IO_TLB_SHIFT</c>).</summary>
    public const int SlabBytes = 1 << SlabShift;

    /// <summary>
    /// <c>IO_TLB_SEGSIZE</c>: free runs are tracked per 128-slab segment and no mapping crosses a segment,
    /// so the largest mapping the pool can ever satisfy is 128 slabs = 256 KiB.
    /// </summary>
    public const int SegmentSlabs = 128;

    /// <summary>Largest mapping a segment allows: <see cref="SegmentSlabs"/> x <see cref="SlabBytes"/> = 256 KiB.</summary>
    public const int LargestMappingBytes = SegmentSlabs * SlabBytes;

    /// <summary>x86 <c>PAGE_SIZE</c>. Mappings larger than a page are searched with a one-page stride.</summary>
    public const int PageBytes = 4096;

    /// <summary>Slabs per page (<c>1 &lt;&lt; (PAGE_SHIFT - IO_TLB_SHIFT)</c>): the stride for mappings larger than a page.</summary>
    public const int PageStrideSlabs = PageBytes / SlabBytes;

    /// <summary>
    /// <c>io_tlb_overflow = 32 * 1024</c>: the buffer reserved at boot that a failed mapping of at most this many bytes
    /// is pointed at, so the host survives (with garbage data); a larger failed single mapping panics.
    /// </summary>
    public const int OverflowBufferBytes = 32 * 1024;

    /// <summary>Slabs a mapping of <paramref name="bytes"/> takes: <c>ALIGN(size, 1 &lt;&lt; IO_TLB_SHIFT) &gt;&gt; IO_TLB_SHIFT</c>.</summary>
    public static int SlabsFor(int bytes) => (int)(((long)bytes + SlabBytes - 1) >> SlabShift);
}
