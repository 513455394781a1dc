using System.Diagnostics;
using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Demand;

namespace FleetTwin.Domain.Simulation;

/// <summary>How a run is made.</summary>
public sealed record SimulationOptions
{
    /// <summary>False runs the baseline: the scenario without its interventions.</summary>
    public bool ApplyInterventions { get; init; } = true;

    /// <summary>Overrides the scenario's engine (tests run both on one scenario).</summary>
    public SimulationEngineKind? Engine { get; init; }

    /// <summary>Overrides the scenario's seed (<c>--seed</c>).</summary>
    public int? Seed { get; init; }

    /// <summary>Fraction done, 0..1, reported as pools progress (from several threads).</summary>
    public Action<double>? Progress { get; init; }

    /// <summary>Threads; pools are independent and run in parallel (results do not depend on it).</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Keep every kernel record (for kern.log files); counts are kept either way.</summary>
    public bool KeepRecords { get; init; } = true;

    /// <summary>
    /// Records kept per host at most (a host in a cascading pool logs hundreds of thousands): memory stays bounded;
    /// counts, panics and occupancy stay exact; a truncated host's kern.log ends early (<see cref="HostOutcome.RecordsTruncated"/>).
    /// </summary>
    public int MaxRecordsPerHost { get; init; } = 5_000;

    public int OccupancySampleSeconds { get; init; } = 600;

    /// <summary>Calibrations to reuse across runs of the same scenario (baseline and with interventions).</summary>
    public HazardCache? Calibrations { get; init; }

    /// <summary>
    /// Stops the run between simulation steps (a what-if whose caller went away, e.g. a gRPC deadline): the run then
    /// throws <see cref="OperationCanceledException"/> instead of returning partial results.
    /// </summary>
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>
/// Runs a scenario: every pool on its own (in parallel), its hosts in simulated-time steps. Simulated time runs as
/// fast as the machine allows; nothing waits on a wall clock. Each host draws from its own random stream seeded by
/// the scenario seed and its name (<see cref="HostSeed"/>), and pools never share state, so the results are the same
/// for any number of threads or silos.
/// </summary>
/// <remarks>
/// Coupling inside a pool is real and kept: when a host panics or fails, XenServer HA restarts its VMs on the other
/// hosts of the pool (a VM-start storm: each restart boots a disk, boosting storage traffic), and they stay there
/// (XenServer does not move VMs back by itself), so the survivors carry more traffic.
/// </remarks>
public static class FleetSimulation
{
    public static SimulationResult Run(Scenario scenario, SimulationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        options ??= new SimulationOptions();
        if (options.Seed is { } seed)
            scenario = scenario with { Seed = seed };
        var run = options.ApplyInterventions ? scenario : scenario.WithoutInterventions();
        var engine = options.Engine ?? scenario.Engine;
        var cache = options.Calibrations ?? new HazardCache(scenario.Seed);
        var stopwatch = Stopwatch.StartNew();
        var outcomes = new HostOutcome[scenario.Pools.Count][];
        var totalHosts = scenario.HostCount;
        var doneHostSteps = 0L;
        var steps = (long)Math.Ceiling(scenario.DurationSeconds / scenario.StepSeconds);
        var totalHostSteps = Math.Max(1, steps * totalHosts);
        Parallel.For(0, scenario.Pools.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.MaxDegreeOfParallelism) }, p =>
        {
            var pool = new PoolRun(run, run.Pools[p], engine, cache, options);
            outcomes[p] = pool.Run(totalHostSteps, hostSteps =>
            {
                var done = Interlocked.Add(ref doneHostSteps, hostSteps);
                options.Progress?.Invoke((double)done / totalHostSteps);
            });
        });
        options.CancellationToken.ThrowIfCancellationRequested();
        stopwatch.Stop();
        return new SimulationResult(run, options.ApplyInterventions, [.. outcomes.SelectMany(o => o)], options.OccupancySampleSeconds,
            stopwatch.Elapsed, cache.Count, totalHosts * scenario.DurationSeconds);
    }

    /// <summary>The hosts' configuration as a pool spec describes it, with the traffic share of each port.</summary>
    public static HostModel ModelOf(PoolSpec pool, int? mtuOverride = null)
    {
        var ports = new List<SimulatedPort>();
        foreach (var bond in pool.Bonds)
        {
            foreach (var member in bond.Members)
            {
                var nic = pool.Nics.First(n => n.Device == member);
                // A bond's members share its networks' traffic; a port's TX size mix is its (first) network's when given.
                var network = pool.Networks.First(n => n.Name == bond.Networks[0]);
                var networkIndex = pool.Networks.ToList().IndexOf(network);
                var driver = network.TxSizeMix is { } mix ? nic.Driver with { TxLinearBytesMix = mix } : nic.Driver;
                ports.Add(new SimulatedPort(new NicPort(nic.Device, nic.BusId, driver, mtuOverride ?? nic.Mtu, nic.Gro, nic.RxBuffersOverride),
                    networkIndex, 1.0 / bond.Members.Count, network.Bursts));
            }
        }
        return new HostModel(SwiotlbPoolSize.FromMiB(pool.SwiotlbMiB), ports);
    }

    private sealed class PoolRun(Scenario scenario, PoolSpec pool, SimulationEngineKind engine, HazardCache cache, SimulationOptions options)
    {
        internal Scenario Scenario { get; } = scenario;
        internal PoolSpec Pool { get; } = pool;
        internal SimulationEngineKind Engine { get; } = engine;
        internal HazardCache Cache { get; } = cache;
        internal SimulationOptions Options { get; } = options;

        private readonly List<HostRun> _hosts = [];
        private double _referenceHostRate;

        public HostOutcome[] Run(long runHostSteps, Action<long> progress)
        {
            var baseModel = ModelOf(Pool);
            _referenceHostRate = HostRate(baseModel, Pool.VmsPerHost, boost: 1, bursts: false, second: 0, perPort: null, diurnal: false);
            for (var i = 0; i < Pool.HostNames.Count; i++)
                _hosts.Add(new HostRun(this, Pool.HostNames[i], i, baseModel));
            var schedule = Schedule();
            var step = Scenario.StepSeconds;
            var sampleEvery = Options.OccupancySampleSeconds;
            var nextEvent = 0;
            var sinceProgress = 0L;
            // Progress at least every 1/200 of the run (a small exact pool takes seconds per simulated hour, and a
            // caller streams this progress), else every 50,000 host-steps; how often it is reported changes no result.
            var progressEvery = Math.Clamp(runHostSteps / 200, 1, 50_000);
            var cancellation = Options.CancellationToken;
            foreach (var host in _hosts)
                host.ConfigureFromStart(Scenario.Interventions);
            foreach (var host in _hosts)
                host.Boot(0);
            for (double t = 0; t < Scenario.DurationSeconds; t += step)
            {
                if (cancellation.IsCancellationRequested)
                    return []; // Run throws once the pools have stopped
                var end = Math.Min(t + step, Scenario.DurationSeconds);
                while (nextEvent < schedule.Count && schedule[nextEvent].At < end)
                    schedule[nextEvent++].Apply(this);
                foreach (var host in _hosts)
                    host.Step(t, end);
                if ((long)(end / sampleEvery) > (long)(t / sampleEvery) || end >= Scenario.DurationSeconds)
                {
                    foreach (var host in _hosts)
                        host.Sample();
                }
                sinceProgress += _hosts.Count;
                if (sinceProgress >= progressEvery)
                {
                    progress(sinceProgress);
                    sinceProgress = 0;
                }
            }
            progress(sinceProgress);
            foreach (var host in _hosts)
                host.Finish();
            return [.. _hosts.Select(h => h.Outcome)];
        }

        /// <summary>Host failures, VM-start bursts and each targeted host's reboot of an intervention, in time order.</summary>
        private List<(double At, Action<PoolRun> Apply)> Schedule()
        {
            var events = new List<(double At, int Order, Action<PoolRun> Apply)>();
            var order = 0;
            foreach (var failure in Scenario.HostFailures)
            {
                var host = _hosts.FirstOrDefault(h => h.Outcome.Name == failure.Host);
                if (host is not null)
                    events.Add((failure.AtSeconds, order++, _ => host.Fail(failure.AtSeconds, panic: null)));
            }
            foreach (var burst in Pool.VmStarts.Bursts)
                events.Add((burst.AtSeconds, order++, run => { foreach (var h in run._hosts) h.StartVms(burst.AtSeconds, burst.VmsPerHost, addsDensity: true, spreadSeconds: 60); }));
            foreach (var intervention in Scenario.Interventions.Where(i => i.Pool == Pool.Name && !i.FromStart))
            {
                var targets = Targets(intervention);
                for (var k = 0; k < targets.Count; k++)
                {
                    var host = targets[k];
                    var at = intervention.AtSeconds + k * intervention.MinutesPerHost * 60.0;
                    events.Add((at, order++, _ => host.RebootInto(at, intervention)));
                }
            }
            return [.. events.OrderBy(e => e.At).ThenBy(e => e.Order).Select(e => (e.At, e.Apply))];
        }

        /// <summary>
        /// The hosts an intervention reaches, in the order it reaches them: the named ones, else the first hosts by
        /// name (index 0 is the pool master, which the planner takes first).
        /// </summary>
        private List<HostRun> Targets(InterventionSpec intervention) => intervention.Hosts is { } named
            ? [.. _hosts.Where(h => named.Contains(h.Outcome.Name))]
            : [.. _hosts.Take((int)Math.Ceiling(intervention.Fraction * _hosts.Count))];

        /// <summary>The host's transmit rate (summed over ports) and, when asked, each port's rate.</summary>
        internal double HostRate(HostModel model, double vms, double boost, bool bursts, long second, double[]? perPort, bool diurnal = true) =>
            Traffic.PortRates(Pool, model, vms, boost, bursts, second, perPort, diurnal);

        /// <summary>A host went down (panic or failure): HA restarts its VMs on the hosts that are up.</summary>
        internal void Restart(HostRun failed, double at)
        {
            var survivors = _hosts.Where(h => h != failed && h.IsUp).ToList();
            if (survivors.Count == 0 || failed.Vms <= 0)
                return;
            var share = failed.Vms / survivors.Count;
            failed.Vms = 0;
            foreach (var host in survivors)
            {
                if (Pool.VmStarts.StormAfterHostFailure)
                    host.StartVms(at, share, addsDensity: true, spreadSeconds: Pool.VmStarts.StormMinutes * 60.0);
                else
                    host.Vms += share;
            }
        }

        internal sealed class HostRun
        {
            private readonly PoolRun _pool;
            private readonly Random _random;
            private readonly int _seed;
            private readonly List<double> _boostsUntil = [];
            private HostModel _model;
            private HostModel? _pending;
            private SwiotlbWorkloadRun? _exact;
            private HazardTable? _table;
            private double[] _perPort;
            private double[] _perPortShare = [];
            private double _bootedAt;
            private double _downUntil = -1;
            private int _boots;
            private int _nextDomain = 10;
            private double _occupancyNow;
            private double _occupancySum;
            private int _occupancyCount;

            public HostRun(PoolRun pool, string name, int index, HostModel model)
            {
                _pool = pool;
                _model = model;
                _seed = HostSeed.For(pool.Scenario.Seed, name);
                _random = new Random(_seed);
                _perPort = new double[model.Ports.Count];
                Vms = pool.Pool.VmsOn(name);
                Outcome = new HostOutcome(name, pool.Pool.Name, index, model.StandingRxShare);
            }

            public HostOutcome Outcome { get; }
            public double Vms { get; set; }
            public bool IsUp => _downUntil < 0;

            private bool Keep
            {
                get
                {
                    if (!_pool.Options.KeepRecords)
                        return false;
                    if (Outcome.Records.Count < _pool.Options.MaxRecordsPerHost)
                        return true;
                    Outcome.RecordsTruncated = true;
                    return false;
                }
            }

            public void Boot(double at)
            {
                if (_pending is not null)
                {
                    _model = _pending;
                    _pending = null;
                    _perPort = new double[_model.Ports.Count];
                }
                _downUntil = -1;
                _bootedAt = at;
                _boots++;
                if (Keep)
                    Outcome.Records.Add(new SimulatedRecord(at, 0, SimulatedRecordKind.Boot, 0, null));
                if (_pool.Engine == SimulationEngineKind.Exact)
                {
                    _exact = new SwiotlbWorkloadRun(_model.Workload(HostWorkloadDefaults.SampledMappingsPerSecondPerPort), HostSeed.For(_seed, $"boot{_boots}"));
                    _exact.Boot(r => OnExactRecord(r));
                }
                else
                {
                    _table = _pool.Cache.For(_model, _pool._referenceHostRate);
                }
            }

            /// <summary>VMs start (a burst or HA restarts): each boots its disk, boosting storage traffic for a while.</summary>
            public void StartVms(double at, double count, bool addsDensity, double spreadSeconds)
            {
                if (!IsUp)
                    return;
                if (addsDensity)
                    Vms += count;
                var whole = (int)Math.Round(count);
                for (var i = 0; i < whole; i++)
                {
                    var start = at + (whole == 1 ? 0 : spreadSeconds * i / whole);
                    AddStart(start);
                }
            }

            private void AddStart(double at)
            {
                Outcome.VmStarts++;
                _boostsUntil.Add(at + _pool.Pool.VmStarts.BootBoostMinutes * 60.0);
                if (Keep)
                    Outcome.Records.Add(new SimulatedRecord(at, at - _bootedAt, SimulatedRecordKind.VmStarted, _nextDomain++, null));
            }

            /// <summary>The host goes down: a panic (VMs crash and restart elsewhere) or a failure from the Scenario.</summary>
            public void Fail(double at, SimulatedPanic? panic)
            {
                if (!IsUp)
                    return;
                if (panic is not null)
                {
                    Outcome.Panics.Add(panic);
                    Outcome.ExhaustionsSinceLastPanic = 0;
                    if (Keep)
                        Outcome.Records.Add(new SimulatedRecord(at, panic.Uptime, SimulatedRecordKind.Panic, panic.Bytes, panic.BusId));
                }
                _downUntil = at + _pool.Pool.RebootMinutes * 60.0;
                _exact = null;
                _boostsUntil.Clear();
                _pool.Restart(this, at);
            }

            /// <summary>
            /// The changes this host runs with from the start (<see cref="InterventionSpec.FromStart"/>), in scenario
            /// order, before its first boot: no reboot, no downtime.
            /// </summary>
            public void ConfigureFromStart(IReadOnlyList<InterventionSpec> interventions)
            {
                foreach (var intervention in interventions)
                {
                    if (!intervention.FromStart || intervention.Pool != _pool.Pool.Name || !_pool.Targets(intervention).Contains(this))
                        continue;
                    _pending = Apply(_pending ?? _model, intervention);
                    Outcome.Interventions.Add(intervention.Label);
                }
                if (_pending is not null)
                    Outcome.StandingRxShare = _pending.StandingRxShare;
            }

            /// <summary>An intervention reaches this host: the change is made and the host is evacuated and rebooted into it.</summary>
            public void RebootInto(double at, InterventionSpec intervention)
            {
                var model = _pending ?? _model;
                _pending = Apply(model, intervention);
                Outcome.Interventions.Add(intervention.Label);
                if (!IsUp)
                    return; // it boots into the change anyway
                _downUntil = at + _pool.Pool.RebootMinutes * 60.0;
                _exact = null;
            }

            private HostModel Apply(HostModel model, InterventionSpec change)
            {
                var bond = change.Bond is { } b ? _pool.Pool.Bonds.First(x => x.Name == b)
                    : change.Network is { } n ? _pool.Pool.Bonds.First(x => x.Networks.Contains(n)) : null;
                bool Targeted(SimulatedPort port) => bond is null || bond.Members.Contains(port.Nic.Device);
                return change.Action switch
                {
                    InterventionAction.SetSwiotlb => model with { Pool = SwiotlbPoolSize.FromMiB(change.SwiotlbMiB!.Value) },
                    InterventionAction.EnableGro => model with { Ports = [.. model.Ports.Select(p => Targeted(p) ? p with { Nic = p.Nic with { GroOn = true } } : p)] },
                    InterventionAction.DisableGro => model with { Ports = [.. model.Ports.Select(p => Targeted(p) ? p with { Nic = p.Nic with { GroOn = false } } : p)] },
                    InterventionAction.SetMtu => model with { Ports = [.. model.Ports.Select(p => Targeted(p) && (bond is not null || p.Nic.Mtu > 1500) ? p with { Nic = p.Nic with { Mtu = change.Mtu!.Value } } : p)] },
                    // The planner's selection (RollingPlanner): every NIC whose RX bounces with GRO off gets GRO on.
                    InterventionAction.RollingPlan => model with { Ports = [.. model.Ports.Select(p => p.Nic.RxBounces ? p with { Nic = p.Nic with { GroOn = true } } : p)] },
                    _ => throw new ArgumentOutOfRangeException(nameof(change), change.Action, "unknown intervention"),
                };
            }

            public void Step(double from, double to)
            {
                if (!IsUp)
                {
                    if (to < _downUntil)
                    {
                        _occupancyNow = 0;
                        Accumulate();
                        return;
                    }
                    Boot(_downUntil);
                    from = Math.Max(from, _bootedAt);
                }
                var spec = _pool.Pool.VmStarts;
                // Steady VM starts: a Poisson stream; each replaces a VM that stopped, so density stays.
                var starts = Poisson(spec.SteadyPerHostPerHour * (to - from) / 3600.0);
                for (var i = 0; i < starts; i++)
                    AddStart(from + _random.NextDouble() * (to - from));
                for (var i = _boostsUntil.Count - 1; i >= 0; i--)
                {
                    if (_boostsUntil[i] <= from)
                        _boostsUntil.RemoveAt(i);
                }
                var boost = 1 + (spec.BootBoostFactor - 1) * _boostsUntil.Count;
                if (_exact is not null)
                    StepExact(from, to, boost);
                else
                    StepFast(from, to, boost);
                Accumulate();
            }

            private void StepExact(double from, double to, double boost)
            {
                var exact = _exact!;
                for (var second = (long)from; second < (long)to; second++)
                {
                    _pool.HostRate(_model, Vms, boost, bursts: true, second, _perPort);
                    _now = second;
                    if (exact.RunSecond(_perPort, r => OnExactRecord(r)))
                    {
                        var panic = exact.Region.Panic!;
                        Fail(second + 1, new SimulatedPanic(second + 1, exact.Uptime, panic.Bytes, panic.BusId));
                        return;
                    }
                }
                _occupancyNow = (double)exact.Region.SlabsInUse / exact.Region.Size.Slabs;
            }

            private double _now;

            private void OnExactRecord(SwiotlbRecord record)
            {
                if (!record.Message.Contains("Out of SW-IOMMU", StringComparison.Ordinal))
                    return; // the panic line is written by Fail, with the panic's own size
                var bytes = ParseBytes(record.Message);
                if (bytes > SwiotlbGeometry.OverflowBufferBytes)
                    return;
                Outcome.Exhaustions++;
                Outcome.ExhaustionsSinceLastPanic++;
                if (Keep)
                {
                    var bus = record.Message[(record.Message.LastIndexOf(' ') + 1)..];
                    Outcome.Records.Add(new SimulatedRecord(_now + 1, _now + 1 - _bootedAt, SimulatedRecordKind.OutOfSpace, bytes, Intern(bus)));
                }
            }

            private string Intern(string bus)
            {
                foreach (var p in _model.Ports)
                {
                    if (p.Nic.BusId == bus)
                        return p.Nic.BusId;
                }
                return bus;
            }

            private void StepFast(double from, double to, double boost)
            {
                var table = _table!;
                var rate = _pool.HostRate(_model, Vms, boost, bursts: false, (long)from, _perPort);
                if (_perPortShare.Length != _perPort.Length)
                    _perPortShare = new double[_perPort.Length];
                for (var i = 0; i < _perPort.Length; i++)
                    _perPortShare[i] = rate > 0 ? _perPort[i] / rate : 1.0 / _perPort.Length;
                var (failuresPerSecond, occupancy) = table.At(rate);
                _occupancyNow = occupancy;
                if (failuresPerSecond <= 0)
                    return;
                var failures = Poisson(failuresPerSecond * (to - from));
                if (failures == 0)
                    return;
                Span<double> times = failures <= 256 ? stackalloc double[failures] : new double[failures];
                for (var i = 0; i < failures; i++)
                    times[i] = from + _random.NextDouble() * (to - from);
                times.Sort();
                foreach (var time in times)
                {
                    var port = _model.Ports[TransmittingPort()];
                    if (_random.NextDouble() < table.PanicShare)
                    {
                        var bytes = table.PanicSizes.Length > 0 ? table.PanicSizes[_random.Next(table.PanicSizes.Length)] : SwiotlbGeometry.OverflowBufferBytes + 1;
                        Fail(time, new SimulatedPanic(time, time - _bootedAt, bytes, port.Nic.BusId));
                        return;
                    }
                    Outcome.Exhaustions++;
                    Outcome.ExhaustionsSinceLastPanic++;
                    if (Keep)
                    {
                        var bytes = table.SurvivableSizes.Length > 0 ? table.SurvivableSizes[_random.Next(table.SurvivableSizes.Length)] : SwiotlbGeometry.OverflowBufferBytes;
                        Outcome.Records.Add(new SimulatedRecord(time, time - _bootedAt, SimulatedRecordKind.OutOfSpace, bytes, port.Nic.BusId));
                    }
                }
            }

            /// <summary>A port drawn by its share of the host's transmit rate this step (failures come from the TX path).</summary>
            private int TransmittingPort()
            {
                var pick = _random.NextDouble();
                for (var i = 0; i < _model.Ports.Count; i++)
                {
                    pick -= _perPortShare[i];
                    if (pick < 0)
                        return i;
                }
                return _model.Ports.Count - 1;
            }

            private void Accumulate()
            {
                _occupancySum += _occupancyNow;
                _occupancyCount++;
            }

            public void Sample()
            {
                Outcome.Occupancy.Add(_occupancyCount == 0 ? 0f : (float)(_occupancySum / _occupancyCount));
                _occupancySum = 0;
                _occupancyCount = 0;
            }

            public void Finish()
            {
                var lastPanic = Outcome.Panics.Count > 0 ? Outcome.Panics[^1].Time : double.NegativeInfinity;
                var failuresSincePanic = Outcome.ExhaustionsSinceLastPanic > 0;
                Outcome.StandingRxShare = (_pending ?? _model).StandingRxShare;
                Outcome.AtRisk = failuresSincePanic || Outcome.StandingRxShare >= 0.10;
            }

            private int Poisson(double mean)
            {
                if (mean <= 0)
                    return 0;
                if (mean > 50)
                    return Math.Max(0, (int)Math.Round(mean + Math.Sqrt(mean) * Gaussian()));
                var limit = Math.Exp(-mean);
                var k = 0;
                var product = _random.NextDouble();
                while (product > limit)
                {
                    k++;
                    product *= _random.NextDouble();
                }
                return k;
            }

            private double Gaussian() =>
                Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());

            private static int ParseBytes(string message)
            {
                var at = message.IndexOf(" space for ", StringComparison.Ordinal) + " space for ".Length;
                var end = message.IndexOf(' ', at);
                return int.Parse(message.AsSpan(at, end - at), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
    }
}

/// <summary>The traffic generators: what each port of a host transmits at a simulated second.</summary>
public static class Traffic
{
    /// <summary>
    /// Per port: the network's rate per VM x running VMs x the port's share of its bond x the VM-start boost (storage
    /// networks) x the diurnal curve x the burst factor (when <paramref name="bursts"/>). Returns the host's total.
    /// </summary>
    public static double PortRates(PoolSpec pool, HostModel model, double vms, double boost, bool bursts, long second, double[]? perPort, bool diurnal = true)
    {
        double total = 0;
        for (var i = 0; i < model.Ports.Count; i++)
        {
            var port = model.Ports[i];
            var network = pool.Networks[port.NetworkIndex];
            var rate = network.TxPacketsPerSecondPerVm * vms * port.Share * (network.Kind == TrafficKind.Storage ? boost : 1);
            if (diurnal)
                rate *= network.Diurnal.FactorAt(second);
            if (bursts)
                rate *= port.Bursts.FactorAt(second);
            if (perPort is not null)
                perPort[i] = rate;
            total += rate;
        }
        return total;
    }
}
