using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;

namespace FleetTwin.Domain.Prediction;

/// <summary>How a device's failed mappings reach <c>swiotlb_full()</c>, which decides whether they can panic.</summary>
public enum MappingPath
{
    /// <summary>Not known: the device could map single buffers (and panic over 32 KiB) or scatter-gather lists.</summary>
    Unknown = 0,

    /// <summary>Single streaming mappings (<c>swiotlb_map_page</c>, do_panic = 1): a NIC's TX skb parts. Over 32 KiB, a failure panics.</summary>
    Single = 1,

    /// <summary>Scatter-gather lists or coherent allocations (do_panic = 0), or a kernel whose swiotlb never panics: no panic hazard of its own.</summary>
    NoPanic = 2,
}

/// <summary>
/// What the twin knows of one failing device: its driver, its mapping path, the share of its failures that would panic,
/// why, and (in an assessment) how many of the deciding window's failures were its.
/// </summary>
public sealed record DeviceMappingEvidence(string Device, string? Driver, MappingPath Path, double OverflowShare, string Why, int Failures = 0);

/// <summary>
/// Tells, per failing device, which mapping path its failures come from (docs/swiotlb.md, "When the pool is full"):
/// in 2.6.32 only <c>swiotlb_map_page</c>/<c>map_single</c> call <c>swiotlb_full(..., do_panic = 1)</c>;
/// <c>swiotlb_map_sg_attrs</c> and coherent allocations fail without panicking. The evidence, strongest first:
/// the kernel's message variant, a failure over 32 KiB that the host survived, the driver (from <c>ethtool -i</c> or
/// the message's dev_err prefix). A device none of these names stays <see cref="MappingPath.Unknown"/>.
/// </summary>
public static class DeviceMappingPath
{
    /// <summary>
    /// Drivers whose DMA goes through scatter-gather lists or coherent allocations, never a single bounced mapping
    /// of a network packet: block and storage controllers (the SCSI/ATA midlayer maps requests with dma_map_sg), USB
    /// host controllers, GPUs.
    /// </summary>
    private static readonly HashSet<string> NoPanicDrivers = new(StringComparer.OrdinalIgnoreCase)
    {
        "ahci", "ata_piix", "ata_generic", "pata_acpi", "sata_nv", "sata_sil24", "sata_via", "megaraid_sas", "megaraid",
        "mpt2sas", "mpt3sas", "mptsas", "mptspi", "mptbase", "hpsa", "cciss", "aacraid", "arcmsr", "isci", "qla2xxx",
        "lpfc", "nvme", "mvsas", "pm80xx", "3w-9xxx", "3w-sas", "aic79xx", "sym53c8xx", "usb-storage", "uas",
        "xhci_hcd", "ehci_hcd", "ehci-pci", "ohci_hcd", "uhci_hcd", "amdgpu", "radeon", "nouveau", "i915",
    };

    /// <summary>NIC drivers without a demand profile: they map TX packets singly, share of oversized failures unknown (the default is used).</summary>
    private static readonly HashSet<string> NicDriversWithoutProfile = new(StringComparer.OrdinalIgnoreCase)
    {
        "e1000", "e1000e", "igbvf", "ixgbevf", "i40e", "ice", "be2net", "mlx4_en", "mlx5_core", "bnxt_en", "qlge",
        "qlcnic", "netxen_nic", "enic", "r8169", "sky2", "forcedeth", "vmxnet3", "cxgb4", "sfc", "myri10ge", "mt7615e",
        "mt76x2e", "iwlwifi", "ath9k", "ath10k_pci",
    };

    /// <summary>The path of <paramref name="device"/> as the records seen up to <paramref name="at"/> and the configuration tell it.</summary>
    public static DeviceMappingEvidence Of(string device, IReadOnlyList<ExhaustionRecord> seen, IReadOnlyList<PanicRecord> panics,
        HostConfiguration? config, double at, PredictorOptions options)
    {
        string? driver = null;
        var allNoPanicVariant = true;
        ExhaustionRecord? survivedOversized = null;
        foreach (var x in seen)
        {
            if (x.Device != device)
                continue;
            driver ??= x.Driver;
            if (x.Variant is not (SwiotlbMessageVariant.BufferIsFull or SwiotlbMessageVariant.CoherentAllocationFailed))
                allNoPanicVariant = false;
            if (survivedOversized is null && x.Bytes > SwiotlbGeometry.OverflowBufferBytes && x.Uptime is { } u
                && at - u > SurvivalProofSeconds && !PanickedAt(panics, u))
                survivedOversized = x;
        }
        var nic = config?.NicAt(device);
        driver ??= nic?.Driver;

        if (allNoPanicVariant)
            return new(device, driver, MappingPath.NoPanic, 0, "this kernel's swiotlb drops the mapping instead of panicking");
        if (survivedOversized is { } big)
            return new(device, driver, MappingPath.NoPanic, 0, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"its {big.Bytes}-byte failure at uptime {big.Uptime:0.##} did not panic, so it maps scatter-gather or coherent buffers"));
        if (driver is not null && NoPanicDrivers.Contains(driver))
            return new(device, driver, MappingPath.NoPanic, 0, $"{driver} maps scatter-gather lists or coherent buffers, which never panic");
        if (nic?.Profile is { } profile)
            return new(device, driver, MappingPath.Single, PanicPredictor.OverflowShareOf(profile), $"{nic.Device} ({profile.Driver}) maps TX packets singly");
        var known = driver is null ? null : Drivers.DriverProfiles.Embedded.Find(driver);
        if (nic is not null || known is not null || (driver is not null && NicDriversWithoutProfile.Contains(driver)))
        {
            var share = known is not null ? PanicPredictor.OverflowShareOf(known) : options.DefaultOverflowShare;
            return new(device, driver, MappingPath.Single, share, $"{nic?.Device ?? driver} is a NIC: it maps TX packets singly");
        }
        return new(device, driver, MappingPath.Unknown, options.DefaultOverflowShare, driver is null
            ? "no ethtool -i and no driver in the message"
            : $"driver {driver} is not one the twin knows");
    }

    /// <summary>swiotlb_full() prints and panics in the same call: a record a second older than now without a panic was survived.</summary>
    private const double SurvivalProofSeconds = 1.0;

    private static bool PanickedAt(IReadOnlyList<PanicRecord> panics, double uptime)
    {
        foreach (var p in panics)
        {
            if (p.Uptime is { } u && u >= uptime && u - uptime <= SurvivalProofSeconds)
                return true;
        }
        return false;
    }
}
