using BenchmarkDotNet.Attributes;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Prediction;

namespace FleetTwin.Benchmarks.Prediction;

/// <summary>
/// One host's re-assessment, as the host grain runs it after every batch: the KB configuration (bnx2x bond, MTU 9000,
/// GRO off) with a KB-like stream of failures every 20 s, 17 of them (the KB incident) or the 256 a host state keeps.
/// "Now" is the latest failure, or two hours of quiet later (the critical hold looks back at the failures before).
/// Run: <c>dotnet run -c Release --project load/FleetTwin.Benchmarks -- --filter '*HostAssessment*'</c>
/// </summary>
[MemoryDiagnoser]
public class HostAssessmentBenchmarks
{
    private HostState _host = null!;
    private HostConfiguration _config = null!;
    private double _last;

    [Params(17, 256)]
    public int Records { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        const string name = "bn2-3c16-ix-4104";
        var inventory = new FleetInventory();
        inventory.Apply(new XenHostFact { Host = name, Uuid = "uuid-host", NameLabel = name, ProductVersion = "6.2.0" });
        foreach (var (device, bus) in new[] { ("eth4", "0000:04:00.0"), ("eth5", "0000:04:00.1") })
        {
            inventory.Apply(new PifFact { Host = name, Uuid = "pif-" + device, Device = device, Mtu = 9000, HostUuid = "uuid-host", HostName = name, BondSlaveOf = "bond", Physical = true });
            inventory.Apply(new NicDriver { Host = name, Device = device, Driver = "bnx2x", BusInfo = bus });
            inventory.Apply(new NicOffloads { Host = name, Device = device, GenericReceiveOffload = false });
        }
        _config = HostConfiguration.From(inventory, inventory.Hosts[name]);
        _host = new HostState { Name = name };
        _host.Apply(new KernelBoot { Host = name, Uptime = 0, KernelVersion = "2.6.32.43-0.4.1.xs1.8.0.853.170791xen", XenServerRelease = "6.2" });
        for (var i = 0; i < Records; i++)
        {
            _last = 10_000 + i * 20.0;
            _host.Apply(new SwiotlbExhausted { Host = name, Uptime = _last, Bytes = 14_000 + i * 997 % 17_000, Device = $"0000:04:00.{i & 1}" });
        }
    }

    [Benchmark]
    public RiskLevel AfterABatch() => PanicPredictor.Assess(_host, _config, _last).Level;

    [Benchmark]
    public RiskLevel TwoQuietHoursLater() => PanicPredictor.Assess(_host, _config, _last + 7200).Level;
}
