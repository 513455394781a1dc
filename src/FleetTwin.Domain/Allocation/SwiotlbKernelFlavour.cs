namespace FleetTwin.Domain.Allocation;

/// <summary>
/// The differences between the kernels whose bounce pool FleetTwin models. The slab, segment and free-run algorithm is
/// the same in all of them; what differs is how the segment-boundary check is offset and the text of the
/// out-of-space record.
/// </summary>
/// <param name="Name">Operator-facing name of the kernel line.</param>
/// <param name="BoundaryOffsetSlabs">
/// <c>offset_slots</c> in <c>map_single()</c>: added to a slab index before <c>iommu_is_span_boundary()</c>.
/// Mainline uses the pool's bus address in slabs; the classic-Xen forward port uses <c>-IO_TLB_SEGSIZE</c>
/// because its segments are machine-contiguous one by one, not as a whole.
/// </param>
/// <param name="OutOfSpacePrefix">The prefix <c>swiotlb_full()</c> prints before "Out of SW-IOMMU space".</param>
public sealed record SwiotlbKernelFlavour(string Name, long BoundaryOffsetSlabs, string OutOfSpacePrefix)
{
    /// <summary>XenServer 6.x dom0 (2.6.32.43 xs1.8.0 and its siblings): classic-Xen swiotlb, <c>PCI-DMA:</c> prefix.</summary>
    public static SwiotlbKernelFlavour XenServerClassicXen { get; } =
        new("xenserver-2.6.32-classic-xen", -SwiotlbGeometry.SegmentSlabs, "PCI-DMA: ");

    /// <summary>
    /// Mainline 2.6.32 <c>lib/swiotlb.c</c> with the pool starting at <paramref name="poolBusAddress"/>
    /// (<c>offset_slots = ALIGN(start_dma_addr &amp; mask, 1 &lt;&lt; IO_TLB_SHIFT) &gt;&gt; IO_TLB_SHIFT</c>;
    /// the mask is applied per device by the region).
    /// </summary>
    public static SwiotlbKernelFlavour Mainline2632(ulong poolBusAddress = 0) =>
        new("mainline-2.6.32", (long)((poolBusAddress + SwiotlbGeometry.SlabBytes - 1) >> SwiotlbGeometry.SlabShift), "DMA: ");
}
