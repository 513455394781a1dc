using FleetTwin.Domain.Drivers;

namespace FleetTwin.Domain.Demand;

/// <summary>
/// One physical NIC port (a PIF's device) as the bounce pool sees it: its PCI bus id, driver profile, MTU, GRO
/// setting and RX ring size.
/// </summary>
public sealed record NicPort(string Device, string BusId, DriverProfile Driver, int Mtu, bool GroOn, int? RxBuffersOverride = null)
{
    /// <summary>RX buffers the port keeps posted (<c>ethtool -g</c> "RX" current value, else the driver default).</summary>
    public int RxBuffers => RxBuffersOverride ?? Driver.RxBuffersPerPortDefault;

    /// <summary>Bytes of one RX buffer mapping.</summary>
    public int RxBufferBytes => Driver.RxBufferBytes(Mtu);

    /// <summary>True when the port's RX buffers go through the SWIOTLB (linear, larger than a page).</summary>
    public bool RxBounces => Driver.RxBuffersBounce(Mtu, GroOn);
}
