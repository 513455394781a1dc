using System.Globalization;
using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Drivers;
using FleetTwin.Domain.Fleet;

namespace FleetTwin.Domain.Prediction;

/// <summary>
/// The configuration that decides a host's bounce-pool demand: its NICs (driver, MTU, GRO, bond), its dom0
/// <c>swiotlb=</c> size and its XenServer release. Built from the <see cref="FleetInventory"/>; what the inventory
/// does not know stays null so the predictor can say so instead of guessing.
/// </summary>
public sealed record HostConfiguration(
    string Host,
    string? Release,
    string? Kernel,
    SwiotlbPoolSize Pool,
    bool PoolSizeKnown,
    IReadOnlyList<NicConfiguration> Nics)
{
    /// <summary>The configuration of <paramref name="host"/> as the inventory knows it.</summary>
    public static HostConfiguration From(FleetInventory inventory, InventoryHost host, DriverProfiles? profiles = null)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(host);
        profiles ??= DriverProfiles.Embedded;
        var nics = new List<NicConfiguration>();
        foreach (var nic in inventory.NicsOf(host))
        {
            if (nic.IsBondPif || !nic.IsPhysical)
                continue; // a bond's own PIF has no ring of its own: its members' rings are the demand
            var bondMembers = nic.Pif?.BondSlaveOf is { } bond
                ? inventory.MembersOf(bond).Select(p => p.Device ?? p.Uuid).ToArray()
                : [];
            nics.Add(new NicConfiguration(
                nic.Device,
                nic.Facts?.BusId,
                nic.Driver,
                nic.Driver is null ? null : profiles.Find(nic.Driver),
                nic.Mtu,
                nic.GroOn ?? DefaultGro(host.Release),
                nic.Pif?.BondSlaveOf,
                bondMembers));
        }
        // swiotlb= absent from a known command line means the classic-Xen dom0 default (64 MiB with >= 2 GiB dom0 RAM).
        var size = host.SwiotlbMiB is { } mib ? SwiotlbPoolSize.FromMiB(mib) : SwiotlbPoolSize.XenServerDefault;
        return new HostConfiguration(host.Name, host.Release, host.Kernel, size, host.SwiotlbMiB is not null || host.CommandLineKnown, nics);
    }

    /// <summary>
    /// GRO when ethtool did not say: XenServer 6.5 and later turn it on by default (docs/swiotlb.md); before
    /// that the default is unknown to us, so null.
    /// </summary>
    public static bool? DefaultGro(string? release) => ReleaseAtLeast(release, 6, 5) ? true : null;

    /// <summary>True when <paramref name="release"/> (<c>6.2</c>, <c>7.1</c>, <c>6.5/7.x</c>) is at least major.minor.</summary>
    public static bool ReleaseAtLeast(string? release, int major, int minor)
    {
        if (release is null)
            return false;
        var first = release.Split('/')[0].Split('.');
        if (first.Length < 1 || !int.TryParse(first[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ma))
            return false;
        var mi = first.Length > 1 && int.TryParse(first[1], NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : 0;
        return ma > major || (ma == major && mi >= minor);
    }

    /// <summary>The NIC whose PCI bus id is <paramref name="busId"/>, or null.</summary>
    public NicConfiguration? NicAt(string busId) => Nics.FirstOrDefault(n => n.BusId == busId);

    /// <summary>"bnx2x bond eth4+eth5, MTU 9000, GRO off, 64 MiB swiotlb": what an operator checks first.</summary>
    public string Summary()
    {
        var parts = new List<string>();
        foreach (var group in Nics.Where(n => n.Mtu > 1500 || n.Driver is not null).GroupBy(n => n.Bond ?? n.Device))
        {
            var first = group.First();
            var devices = string.Join("+", group.Select(n => n.Device));
            var what = first.Bond is not null ? $"bond {devices}" : devices;
            var gro = first.GroOn switch { true => "GRO on", false => "GRO off", null => "GRO unknown" };
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{first.Driver ?? "driver unknown"} {what}, MTU {(first.Mtu is { } m ? m.ToString(CultureInfo.InvariantCulture) : "?")}, {gro}"));
        }
        parts.Add(string.Create(CultureInfo.InvariantCulture, $"{Pool.MiB:0} MiB swiotlb{(PoolSizeKnown ? "" : " (assumed default)")}"));
        return string.Join("; ", parts);
    }
}

/// <summary>One physical NIC port of a host as the predictor and planner see it.</summary>
/// <param name="Bond">The bond uuid this NIC is a member of, when bonded.</param>
/// <param name="BondMembers">Devices of all members of that bond (this one included).</param>
public sealed record NicConfiguration(
    string Device,
    string? BusId,
    string? Driver,
    DriverProfile? Profile,
    int? Mtu,
    bool? GroOn,
    string? Bond,
    IReadOnlyList<string> BondMembers)
{
    /// <summary>
    /// Largest MTU whose receive buffer fits a page for any driver we know (bnx2x adds 158 bytes, the largest
    /// overhead in driver-profiles.json): at or below it RX never bounces, whatever the driver.
    /// </summary>
    public const int PageSizedMtu = SwiotlbGeometry.PageBytes - 512;

    /// <summary>
    /// Whether RX on this port keeps buffers bounced with GRO off: true/false when decidable, null when the driver
    /// is unknown and the MTU is too large to rule it out.
    /// </summary>
    public bool? BouncesWithGroOff => Mtu is { } mtu && mtu <= PageSizedMtu ? false
        : Profile is null || Mtu is null ? null
        : Profile.RxBuffersBounce(Mtu.Value, groOn: false);

    /// <summary>Whether RX bounces as configured now; null when the driver, MTU or GRO state is unknown.</summary>
    public bool? BouncesNow => BouncesWithGroOff switch
    {
        false => false,
        null => null,
        true => GroOn is null ? null : Profile!.RxBuffersBounce(Mtu!.Value, GroOn.Value),
    };
}
