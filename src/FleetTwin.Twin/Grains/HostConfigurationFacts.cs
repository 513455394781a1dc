using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Drivers;
using FleetTwin.Domain.Prediction;

namespace FleetTwin.Twin.Grains;

/// <summary>
/// A host's <see cref="HostConfiguration"/> as it crosses from the inventory grain to the host grain and is persisted
/// there: plain facts (driver names, not profiles), rebuilt into the domain's configuration with the embedded driver
/// profiles. With it the host grain assesses its risk with the same inputs as the planner and the backtest.
/// </summary>
[GenerateSerializer, Alias("fleettwin.host-configuration-facts.v1")]
public sealed class HostConfigurationFacts
{
    [Id(0)] public string Host { get; set; } = "";
    [Id(1)] public string? Release { get; set; }
    [Id(2)] public string? Kernel { get; set; }
    [Id(3)] public int PoolSlabs { get; set; }
    [Id(4)] public bool PoolSizeKnown { get; set; }
    [Id(5)] public NicConfigurationFacts[] Nics { get; set; } = [];

    public static HostConfigurationFacts From(HostConfiguration config) => new()
    {
        Host = config.Host,
        Release = config.Release,
        Kernel = config.Kernel,
        PoolSlabs = config.Pool.Slabs,
        PoolSizeKnown = config.PoolSizeKnown,
        Nics = [.. config.Nics.Select(n => new NicConfigurationFacts
        {
            Device = n.Device, BusId = n.BusId, Driver = n.Driver, Mtu = n.Mtu, GroOn = n.GroOn, Bond = n.Bond, BondMembers = [.. n.BondMembers],
        })],
    };

    public HostConfiguration ToDomain() => new(Host, Release, Kernel, SwiotlbPoolSize.FromSlabs(PoolSlabs), PoolSizeKnown,
        [.. Nics.Select(n => new NicConfiguration(n.Device, n.BusId, n.Driver, n.Driver is null ? null : DriverProfiles.Embedded.Find(n.Driver),
            n.Mtu, n.GroOn, n.Bond, n.BondMembers))]);

    /// <summary>Same facts (the inventory grain tells a host only when they change).</summary>
    public bool SameAs(HostConfigurationFacts? other) =>
        other is not null && Host == other.Host && Release == other.Release && Kernel == other.Kernel && PoolSlabs == other.PoolSlabs
        && PoolSizeKnown == other.PoolSizeKnown && Nics.Length == other.Nics.Length
        && Nics.Zip(other.Nics).All(p => p.First.SameAs(p.Second));
}

/// <summary>One NIC of a <see cref="HostConfigurationFacts"/>.</summary>
[GenerateSerializer, Alias("fleettwin.nic-configuration-facts.v1")]
public sealed class NicConfigurationFacts
{
    [Id(0)] public string Device { get; set; } = "";
    [Id(1)] public string? BusId { get; set; }
    [Id(2)] public string? Driver { get; set; }
    [Id(3)] public int? Mtu { get; set; }
    [Id(4)] public bool? GroOn { get; set; }
    [Id(5)] public string? Bond { get; set; }
    [Id(6)] public string[] BondMembers { get; set; } = [];

    public bool SameAs(NicConfigurationFacts other) =>
        Device == other.Device && BusId == other.BusId && Driver == other.Driver && Mtu == other.Mtu && GroOn == other.GroOn
        && Bond == other.Bond && BondMembers.SequenceEqual(other.BondMembers);
}
