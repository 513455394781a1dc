using System.Globalization;
using System.Text;
using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Drivers;

namespace FleetTwin.Domain.Simulation;

/// <summary>How a fleet backtest corpus is made (<c>fleettwin corpus</c>).</summary>
public sealed record CorpusOptions
{
    /// <summary>Same seed, same bytes.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// The engine of the simulated classes. Exact by default: every failure and panic of a simulated host is the
    /// allocator's own (issue 17: ground truth from the allocator itself). It runs ~30-50k host-seconds per wall second
    /// on two cores (docs/perf-simulation.md), so the simulated part at scale 1 (~690 host-days) takes 25-45 min; the fast
    /// engine takes seconds, but its hazard tables do not agree with the allocator at these traffic levels
    /// (docs/prediction.md, "The corpus on the exact allocator"), so its corpus is a quick approximation, not the measure.
    /// </summary>
    public SimulationEngineKind Engine { get; init; } = SimulationEngineKind.Exact;

    /// <summary>
    /// Only these hosts (null: all). Each host's log is the same as in the whole corpus (pools share no state and every
    /// host's random stream is seeded by its name), so a test can regenerate a few hosts of a corpus that takes minutes.
    /// A simulated pool of several hosts runs whole when one of them is named; only the named ones are returned.
    /// </summary>
    public IReadOnlySet<string>? Hosts { get; init; }

    /// <summary>Multiplies every class's host count (at least one host, or one pool, per group).</summary>
    public double Scale { get; init; } = 1;

    /// <summary>Simulated days per host.</summary>
    public double Days { get; init; } = 7;

    /// <summary>Fraction of the simulated classes done, 0..1.</summary>
    public Action<double>? Progress { get; init; }

    internal bool Includes(string host) => Hosts is null || Hosts.Contains(host);
}

/// <summary>
/// One host of the corpus: its class, its kern.log, its configuration as a shell transcript (<c>ethtool -i</c>,
/// <c>ethtool -k</c>, <c>ip link show</c>, <c>cat /proc/cmdline</c>: what <c>fleettwin backtest</c> reads the NIC's
/// driver, GRO, MTU and the pool size from), and the ground truth its log holds.
/// </summary>
public sealed record CorpusHost(string Class, string Host, string KernLog, string Transcript, int Panics, int Failures, double Days);

/// <summary>A class of the corpus and what it is there to test; <paramref name="AlwaysExact"/>: simulated on the exact allocator whatever the corpus's engine.</summary>
public sealed record CorpusClass(string Name, bool Simulated, string What, bool AlwaysExact = false);

/// <summary>
/// The fleet backtest corpus of issue 17: hosts whose logs the predictor is scored on, deterministic from a seed.
/// Simulated classes run the fleet simulation (<see cref="FleetSimulation"/>, the engine chosen) across configurations,
/// so their panics come from the allocator model (exact) or its calibrated hazard tables (fast); hand-written classes
/// draw the failure patterns the simulation does not make (sporadic NIC failures, storage controllers, modern kernels,
/// KB-like runs) from their own random streams. Every host's random stream is seeded by the seed and its name
/// (<see cref="HostSeed"/>).
/// </summary>
public static class BacktestCorpus
{
    /// <summary>Where every log starts (the KB incident's month; syslog prints no year, the backtest reads uptimes).</summary>
    public static readonly DateTimeOffset Start = new(2014, 9, 20, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A 4.19 dom0 kernel (XenServer 8 / Citrix Hypervisor 8.x), whose swiotlb logs "buffer is full" and drops the mapping.</summary>
    public const string ModernBanner = "Linux version 4.19.0+1 (mockbuild@builder) (gcc version 8.3.1 20190311 (Red Hat 8.3.1-3)) #1 SMP Thu Jun 11 08:33:08 CEST 2020";

    public static IReadOnlyList<CorpusClass> Classes { get; } =
    [
        new("sim-incident-config", true, "bnx2x bond MTU 9000 GRO off, 64 MiB, 24 VMs; storage traffic at the allocator's edge: 24k/26k/28k TX/s per VM at the afternoon peak (quiet / fails and recovers / panics)"),
        new("sim-swiotlb-128", true, "as the incident but swiotlb=128, at the incident's top level and above (28k/34k)"),
        new("sim-gro-on", true, "bnx2x MTU 9000 GRO on at 28k: RX never bounces"),
        new("sim-mtu-1500", true, "bnx2x MTU 1500 GRO off at 28k: RX buffers fit a page"),
        new("sim-other-drivers", true, "tg3 MTU 9000 (jumbo ring bounces, 3k TX/s per VM) and ixgbe MTU 9000 (page buffers, 28k), GRO off"),
        new("sim-vm-storms", true, "pools of 4 incident-like hosts at 8k: VM-start bursts on days 1 and 3, one host fails on day 4 and HA restarts its VMs on the others"),
        new("exact-ramp", true, "the KB physics, always on the exact allocator: bnx2x bond MTU 9000 GRO off, 64 MiB, 16 VMs and one more every half hour up to 34, then steady, three days in all; its failures and panics are the allocator's own", AlwaysExact: true),
        new("exact-ramp-gro-on", true, "the same ramp on the exact allocator with GRO on: RX never bounces", AlwaysExact: true),
        new("sporadic-nic", false, "bnx2x configured like the incident; one failure every 12-60 h, no panic"),
        new("storage-sg", false, "a storage controller (0000:00:1f.2) fails in bursts, mostly over 32 KiB, and survives; NICs bnx2x GRO on; no panic"),
        new("modern-kernel", false, "4.19 dom0 kernel: 'swiotlb buffer is full' in bursts of up to 20 an hour; no panic"),
        new("kb-like", false, "bnx2x configured like the incident; quiet, then a run of 5-15 failures an hour for 1.5-4 h ending in a panic over 32 KiB; some hosts have a second run after the reboot"),
    ];

    public static IReadOnlyList<CorpusHost> Generate(CorpusOptions? options = null)
    {
        options ??= new CorpusOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Scale);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Days);
        var hosts = new List<CorpusHost>();
        hosts.AddRange(Simulated(options));
        hosts.AddRange(ExactRamp(options));
        var seconds = options.Days * 86400;
        foreach (var (cls, count, prefix, write) in new (string, int, string, Func<Random, string, double, HandHost>)[]
        {
            ("sporadic-nic", 16, "spor", Sporadic),
            ("storage-sg", 16, "stor", Storage),
            ("modern-kernel", 16, "mod", Modern),
            ("kb-like", 16, "kbl", KbLike),
        })
        {
            for (var i = 1; i <= Count(count, options.Scale); i++)
            {
                var name = Invariant($"{prefix}-h{i:00}");
                if (!options.Includes(name))
                    continue;
                var host = write(new Random(HostSeed.For(options.Seed, name)), name, seconds);
                hosts.Add(new CorpusHost(cls, name, host.Log, host.Transcript, host.Panics, host.Failures, options.Days));
            }
        }
        return hosts;
    }

    private static int Count(int atScaleOne, double scale) => Math.Max(1, (int)Math.Round(atScaleOne * scale, MidpointRounding.AwayFromZero));

    // ---- simulated classes ----

    private sealed record Nic(string Device, string BusId, string Driver, int Mtu, bool Gro);

    private static Nic[] Ports(string driver, int mtu, bool gro) =>
    [
        new("eth0", "0000:02:00.0", "igb", 1500, true),
        new("eth4", "0000:04:00.0", driver, mtu, gro),
        new("eth5", "0000:04:00.1", driver, mtu, gro),
    ];

    /// <summary>A simulated group: hosts of one configuration and traffic, one host per pool unless <paramref name="poolSize"/> says otherwise.</summary>
    private sealed record Group(string Class, string Prefix, int Hosts, Nic[] Nics, int SwiotlbMiB, double StorageTx, int Vms, int PoolSize = 1, bool Storms = false);

    private static IEnumerable<CorpusHost> Simulated(CorpusOptions options)
    {
        var scale = options.Scale;
        // Storage TX/s per VM at the afternoon peak, chosen on the exact allocator (24 VMs, 64 MiB, bnx2x bond MTU 9000
        // GRO off, two days, seed 1: 26k 8 failures and no panic, 28k 20 failures and 3 panics, 30k 252 and 5; over the
        // seed-1 corpus's week 24k gave 87 failures and no panic in ten hosts): the three incident levels straddle the edge, so the class holds hosts that never fail, hosts that
        // fail and recover, and hosts that panic. The controls run at the top level, where a 64 MiB GRO-off bond panics.
        Group[] groups =
        [
            new("sim-incident-config", "inc-lo", Count(10, scale), Ports("bnx2x", 9000, false), 64, 24000, 24),
            new("sim-incident-config", "inc-md", Count(10, scale), Ports("bnx2x", 9000, false), 64, 26000, 24),
            new("sim-incident-config", "inc-hi", Count(10, scale), Ports("bnx2x", 9000, false), 64, 28000, 24),
            new("sim-swiotlb-128", "s128-hi", Count(7, scale), Ports("bnx2x", 9000, false), 128, 28000, 24),
            new("sim-swiotlb-128", "s128-vh", Count(7, scale), Ports("bnx2x", 9000, false), 128, 34000, 24),
            new("sim-gro-on", "gro", Count(12, scale), Ports("bnx2x", 9000, true), 64, 28000, 24),
            new("sim-mtu-1500", "m1500", Count(12, scale), Ports("bnx2x", 1500, false), 64, 28000, 24),
            new("sim-other-drivers", "tg3", Count(7, scale), Ports("tg3", 9000, false), 64, 3000, 28),
            new("sim-other-drivers", "ixgbe", Count(7, scale), Ports("ixgbe", 9000, false), 64, 28000, 24),
            // Low traffic: the VM starts are what is tested. A host failure's HA restart (8 VMs onto 3 hosts at once)
            // cascades on the allocator from 14k up (every panic restarts its VMs on the survivors: ~110 panics a host in a day).
            new("sim-vm-storms", "storm", 4 * Count(4, scale), Ports("bnx2x", 9000, false), 64, 8000, 24, PoolSize: 4, Storms: true),
        ];
        var seconds = options.Days * 86400;
        var pools = new List<PoolSpec>();
        var failures = new List<HostFailureSpec>();
        var classOf = new Dictionary<string, (string Class, Group Group)>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            for (var first = 1; first <= group.Hosts; first += group.PoolSize)
            {
                var names = Enumerable.Range(first, Math.Min(group.PoolSize, group.Hosts - first + 1)).Select(i => Invariant($"{group.Prefix}-h{i:00}")).ToList();
                if (!names.Any(options.Includes))
                    continue;
                var pool = Pool(group, names, seconds);
                pools.Add(pool);
                foreach (var n in names)
                    classOf[n] = (group.Class, group);
                if (group.Storms && names.Count > 1)
                    failures.Add(new HostFailureSpec(names[0], Math.Min(4 * 86400, seconds * 4 / 7), "corpus"));
            }
        }
        if (pools.Count == 0)
            yield break;
        var scenario = new Scenario("backtest-corpus", options.Seed, seconds, options.Engine, 60, pools, failures, [], "corpus");
        var result = FleetSimulation.Run(scenario, new SimulationOptions { Seed = options.Seed, Engine = options.Engine, Progress = options.Progress, MaxRecordsPerHost = 50_000 });
        foreach (var outcome in result.Hosts.Where(h => options.Includes(h.Name)))
        {
            var (cls, group) = classOf[outcome.Name];
            var log = KernLogWriter.ToText(outcome, Start);
            var loggedPanics = outcome.Records.Count(r => r.Kind == SimulatedRecordKind.Panic);
            var loggedFailures = outcome.Records.Count(r => r.Kind == SimulatedRecordKind.OutOfSpace);
            var lastTime = outcome.RecordsTruncated && outcome.Records.Count > 0 ? outcome.Records.Max(r => r.Time) : seconds;
            yield return new CorpusHost(cls, outcome.Name, log, Transcript(outcome.Name, group.Nics, group.SwiotlbMiB), loggedPanics, loggedFailures, lastTime / 86400);
        }
    }

    /// <summary>
    /// One-host pools on the exact allocator whatever <see cref="CorpusOptions.Engine"/> says, with the KB physics
    /// tests' workload (16 VMs at 20k storage TX/s each, 4x bursts of 4 s a minute, one more VM every half hour) up to
    /// 34 VMs, then steady: the allocator itself decides every failure and panic. Why 34: at 30-32 steady VMs the
    /// allocator logs almost nothing in a day, with the ramp going on all day it panics every few minutes after its
    /// first panic (each reboot meets more traffic), at 34 it sits at the edge (seed 1: 102 failures, 2 panics in 5
    /// hosts in their first day). Three days (or the corpus's days when fewer), not the corpus's week: the exact engine runs ~27k host-seconds per wall
    /// second, so these few host-days cost ~45 s at scale 1; and not one day, which left every critical burst of the
    /// ramp undecided (the log ended before its 24 h horizon did: docs/prediction.md, "Judged and undecided alarms").
    /// </summary>
    private static IEnumerable<CorpusHost> ExactRamp(CorpusOptions options)
    {
        const int RampSteps = 18; // 16 + 18 = 34 VMs
        var days = Math.Min(3, options.Days) * 86400; // a corpus of fewer days (the tests' one-day corpora) runs its ramp that long
        var profiles = DriverProfiles.Embedded;
        var ramp = Enumerable.Range(1, RampSteps).Select(i => new VmStartBurst(i * 1800, 1)).ToList();
        var pools = new List<PoolSpec>();
        var classOf = new Dictionary<string, (string Class, Nic[] Nics)>(StringComparer.Ordinal);
        foreach (var (cls, prefix, count, gro) in new[] { ("exact-ramp", "xr", 5, false), ("exact-ramp-gro-on", "xrg", 3, true) })
        {
            var ports = Ports("bnx2x", 9000, gro);
            for (var i = 1; i <= Count(count, options.Scale); i++)
            {
                var name = Invariant($"{prefix}-h{i:00}");
                if (!options.Includes(name))
                    continue;
                classOf[name] = (cls, ports);
                pools.Add(new PoolSpec(name + "-pool", [name], "6.2 SP1", 64, 16, 10,
                    [.. ports.Select(n => new NicSpec(n.Device, n.BusId, profiles.Find(n.Driver)!, n.Mtu, n.Gro, null, null))],
                    [new BondSpec("mgmt", ["eth0"], ["guests"]), new BondSpec("bond0", ["eth4", "eth5"], ["storage"])],
                    [
                        new NetworkSpec("storage", TrafficKind.Storage, 20000, DiurnalSpec.Flat, new BurstSpec(60, 4, 4), null),
                        new NetworkSpec("guests", TrafficKind.Vm, 500, DiurnalSpec.Flat, BurstSpec.None, null),
                    ],
                    new VmStartSpec(0, ramp, false, 10, 5, 1)));
            }
        }
        if (pools.Count == 0)
            yield break;
        var scenario = new Scenario("backtest-corpus-exact-ramp", options.Seed, days, SimulationEngineKind.Exact, 60, pools, [], [], "corpus");
        var result = FleetSimulation.Run(scenario, new SimulationOptions { Seed = options.Seed, Engine = SimulationEngineKind.Exact, MaxRecordsPerHost = 50_000 });
        foreach (var outcome in result.Hosts)
        {
            var (cls, nics) = classOf[outcome.Name];
            var lastTime = outcome.RecordsTruncated && outcome.Records.Count > 0 ? outcome.Records.Max(r => r.Time) : days;
            yield return new CorpusHost(cls, outcome.Name, KernLogWriter.ToText(outcome, Start), Transcript(outcome.Name, nics, 64),
                outcome.Records.Count(r => r.Kind == SimulatedRecordKind.Panic), outcome.Records.Count(r => r.Kind == SimulatedRecordKind.OutOfSpace),
                lastTime / 86400);
        }
    }

    private static PoolSpec Pool(Group group, IReadOnlyList<string> names, double seconds)
    {
        var profiles = DriverProfiles.Embedded;
        var nics = group.Nics.Select(n => new NicSpec(n.Device, n.BusId, profiles.Find(n.Driver)!, n.Mtu, n.Gro, null, null)).ToList();
        var bursts = group.Storms
            ? new List<VmStartBurst> { new(Math.Min(86400, seconds / 7), 3), new(Math.Min(3 * 86400, seconds * 3 / 7), 3) }
            : [];
        return new PoolSpec(names[0] + "-pool", names, "6.2 SP1", group.SwiotlbMiB, group.Vms, 10, nics,
            [new BondSpec("mgmt", ["eth0"], ["guests"]), new BondSpec("bond0", ["eth4", "eth5"], ["storage"])],
            [
                new NetworkSpec("storage", TrafficKind.Storage, group.StorageTx, new DiurnalSpec(14, 0.6), new BurstSpec(60, 4, 4), null),
                new NetworkSpec("guests", TrafficKind.Vm, 500, DiurnalSpec.Flat, BurstSpec.None, null),
            ],
            new VmStartSpec(0.5, bursts, true, 10, 5, 1.2));
    }

    // ---- hand-written classes ----

    private sealed record HandHost(string Log, string Transcript, int Panics, int Failures);

    /// <summary>A hand-written host's log: boots, VM starts (a Poisson stream, 0.5 an hour) and the class's records, in time order.</summary>
    private sealed class HandLog(string host, Random random, double seconds, string banner = KernLogWriter.Banner)
    {
        private readonly List<(double Time, int Order, string Message)> _lines = [];
        private readonly List<double> _boots = [0];
        private int _order;
        public int Panics { get; private set; }
        public int Failures { get; private set; }

        public void Failure(double time, string message)
        {
            Failures++;
            Add(time, message);
        }

        /// <summary>swiotlb_full() prints the failed mapping, then panics; the host is back up <paramref name="rebootMinutes"/> later.</summary>
        public void Panic(double time, int bytes, string busId, double rebootMinutes = 10)
        {
            Panics++;
            Add(time, SwiotlbKernelText.OutOfSpace(SwiotlbKernelFlavour.XenServerClassicXen, bytes, busId));
            Add(time + 0.000010, SwiotlbKernelText.KernelPanicLine(DmaDirection.ToDevice));
            _boots.Add(time + rebootMinutes * 60);
        }

        public string Text()
        {
            var domid = 10;
            for (var t = Exponential(random, 2 * 3600); t < seconds; t += Exponential(random, 2 * 3600))
                _lines.Add((t, _order++, $"device vif{domid++}.0 entered promiscuous mode"));
            foreach (var boot in _boots)
                _lines.Add((boot, -1, banner));
            var text = new StringWriter(CultureInfo.InvariantCulture);
            double bootAt = 0;
            var nextBoot = 1;
            var panicked = false;
            foreach (var (time, _, message) in _lines.OrderBy(l => l.Time).ThenBy(l => l.Order))
            {
                if (nextBoot < _boots.Count && time >= _boots[nextBoot])
                {
                    bootAt = _boots[nextBoot++];
                    panicked = false;
                }
                else if (panicked)
                {
                    continue; // the host is down between the panic and its reboot
                }
                KernLogWriter.Line(text, host, Start, time, time - bootAt, message);
                if (message.StartsWith("Kernel panic", StringComparison.Ordinal))
                    panicked = true;
            }
            return text.ToString();
        }

        private void Add(double time, string message)
        {
            if (time < seconds)
                _lines.Add((time, _order++, message));
        }
    }

    private static double Exponential(Random random, double mean) => -mean * Math.Log(1 - random.NextDouble());

    private static double Uniform(Random random, double low, double high) => low + (high - low) * random.NextDouble();

    private static string Bus(Random random) => random.Next(2) == 0 ? "0000:04:00.0" : "0000:04:00.1";

    /// <summary>A survivable TX mapping of the bnx2x mix: a jumbo frame or a GSO skb under the 32 KiB overflow buffer.</summary>
    private static int SurvivableNicBytes(Random random) => random.NextDouble() < 0.3 ? 9014 : random.Next(14000, 32769);

    private static HandHost Sporadic(Random random, string host, double seconds)
    {
        var log = new HandLog(host, random, seconds);
        for (var t = Uniform(random, 0, 30) * 3600; t < seconds; t += Uniform(random, 12, 60) * 3600)
            log.Failure(t, SwiotlbKernelText.OutOfSpace(SwiotlbKernelFlavour.XenServerClassicXen, SurvivableNicBytes(random), Bus(random)));
        return Done(log, Transcript(host, Ports("bnx2x", 9000, false), 64));
    }

    /// <summary>Bursts (1.5 a day) of 3-15 failures within 10-60 min, 70 % of them 36-128 KiB scatter-gather requests.</summary>
    private static HandHost Storage(Random random, string host, double seconds)
    {
        var log = new HandLog(host, random, seconds);
        for (var t = Exponential(random, 16 * 3600); t < seconds; t += Exponential(random, 16 * 3600))
        {
            var n = random.Next(3, 16);
            var length = Uniform(random, 600, 3600);
            foreach (var at in Enumerable.Range(0, n).Select(_ => t + random.NextDouble() * length).Order())
            {
                var bytes = random.NextDouble() < 0.7 ? random.Next(9, 33) * 4096 : random.Next(2, 8) * 2112;
                log.Failure(at, SwiotlbKernelText.OutOfSpace(SwiotlbKernelFlavour.XenServerClassicXen, bytes, "0000:00:1f.2"));
            }
        }
        return Done(log, Transcript(host, Ports("bnx2x", 9000, true), 64));
    }

    /// <summary>Bursts (one a day) of 2-20 failures within an hour, 4-64 KiB, in the 4.x kernel's words.</summary>
    private static HandHost Modern(Random random, string host, double seconds)
    {
        var log = new HandLog(host, random, seconds, ModernBanner);
        for (var t = Exponential(random, 24 * 3600); t < seconds; t += Exponential(random, 24 * 3600))
        {
            var n = random.Next(2, 21);
            foreach (var at in Enumerable.Range(0, n).Select(_ => t + random.NextDouble() * 3600).Order())
            {
                var bytes = random.Next(1, 17) * 4096;
                log.Failure(at, Invariant($"swiotlb buffer is full (sz: {bytes} bytes), total 32768 (slots), used {32768 - random.Next(1, 80)} (slots)"));
            }
        }
        return Done(log, Transcript(host, Ports("bnx2x", 9000, false), 64));
    }

    /// <summary>
    /// Quiet for 12-96 h, then a run at 5-15 failures an hour (a Poisson stream) for 1.5-4 h, ending in a panic on a
    /// 32,769-34,816-byte mapping (the KB's was 33,302); after the reboot, a second run on half the hosts when a day and a
    /// half is left.
    /// </summary>
    private static HandHost KbLike(Random random, string host, double seconds)
    {
        var log = new HandLog(host, random, seconds);
        var start = Uniform(random, 12, 96) * 3600;
        for (var run = 0; run < 2 && start < seconds; run++)
        {
            var rate = Uniform(random, 5, 15);
            var end = start + Uniform(random, 1.5, 4) * 3600;
            if (end >= seconds)
                break;
            var bus = Bus(random);
            for (var t = start + Exponential(random, 3600 / rate); t < end; t += Exponential(random, 3600 / rate))
                log.Failure(t, SwiotlbKernelText.OutOfSpace(SwiotlbKernelFlavour.XenServerClassicXen, SurvivableNicBytes(random), random.NextDouble() < 0.8 ? bus : Bus(random)));
            log.Panic(end, random.Next(32769, 34817), bus);
            if (seconds - end < 36 * 3600 || random.Next(2) == 0)
                break;
            start = end + Uniform(random, 12, 24) * 3600;
        }
        return Done(log, Transcript(host, Ports("bnx2x", 9000, false), 64));
    }

    private static HandHost Done(HandLog log, string transcript)
    {
        var text = log.Text();
        return new HandHost(text, transcript, log.Panics, log.Failures);
    }

    // ---- configuration transcripts ----

    private static string Transcript(string host, IReadOnlyList<Nic> nics, int swiotlbMiB)
    {
        var text = new StringBuilder();
        var prompt = $"[root@{host} ~]# ";
        var index = 2;
        foreach (var nic in nics)
        {
            text.Append(prompt).Append("ethtool -i ").Append(nic.Device).Append('\n')
                .Append("driver: ").Append(nic.Driver).Append('\n')
                .Append("version: ").Append(nic.Driver switch { "bnx2x" => "1.78.17-0", "tg3" => "3.137", "ixgbe" => "3.19.1-k", _ => "5.2.5" }).Append('\n')
                .Append("firmware-version: ").Append(nic.Driver == "bnx2x" ? "bc 7.8.22 phy baa0:0105" : "1.0").Append('\n')
                .Append("bus-info: ").Append(nic.BusId).Append('\n')
                .Append("supports-statistics: yes\nsupports-test: yes\nsupports-eeprom-access: yes\nsupports-register-dump: yes\nsupports-priv-flags: no\n");
            text.Append(prompt).Append("ethtool -k ").Append(nic.Device).Append('\n')
                .Append("Offload parameters for ").Append(nic.Device).Append(":\n")
                .Append("rx-checksumming: on\ntx-checksumming: on\nscatter-gather: on\ntcp-segmentation-offload: on\nudp-fragmentation-offload: off\ngeneric-segmentation-offload: on\n")
                .Append("generic-receive-offload: ").Append(nic.Gro ? "on" : "off").Append('\n')
                .Append("large-receive-offload: off\nrx-vlan-offload: on\ntx-vlan-offload: on\nntuple-filters: off\nreceive-hashing: on\n");
            text.Append(prompt).Append("ip link show ").Append(nic.Device).Append('\n')
                .Append(Invariant($"{index++}: {nic.Device}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu {nic.Mtu} qdisc mq state UP qlen 1000\n"))
                .Append(Invariant($"    link/ether 00:10:18:{index:x2}:{nic.BusId[^4..^2]}:{nic.BusId[^1]}0 brd ff:ff:ff:ff:ff:ff\n"));
        }
        // XenServer's dom0 command line has no swiotlb= at the 64 MiB default.
        text.Append(prompt).Append("cat /proc/cmdline\n")
            .Append("root=LABEL=root-xvbwqmpn ro xencons=hvc console=hvc0 console=tty0 ")
            .Append(swiotlbMiB == 64 ? "" : Invariant($"swiotlb={swiotlbMiB} "))
            .Append("quiet vga=785 splash\n");
        return text.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
