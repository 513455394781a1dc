namespace FleetTwin.Domain.Events;

/// <summary>
/// The bounce pool had no contiguous run for a mapping: swiotlb_full() in 2.6.32 lib/swiotlb.c (and its
/// classic-Xen forward port), or swiotlb_tbl_map_single()'s warning in later kernels.
/// </summary>
public sealed record SwiotlbExhausted : TwinEvent
{
    public const string TypeName = "swiotlb_exhausted";
    public override string Type => TypeName;

    /// <summary>Size of the mapping that found no room, in bytes.</summary>
    public long Bytes { get; init; }

    /// <summary>PCI bus id of the device (e.g. <c>0000:04:00.1</c>), or the kernel's device name when it is not a PCI device; null when the message names none.</summary>
    public string? Device { get; init; }

    /// <summary>Driver that printed the message, for the dev_err/dev_warn forms (<c>bnx2x 0000:04:00.0: …</c>).</summary>
    public string? Driver { get; init; }

    /// <summary>Pool size in 2 KiB slots, printed by kernels from about 5.x on.</summary>
    public long? TotalSlots { get; init; }

    /// <summary>Slots in use at the failure, printed by kernels from about 5.x on.</summary>
    public long? UsedSlots { get; init; }

    /// <summary>Which message text it was: one of <see cref="SwiotlbMessageVariant"/>.</summary>
    public string Variant { get; init; } = SwiotlbMessageVariant.PciDmaOutOfSwIommu;
}

/// <summary>The message texts that mean "the SWIOTLB pool is full" (docs/swiotlb.md lists them).</summary>
public static class SwiotlbMessageVariant
{
    /// <summary><c>PCI-DMA: Out of SW-IOMMU space for N bytes at device BDF</c> (XenServer 6.2, some 2.6.3x trees).</summary>
    public const string PciDmaOutOfSwIommu = "pci_dma_out_of_sw_iommu";

    /// <summary><c>DMA: Out of SW-IOMMU space for N bytes at device BDF</c> (mainline 2.6.32 to 3.x).</summary>
    public const string DmaOutOfSwIommu = "dma_out_of_sw_iommu";

    /// <summary><c>&lt;driver&gt; &lt;BDF&gt;: DMA: Out of SW-IOMMU space for N bytes</c> (dev_err form of later 3.x/4.x).</summary>
    public const string DeviceOutOfSwIommu = "dev_out_of_sw_iommu";

    /// <summary><c>swiotlb buffer is full (sz: N bytes)[, total N (slots), used N (slots)]</c> (4.x and later; slots from ~5.x).</summary>
    public const string BufferIsFull = "buffer_is_full";

    /// <summary><c>swiotlb: coherent allocation failed for device BDF size=N</c> or the dev_warn form <c>…: swiotlb: coherent allocation failed, size=N</c>.</summary>
    public const string CoherentAllocationFailed = "coherent_allocation_failed";
}
