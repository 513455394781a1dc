using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Simulation;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Streams;

namespace FleetTwin.Twin.Simulation;

/// <summary>What the twin made of one simulated host.</summary>
public sealed record TwinSimulatedHost(string Host, string Pool, long Exhaustions, int Panics, long VmStarts, HostView View);

/// <summary>
/// Runs a scenario's hosts through the live twin's own grains: each host's mapping demand
/// (<see cref="MappingDemandGenerator"/>) goes in batches of one simulated minute to its
/// <see cref="ISwiotlbRegionGrain"/>, which runs the exact allocator and publishes the kernel's records on the host's
/// stream; the generators' VM starts and boots are published on the same stream as <see cref="HostEventBatch"/>es,
/// as the log ingest does. So the host grains, their risk assessment and every view see a simulated fleet exactly as
/// a real one. Simulated time advances as fast as the grains answer; nothing waits on a timer.
/// </summary>
/// <remarks>
/// This is the exact engine behind grains: per-host physics, traffic, VM-start bursts and reboots after a panic.
/// Pool coupling (HA restart storms) and interventions are modelled by the domain engines (<see cref="FleetSimulation"/>),
/// which the fleet-scale runs use; see docs/simulation.md.
/// </remarks>
public sealed class TwinSimulation(IClusterClient client)
{
    /// <summary>Operations per grain call at most (a simulated minute of a busy host is ~70k).</summary>
    public const int MaxBatchOperations = 131_072;

    public async Task<IReadOnlyList<TwinSimulatedHost>> RunAsync(Scenario scenario, Action<double>? progress = null, CancellationToken cancellationToken = default)
    {
        var total = scenario.HostCount;
        var done = 0L;
        var minutes = (long)Math.Ceiling(scenario.DurationSeconds / 60);
        void Advance() => progress?.Invoke((double)Interlocked.Increment(ref done) / Math.Max(1, total * minutes));
        var tasks = scenario.Hosts().Select(h => RunHostAsync(scenario, h.Pool, h.Host, Advance, cancellationToken)).ToList();
        var results = await Task.WhenAll(tasks);
        return results;
    }

    private async Task<TwinSimulatedHost> RunHostAsync(Scenario scenario, PoolSpec pool, string host, Action advance, CancellationToken cancellationToken)
    {
        var model = FleetSimulation.ModelOf(pool);
        var seed = HostSeed.For(scenario.Seed, host);
        var region = client.GetGrain<ISwiotlbRegionGrain>(host);
        var stream = client.GetStreamProvider(TwinStreams.Provider).GetStream<HostEventBatch>(TwinStreams.ForHost(host));
        var busIds = model.Ports.Select(p => p.Nic.BusId).ToArray();
        var perPort = new double[model.Ports.Count];
        var operations = new List<DemandOperation>(MaxBatchOperations);
        var events = new List<TwinEvent>();
        long exhaustions = 0, vmStarts = 0;
        var panics = 0;
        var boots = 0;
        var vms = (double)pool.VmsPerHost;
        var nextBurst = 0;
        var bursts = pool.VmStarts.Bursts.OrderBy(b => b.AtSeconds).ToList();
        var domid = 10;
        MappingDemandGenerator? generator = null;
        double bootedAt = 0, downUntil = -1;

        async Task BootAsync(double at)
        {
            boots++;
            bootedAt = at;
            generator = new MappingDemandGenerator(model, HostSeed.For(seed, $"boot{boots}"));
            await region.Boot(pool.SwiotlbMiB);
            events.Add(new KernelBoot { Host = host, Uptime = 0, KernelVersion = "2.6.32.43-0.4.1.xs1.8.0.853.170791xen", XenServerRelease = pool.Release, SourceFile = "simulation" });
            // What `ethtool -i/-k`, `ip link` and /proc/cmdline would show: the twin's risk model needs the configuration.
            events.Add(new Dom0CommandLine { Host = host, Uptime = 0, CommandLine = $"root=LABEL=root-xs ro swiotlb={pool.SwiotlbMiB}", Swiotlb = $"{pool.SwiotlbMiB}", SwiotlbSize = pool.SwiotlbMiB, SourceFile = "simulation" });
            foreach (var port in model.Ports)
            {
                events.Add(new NicDriver { Host = host, Uptime = 0, Device = port.Nic.Device, Driver = port.Nic.Driver.Driver, BusInfo = port.Nic.BusId, SourceFile = "simulation" });
                events.Add(new NicOffloads { Host = host, Uptime = 0, Device = port.Nic.Device, GenericReceiveOffload = port.Nic.GroOn, SourceFile = "simulation" });
                events.Add(new LinkMtu { Host = host, Uptime = 0, Device = port.Nic.Device, Mtu = port.Nic.Mtu, State = "UP", SourceFile = "simulation" });
            }
            generator.Boot(operations);
            await FlushAsync();
        }

        async Task FlushAsync()
        {
            if (events.Count > 0)
            {
                await stream.OnNextAsync(new HostEventBatch(host, [.. events], DateTimeOffset.UtcNow));
                events.Clear();
            }
            for (var start = 0; start < operations.Count; start += MaxBatchOperations)
            {
                var count = Math.Min(MaxBatchOperations, operations.Count - start);
                var batch = new MappingDemand[count];
                for (var i = 0; i < count; i++)
                {
                    var op = operations[start + i];
                    batch[i] = new MappingDemand(op.Unmap ? MappingOperation.Unmap : MappingOperation.MapSingle, op.Tag, busIds[op.Port], Math.Max(1, op.Bytes), op.Direction, op.Uptime);
                }
                var outcome = await region.Apply(new MappingDemandBatch(batch));
                exhaustions += outcome.Exhaustions;
                if (outcome.Panicked)
                {
                    panics++;
                    exhaustions--; // the panicking mapping's record is the panic, not a survivable exhaustion
                    downUntil = bootedAt + generator!.Uptime + pool.RebootMinutes * 60.0;
                    generator = null;
                    break;
                }
            }
            operations.Clear();
        }

        await BootAsync(0);
        for (long minute = 0; minute * 60 < scenario.DurationSeconds; minute++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var from = minute * 60;
            if (generator is null)
            {
                if (from >= downUntil)
                    await BootAsync(from);
                advance();
                continue;
            }
            for (var second = from; second < from + 60 && generator is not null; second++)
            {
                while (nextBurst < bursts.Count && bursts[nextBurst].AtSeconds <= second)
                {
                    vms += bursts[nextBurst].VmsPerHost;
                    for (var i = 0; i < bursts[nextBurst].VmsPerHost; i++)
                    {
                        vmStarts++;
                        events.Add(new VmStarted { Host = host, Uptime = second - bootedAt, Domid = domid++, Evidence = "vif_promiscuous", SourceFile = "simulation" });
                    }
                    nextBurst++;
                }
                Traffic.PortRates(pool, model, vms, 1, bursts: true, second, perPort);
                generator.Second(perPort, operations);
            }
            await FlushAsync();
            advance();
        }

        var view = await client.GetGrain<IHostGrain>(host).GetView();
        return new TwinSimulatedHost(host, pool.Name, exhaustions, panics, vmStarts, view);
    }

    /// <summary>Waits until every host grain has applied the records its region grain published (streams are asynchronous).</summary>
    public async Task<IReadOnlyList<TwinSimulatedHost>> SettleAsync(IReadOnlyList<TwinSimulatedHost> hosts, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var settled = new List<TwinSimulatedHost>(hosts.Count);
        var deadline = DateTime.UtcNow + timeout;
        foreach (var h in hosts)
        {
            var view = h.View;
            while (view.ExhaustionEvents < h.Exhaustions + h.Panics || view.Panics.Length < h.Panics)
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"host {h.Host}: the twin shows {view.ExhaustionEvents} exhaustion records and {view.Panics.Length} panics, the simulation sent {h.Exhaustions + h.Panics} and {h.Panics}");
                await Task.Delay(20, cancellationToken);
                view = await client.GetGrain<IHostGrain>(h.Host).GetView();
            }
            settled.Add(h with { View = view });
        }
        return settled;
    }
}
