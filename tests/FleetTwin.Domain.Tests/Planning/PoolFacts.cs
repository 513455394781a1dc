using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;

namespace FleetTwin.Domain.Tests.Planning;

/// <summary>Builds a pool's xe/ethtool facts as the readers would emit them, for planner and predictor tests.</summary>
internal sealed class PoolFacts
{
    private const long GiB = 1024L * 1024 * 1024;
    private readonly List<TwinEvent> _events = [];
    private readonly string _master;
    private int _next;

    public PoolFacts(string pool = "pool-a", string master = "host-1")
    {
        _master = master;
        _events.Add(new PoolFact { Host = master, Uuid = "pool-uuid", NameLabel = pool, Master = Uuid(master) });
    }

    public static string Uuid(string name) => "uuid-" + name;

    /// <summary>A 6.2 host with a bnx2x bond eth4+eth5 at MTU 9000 (the KB configuration), GRO as given.</summary>
    public PoolFacts Host(string name, string release = "6.2.0", long freeGiB = 64, bool gro = false, string? groOverride = null,
        bool withDriver = true, string[]? hotfixes = null, bool bonded = true, bool? live = null, bool? enabled = null, string? firmware = null)
    {
        _events.Add(new XenHostFact { Host = _master, Uuid = Uuid(name), NameLabel = name, ProductVersion = release, MemoryTotal = 128 * GiB, MemoryFree = freeGiB * GiB, HostMetricsLive = live, Enabled = enabled });
        var bond = bonded ? "bond-" + name : null;
        foreach (var (device, bus) in new[] { ("eth4", "0000:04:00.0"), ("eth5", "0000:04:00.1") })
        {
            _events.Add(new PifFact { Host = _master, Uuid = Pif(name, device), Device = device, Mtu = 9000, HostUuid = Uuid(name), HostName = name, BondSlaveOf = bond, Physical = true, EthtoolGro = groOverride });
            if (withDriver)
                _events.Add(new NicDriver { Host = name, Device = device, Driver = "bnx2x", BusInfo = bus, FirmwareVersion = firmware });
            _events.Add(new NicOffloads { Host = name, Device = device, GenericReceiveOffload = gro });
        }
        if (bonded)
        {
            _events.Add(new PifFact { Host = _master, Uuid = Pif(name, "bond0"), Device = "bond0", Mtu = 9000, HostUuid = Uuid(name), HostName = name, BondMasterOf = bond, Physical = false });
            _events.Add(new BondFact { Host = _master, Uuid = bond!, Master = Pif(name, "bond0"), Slaves = [Pif(name, "eth4"), Pif(name, "eth5")] });
        }
        foreach (var fix in hotfixes ?? ["XS62ESP1", "XS62ESP1004"])
            _events.Add(new HotfixFact { Host = _master, Uuid = fix + "-" + name, NameLabel = fix, Hosts = [Uuid(name)] });
        return this;
    }

    /// <summary>lspci -k on the host: its two NIC functions (the bus ids ethtool -i gives eth4 and eth5), of <paramref name="model"/>.</summary>
    public PoolFacts Lspci(string name, string model)
    {
        foreach (var bus in new[] { "0000:04:00.0", "0000:04:00.1" })
            _events.Add(new PciNic { Host = name, BusId = bus, Class = "Ethernet controller", Model = model, Revision = "10", KernelDriver = "bnx2x" });
        return this;
    }

    /// <summary>The pool-list record again, with HA as xe shows it (ha-enabled, ha-statefiles, ha-host-failures-to-tolerate).</summary>
    public PoolFacts Ha(bool enabled, string[]? statefiles = null, int? failuresToTolerate = null)
    {
        _events.Add(new PoolFact { Host = _master, Uuid = "pool-uuid", Master = Uuid(_master), HaEnabled = enabled, HaStatefiles = statefiles ?? [], HaHostFailuresToTolerate = failuresToTolerate });
        return this;
    }

    public PoolFacts Vm(string host, string name, long memoryGiB, string? pci = null)
    {
        _events.Add(new VmFact { Host = _master, Uuid = "vm-" + (++_next), NameLabel = name, PowerState = "running", ResidentOn = Uuid(host), MemoryActual = memoryGiB * GiB, IsControlDomain = false, PciPassthrough = pci });
        return this;
    }

    public static string Pif(string host, string device) => $"pif-{host}-{device}";

    public IReadOnlyList<TwinEvent> Events => _events;

    public FleetInventory Inventory()
    {
        var inventory = new FleetInventory();
        foreach (var e in _events)
            inventory.Apply(e);
        return inventory;
    }
}
