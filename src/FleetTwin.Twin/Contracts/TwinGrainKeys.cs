namespace FleetTwin.Twin.Contracts;

/// <summary>
/// The keys of the twin's grains, in one table: every caller (grains, the API, the doors, the CLI, tests) names a grain
/// through these, so two spellings of one key cannot address two different grains.
/// </summary>
public static class TwinGrainKeys
{
    /// <summary>
    /// The fleet-wide singletons share one key: the host directory (<see cref="IFleetGrain"/>), the host index
    /// (<see cref="IHostIndexGrain"/>), the alert log (<see cref="IAlertLogGrain"/>) and the inventory
    /// (<see cref="IInventoryGrain"/>). The fleet's alert stream is keyed by it too.
    /// </summary>
    public const string Fleet = "fleet";

    // A host's own grains (IHostGrain, ISwiotlbRegionGrain) are keyed by the host name as its logs spell it.

    /// <summary>A NIC (PIF device) of a host: <c>host/eth4</c>, as operators write a host's device.</summary>
    public static string Nic(string host, string device) => $"{host}/{device}";

    /// <summary>A bond of a host: <c>host/bond-uuid</c> (a bond's device name, bond0, is not unique across a pool's history).</summary>
    public static string Bond(string host, string bondUuid) => $"{host}/{bondUuid}";

    /// <summary>A pool: its name-label, as xe and XenCenter show it, or its uuid when xe gave none (HostState.Pool names it alike).</summary>
    public static string Pool(string? nameLabel, string uuid) => nameLabel ?? uuid;
}
