using System.Globalization;

namespace FleetTwin.Domain.Allocation;

/// <summary>
/// The exact lines the kernel prints when the pool is full, so a simulated host writes records the same parser
/// and predictor read from real dom0 logs.
/// </summary>
public static class SwiotlbKernelText
{
    /// <summary>
    /// The KERN_ERR record of <c>swiotlb_full()</c>, e.g.
    /// <c>PCI-DMA: Out of SW-IOMMU space for 33302 bytes at device 0000:04:00.1</c> (XenServer 6.2).
    /// </summary>
    public static string OutOfSpace(SwiotlbKernelFlavour flavour, int bytes, string busId) =>
        string.Create(CultureInfo.InvariantCulture, $"{flavour.OutOfSpacePrefix}Out of SW-IOMMU space for {bytes} bytes at device {busId}");

    /// <summary>
    /// The panic message <c>swiotlb_full()</c> chooses by direction when a single mapping larger than the overflow
    /// buffer fails (texts as in lib/swiotlb.c from 2.6.32 until the panic was removed).
    /// </summary>
    public static string PanicMessage(DmaDirection direction) => direction switch
    {
        DmaDirection.ToDevice => "DMA: Random memory could be DMA read",
        DmaDirection.FromDevice => "DMA: Random memory could be DMA written",
        DmaDirection.Bidirectional => "DMA: Random memory could be DMA accessed",
        _ => throw new ArgumentOutOfRangeException(nameof(direction), direction, "unknown DMA direction"),
    };

    /// <summary>The full console line of the panic: <c>Kernel panic - not syncing: DMA: Random memory could be DMA read</c>.</summary>
    public static string KernelPanicLine(DmaDirection direction) => "Kernel panic - not syncing: " + PanicMessage(direction);
}
