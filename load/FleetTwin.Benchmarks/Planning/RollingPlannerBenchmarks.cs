using BenchmarkDotNet.Attributes;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Planning;
using FleetTwin.Domain.Prediction;

namespace FleetTwin.Benchmarks.Planning;

/// <summary>
/// The rolling plan of one 40-host pool, and of every pool of a 1,000-host fleet (25 pools of 40), built from the facts
/// the xe readers emit: each host a 6.2 SP1 + XS62ESP1004 host with the KB's bnx2x bond (eth4+eth5, MTU 9000, GRO off),
/// 256 GiB of memory and 12 running VMs of 4-16 GiB, one host in five at warning and one critical per pool.
/// Run: <c>dotnet run -c Release --project load/FleetTwin.Benchmarks -- --filter '*RollingPlanner*'</c>
/// </summary>
[MemoryDiagnoser]
public class RollingPlannerBenchmarks
{
    private const long GiB = 1024L * 1024 * 1024;
    private const int HostsPerPool = 40;
    private FleetInventory _inventory = null!;
    private Dictionary<string, PanicPrediction> _predictions = null!;
    private string[] _pools = [];

    [Params(40, 1000)]
    public int Hosts { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _inventory = new FleetInventory();
        _predictions = new Dictionary<string, PanicPrediction>(StringComparer.Ordinal);
        var pools = new List<string>();
        var vm = 0;
        for (var p = 0; p < Hosts / HostsPerPool; p++)
        {
            var pool = $"pool-{p:00}";
            pools.Add(pool);
            var master = $"{pool}-host-00";
            _inventory.Apply(new PoolFact { Host = master, Uuid = "uuid-" + pool, NameLabel = pool, Master = "uuid-" + master });
            for (var h = 0; h < HostsPerPool; h++)
            {
                var name = $"{pool}-host-{h:00}";
                var uuid = "uuid-" + name;
                var used = 0L;
                for (var v = 0; v < 12; v++)
                {
                    var memory = (4 + (vm * 7 % 13)) * GiB;
                    used += memory;
                    _inventory.Apply(new VmFact { Host = master, Uuid = $"vm-{++vm}", NameLabel = $"vm-{vm}", PowerState = "running", ResidentOn = uuid, MemoryActual = memory, IsControlDomain = false });
                }
                _inventory.Apply(new XenHostFact { Host = master, Uuid = uuid, NameLabel = name, Address = $"10.{p}.0.{h + 1}", ProductVersion = "6.2.0", MemoryTotal = 256 * GiB, MemoryFree = 256 * GiB - used - 4 * GiB });
                var bond = "bond-" + name;
                foreach (var (device, bus) in new[] { ("eth4", "0000:04:00.0"), ("eth5", "0000:04:00.1") })
                {
                    _inventory.Apply(new PifFact { Host = master, Uuid = $"pif-{name}-{device}", Device = device, Mtu = 9000, HostUuid = uuid, HostName = name, BondSlaveOf = bond, Physical = true });
                    _inventory.Apply(new NicDriver { Host = name, Device = device, Driver = "bnx2x", BusInfo = bus });
                    _inventory.Apply(new NicOffloads { Host = name, Device = device, GenericReceiveOffload = false });
                }
                _inventory.Apply(new PifFact { Host = master, Uuid = $"pif-{name}-bond0", Device = "bond0", Mtu = 9000, HostUuid = uuid, HostName = name, BondMasterOf = bond, Physical = false });
                _inventory.Apply(new BondFact { Host = master, Uuid = bond, Master = $"pif-{name}-bond0", Slaves = [$"pif-{name}-eth4", $"pif-{name}-eth5"] });
                var risk = h == 7 ? RiskLevel.Critical : h % 5 == 0 ? RiskLevel.Warning : RiskLevel.Latent;
                _predictions[name] = new PanicPrediction(name, risk, risk == RiskLevel.Critical ? 0.9 : risk == RiskLevel.Warning ? 0.3 : 0.02,
                    TimeSpan.FromHours(24), null, "benchmark", null, null, null);
            }
            foreach (var fix in new[] { "XS62ESP1", "XS62ESP1004" })
                _inventory.Apply(new HotfixFact { Host = master, Uuid = $"{fix}-{pool}", NameLabel = fix, Hosts = [.. Enumerable.Range(0, HostsPerPool).Select(h => $"uuid-{pool}-host-{h:00}")] });
        }
        _pools = [.. pools];
    }

    /// <summary>Every pool's plan (one pool at 40 hosts, 25 at 1,000).</summary>
    [Benchmark]
    public int PlanEveryPool()
    {
        var steps = 0;
        foreach (var pool in _pools)
            steps += RollingPlanner.Plan(_inventory, pool, _predictions, new RollingPlanOptions { MaxDown = 2 }).Steps.Count;
        return steps;
    }
}
