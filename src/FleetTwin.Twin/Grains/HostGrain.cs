using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Streams;
using FleetTwin.Twin.Telemetry;
using Orleans.Streams;

namespace FleetTwin.Twin.Grains;

/// <summary>Persisted state of a <see cref="HostGrain"/>: the domain's <see cref="HostState"/> as it is.</summary>
[GenerateSerializer, Alias("fleettwin.host-grain-state.v1")]
public sealed class HostGrainState
{
    [Id(0)] public HostState Host { get; set; } = new();
}

/// <summary>
/// One dom0 host. Subscribes implicitly to its own stream (namespace <c>host-events</c>, key = host name), applies
/// each batch to the domain <see cref="HostState"/> (which de-duplicates overlapping logs), forwards NIC, bond and pool
/// facts to their grains (one call per affected grain per batch), and persists before acknowledging the batch.
/// </summary>
[ImplicitStreamSubscription(TwinStreams.HostEvents)]
public sealed class HostGrain(
    [PersistentState("host", TwinStorage.Name)] IPersistentState<HostGrainState> state,
    TwinMetrics metrics) : Grain, IHostGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        state.State.Host.Name = this.GetPrimaryKeyString();
        var stream = this.GetStreamProvider(TwinStreams.Provider).GetStream<HostEventBatch>(TwinStreams.ForHost(this.GetPrimaryKeyString()));
        await stream.SubscribeAsync(OnBatch);
        metrics.TrackHostRisk(this.GetPrimaryKeyString(), HostRisk.Assess(state.State.Host).Level);
        await base.OnActivateAsync(cancellationToken);
    }

    public Task<HostView> GetView() => Task.FromResult(HostViews.From(state.State.Host));

    public Task<long> GetProcessedEvents() => Task.FromResult(state.State.Host.AppliedEvents + state.State.Host.DuplicateRecords);

    private async Task OnBatch(HostEventBatch batch, StreamSequenceToken? token)
    {
        var host = state.State.Host;
        Dictionary<string, List<TwinEvent>>? nicFacts = null;
        List<BondFact>? bonds = null;
        PoolFact? pool = null;
        foreach (var e in batch.Events)
        {
            if (!host.Apply(e))
                continue;
            metrics.EventApplied(e.Type);
            switch (e)
            {
                case NicDriver { Device: { } d }: Collect(ref nicFacts, d, e); break;
                case NicOffloads { Device: { } d }: Collect(ref nicFacts, d, e); break;
                case LinkMtu l: Collect(ref nicFacts, l.Device, e); break;
                case PifFact { Device: { } d }: Collect(ref nicFacts, d, e); break;
                case BondFact b: (bonds ??= []).Add(b); break;
                case PoolFact p: pool = p; break;
            }
        }
        metrics.StreamLag(DateTimeOffset.UtcNow - batch.PublishedAt);

        var forwards = new List<Task>();
        var name = this.GetPrimaryKeyString();
        if (nicFacts is not null)
        {
            foreach (var (device, facts) in nicFacts)
                forwards.Add(GrainFactory.GetGrain<INicGrain>(NicKey.Of(name, device)).Apply([.. facts]));
        }
        if (bonds is not null)
        {
            foreach (var bond in bonds)
                forwards.Add(GrainFactory.GetGrain<IBondGrain>($"{name}/{bond.Uuid}").Apply(bond));
        }
        if (pool is not null)
        {
            var poolGrain = GrainFactory.GetGrain<IPoolGrain>(pool.NameLabel ?? pool.Uuid);
            forwards.Add(poolGrain.AddHost(name));
            forwards.Add(poolGrain.SetMaster(pool.Master));
        }
        await Task.WhenAll(forwards);
        metrics.TrackHostRisk(name, HostRisk.Assess(host).Level);
        // Persist before the stream delivery completes: a batch the stream handed over is not lost with the silo.
        host.PrepareForPersistence();
        await state.WriteStateAsync();
    }

    private static void Collect(ref Dictionary<string, List<TwinEvent>>? facts, string device, TwinEvent e)
    {
        facts ??= new Dictionary<string, List<TwinEvent>>(StringComparer.Ordinal);
        if (!facts.TryGetValue(device, out var list))
            facts[device] = list = [];
        list.Add(e);
    }
}

/// <summary>Keys of NIC grains: <c>host/eth4</c>, as operators write a host's device.</summary>
public static class NicKey
{
    public static string Of(string host, string device) => $"{host}/{device}";
}

/// <summary>Storage provider names.</summary>
public static class TwinStorage
{
    /// <summary>Grain state of hosts, NICs, bonds, pools and bounce pools.</summary>
    public const string Name = "twin";
}
