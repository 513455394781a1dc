using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Prediction;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Journal;
using FleetTwin.Twin.Streams;
using FleetTwin.Twin.Telemetry;
using Orleans.Streams;

namespace FleetTwin.Twin.Grains;

/// <summary>Persisted state of a <see cref="HostGrain"/>: the domain's <see cref="HostState"/> as it is.</summary>
[GenerateSerializer, Alias("fleettwin.host-grain-state.v1")]
public sealed class HostGrainState
{
    [Id(0)] public HostState Host { get; set; } = new();

    /// <summary>Driver, GRO and MTU per device, for the host index (the NIC grains hold the full facts).</summary>
    [Id(1)] public Dictionary<string, NicSummaryFacts> Nics { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The risk level last announced (alerts fire on a change).</summary>
    [Id(2)] public RiskLevel? AnnouncedRisk { get; set; }

    /// <summary>
    /// The twin runs this host's bounce pool (its <c>SwiotlbRegionGrain</c> was booted): only then do the details ask
    /// it, so querying a fleet known from logs does not activate and read an empty pool grain per host.
    /// </summary>
    [Id(3)] public bool RunsBouncePool { get; set; }

    /// <summary>Revision of the host's details (<see cref="HostSummary.Revision"/>): +1 per batch and pool change.</summary>
    [Id(4)] public long Revision { get; set; }

    /// <summary>The host's configuration as the fleet inventory last told it (null until xe/ethtool facts name it).</summary>
    [Id(5)] public HostConfigurationFacts? Configuration { get; set; }

    /// <summary>When (the twin's clock) a batch last moved the host's uptime on: the start of its quiet time.</summary>
    [Id(6)] public DateTimeOffset? LastHeardAt { get; set; }

    /// <summary>Journal entries applied last (<see cref="AppliedJournalEntries"/>): a redelivered entry is skipped whole.</summary>
    [Id(7)] public byte[] AppliedJournalEntries { get; set; } = [];
}

/// <summary>What the host list filters on, per NIC.</summary>
[GenerateSerializer, Alias("fleettwin.nic-summary-facts.v1")]
public sealed class NicSummaryFacts
{
    [Id(0)] public string? Driver { get; set; }
    [Id(1)] public bool? Gro { get; set; }
    [Id(2)] public string? GroOverride { get; set; }
    [Id(3)] public int? Mtu { get; set; }
}

/// <summary>
/// One dom0 host. Subscribes implicitly to its own stream (namespace <c>host-events</c>, key = host name), applies
/// each batch to the domain <see cref="HostState"/> (which de-duplicates overlapping logs), forwards NIC, bond and pool
/// facts to their grains (one call per affected grain per batch), and persists before acknowledging the batch.
/// </summary>
[ImplicitStreamSubscription(TwinStreams.HostEvents)]
public sealed class HostGrain(
    [PersistentState("host", TwinStorage.Name)] IPersistentState<HostGrainState> state,
    TwinMetrics metrics,
    HostQuietCheck quiet) : Grain, IHostGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        state.State.Host.Name = this.GetPrimaryKeyString();
        var stream = this.GetStreamProvider(TwinStreams.Provider).GetStream<HostEventBatch>(TwinStreams.ForHost(this.GetPrimaryKeyString()));
        await stream.SubscribeAsync(OnBatch);
        MeasureQuiet();
        var risk = Assess();
        metrics.TrackHostRisk(this.GetPrimaryKeyString(), risk.Level);
        WatchQuiet(risk);
        await base.OnActivateAsync(cancellationToken);
    }

    private IGrainTimer? _quietCheck;

    /// <summary>The host's quiet time: the twin's clock since a batch last moved its uptime on.</summary>
    private void MeasureQuiet()
    {
        if (state.State.LastHeardAt is { } heard && state.State.Host.LastUptime is not null)
            state.State.Host.QuietSeconds = Math.Max(0, (quiet.Clock.GetUtcNow() - heard).TotalSeconds);
    }

    /// <summary>
    /// Keeps checking a host whose level its evidence holds up (warning, critical), or whose level changed while it
    /// was not active: its failures age while nothing is logged, and the critical hold and the recent-failure window
    /// must run out on the twin's clock, not wait for the host's next line (a host that stopped failing logs nothing).
    /// The timer keeps the grain active while it runs; a host at ok, latent or panicked needs no check.
    /// </summary>
    private void WatchQuiet(PanicPrediction risk)
    {
        var watch = (risk.Evidence is not null && risk.Level >= RiskLevel.Warning)
            || (state.State.AnnouncedRisk is { } announced && risk.Level != announced);
        if (watch && _quietCheck is null)
        {
            _quietCheck = this.RegisterGrainTimer(CheckQuiet,
                new GrainTimerCreationOptions { DueTime = quiet.Interval, Period = quiet.Interval, KeepAlive = true });
        }
        else if (!watch && _quietCheck is not null)
        {
            _quietCheck.Dispose();
            _quietCheck = null;
        }
    }

    private async Task CheckQuiet(CancellationToken cancellationToken)
    {
        MeasureQuiet();
        _view = null;
        _details = null;
        var risk = Assess();
        if (risk.Level != state.State.AnnouncedRisk)
        {
            state.State.Revision++;
            risk = await AnnounceRisk(state.State.Host.Panics.Count, []);
            await state.WriteStateAsync();
        }
        WatchQuiet(risk);
    }

    /// <summary>The view until the next batch changes the host (queries outnumber batches; the risk assessment is not free).</summary>
    private HostView? _view;

    public Task<HostView> GetView() => Task.FromResult(_view ??= HostViews.From(state.State.Host, Assess()));

    private HostConfiguration? _configuration;

    /// <summary>
    /// The host's risk now: the one assessment every view uses (<see cref="PanicPredictor.Assess"/>), with the
    /// evidence of its logs and the configuration the inventory told it.
    /// </summary>
    private PanicPrediction Assess() =>
        PanicPredictor.Assess(state.State.Host, _configuration ??= state.State.Configuration?.ToDomain());

    public async Task SetConfiguration(HostConfigurationFacts configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration.SameAs(state.State.Configuration))
            return;
        state.State.Configuration = configuration;
        _configuration = null;
        _view = null;
        _details = null;
        state.State.Revision++;
        WatchQuiet(await AnnounceRisk(state.State.Host.Panics.Count, []));
        await state.WriteStateAsync();
    }

    /// <summary>
    /// Assesses the host, sends the index its summary and the alert log the level change and panics since
    /// <paramref name="panicsBefore"/>, alongside <paramref name="forwards"/> (the batch's other grain calls), and
    /// records the level announced. The caller persists. Returns the assessment announced.
    /// </summary>
    private async Task<PanicPrediction> AnnounceRisk(int panicsBefore, List<Task> forwards)
    {
        var host = state.State.Host;
        var risk = Assess();
        var alerts = AlertsOf(host, risk, panicsBefore);
        if (alerts is not null)
            forwards.Add(GrainFactory.GetGrain<IAlertLogGrain>(TwinGrainKeys.Fleet).Append(alerts));
        forwards.Add(PushSummary(Summarise(host, risk)));
        await Task.WhenAll(forwards);
        state.State.AnnouncedRisk = risk.Level;
        metrics.TrackHostRisk(this.GetPrimaryKeyString(), risk.Level);
        return risk;
    }

    /// <summary>The assembled details until a batch or the bounce pool changes them (queries outnumber both).</summary>
    private HostDetails? _details;

    public async Task<HostDetails> GetDetails()
    {
        if (_details is { } known)
            return known;
        var view = _view ??= HostViews.From(state.State.Host, Assess());
        var name = this.GetPrimaryKeyString();
        // NICs, bonds and the bounce pool live in their own grains: ask them all at once.
        var nics = Task.WhenAll(view.Nics.Select(n => GrainFactory.GetGrain<INicGrain>(TwinGrainKeys.Nic(name, n.Device)).GetView()));
        var bonds = Task.WhenAll(view.Bonds.Select(b => GrainFactory.GetGrain<IBondGrain>(TwinGrainKeys.Bond(name, b)).GetView()));
        var swiotlb = state.State.RunsBouncePool
            ? GrainFactory.GetGrain<ISwiotlbRegionGrain>(name).GetView()
            : Task.FromResult(SwiotlbView.NotRun);
        await Task.WhenAll(nics, bonds, swiotlb);
        return _details = new HostDetails(view, nics.Result, [.. HostViews.BondsOf(name, bonds.Result.OfType<BondView>().ToList(), nics.Result)],
            swiotlb.Result, state.State.Revision);
    }

    public async Task SwiotlbChanged()
    {
        _details = null;
        if (!state.State.RunsBouncePool)
        {
            state.State.RunsBouncePool = true;
            // Readers of the index learn that this host's details now move with its bounce pool.
            await PushSummary(Summarise(state.State.Host, Assess()));
            await state.WriteStateAsync();
        }
    }

    public async Task JoinPool(string pool)
    {
        ArgumentException.ThrowIfNullOrEmpty(pool);
        var host = state.State.Host;
        if (host.Pool == pool)
            return;
        host.Pool = pool;
        _view = null;
        _details = null;
        state.State.Revision++;
        var name = this.GetPrimaryKeyString();
        await GrainFactory.GetGrain<IPoolGrain>(pool).AddHost(name);
        await PushSummary(Summarise(host, Assess()));
        await state.WriteStateAsync();
    }

    public Task<long> GetProcessedEvents() => Task.FromResult(state.State.Host.AppliedEvents + state.State.Host.DuplicateRecords);

    public Task<HostState> GetState() => Task.FromResult(state.State.Host);

    private HostSummary? _pushedSummary;

    /// <summary>Sends the host index this host's summary when it differs from the last one it took (one call, or none).</summary>
    private async Task PushSummary(HostSummary summary)
    {
        if (summary.SameAs(_pushedSummary))
            return;
        await GrainFactory.GetGrain<IHostIndexGrain>(TwinGrainKeys.Fleet).Update(summary);
        _pushedSummary = summary;
    }

    private async Task OnBatch(HostEventBatch batch, StreamSequenceToken? token)
    {
        var entry = token as JournalToken;
        if (entry is not null && AppliedJournalEntries.Contains(state.State.AppliedJournalEntries, entry))
        {
            // Delivered again (its first delivery was applied and written, the XACK was lost with a silo): applied once.
            metrics.JournalRedelivery();
            return;
        }
        var host = state.State.Host;
        _view = null;
        _details = null;
        state.State.Revision++;
        Dictionary<string, List<TwinEvent>>? nicFacts = null;
        List<BondFact>? bonds = null;
        PoolFact? pool = null;
        List<TwinEvent>? inventoryFacts = null;
        var panicsBefore = host.Panics.Count;
        var uptimeBefore = host.LastUptime;
        foreach (var e in batch.Events)
        {
            if (!host.Apply(e))
                continue;
            metrics.EventApplied(e.Type);
            if (InventoryGrain.IsFact(e))
                (inventoryFacts ??= []).Add(e);
            NoteNicSummary(e);
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
        if (host.LastUptime is { } uptime && !(uptime <= uptimeBefore))
            state.State.LastHeardAt = quiet.Clock.GetUtcNow(); // the host spoke: its quiet time starts again (HostState.Apply zeroed it)
        else
            MeasureQuiet();

        var forwards = new List<Task>();
        var name = this.GetPrimaryKeyString();
        if (nicFacts is not null)
        {
            foreach (var (device, facts) in nicFacts)
                forwards.Add(GrainFactory.GetGrain<INicGrain>(TwinGrainKeys.Nic(name, device)).Apply([.. facts]));
        }
        if (bonds is not null)
        {
            foreach (var bond in bonds)
                forwards.Add(GrainFactory.GetGrain<IBondGrain>(TwinGrainKeys.Bond(name, bond.Uuid)).Apply(bond));
        }
        if (pool is not null)
        {
            var poolGrain = GrainFactory.GetGrain<IPoolGrain>(TwinGrainKeys.Pool(pool.NameLabel, pool.Uuid));
            forwards.Add(poolGrain.AddHost(name));
            forwards.Add(poolGrain.SetMaster(pool.Master));
        }
        if (inventoryFacts is not null)
            forwards.Add(GrainFactory.GetGrain<IInventoryGrain>(TwinGrainKeys.Fleet).Apply([.. inventoryFacts]));
        WatchQuiet(await AnnounceRisk(panicsBefore, forwards));
        // Persist before the stream delivery completes: a batch the stream handed over is not lost with the silo.
        host.PrepareForPersistence();
        if (entry is not null)
            state.State.AppliedJournalEntries = AppliedJournalEntries.Add(state.State.AppliedJournalEntries, entry);
        await state.WriteStateAsync();
    }

    /// <summary>
    /// Alerts of this batch: a change of risk level (not a new host's first "unknown -> ok", which every host of a
    /// healthy fleet would raise) and each panic applied.
    /// </summary>
    private TwinAlert[]? AlertsOf(HostState host, PanicPrediction risk, int panicsBefore)
    {
        List<TwinAlert>? alerts = null;
        var previous = state.State.AnnouncedRisk ?? RiskLevel.Unknown;
        var now = DateTimeOffset.UtcNow;
        if (risk.Level != previous && !(previous == RiskLevel.Unknown && risk.Level <= RiskLevel.Ok))
        {
            (alerts ??= []).Add(new TwinAlert
            {
                Host = host.Name, Pool = host.Pool, Kind = AlertKind.RiskChanged, PreviousRisk = previous, Risk = risk.Level,
                Reason = risk.Reason, RaisedAt = now, Uptime = host.LastUptime,
            });
        }
        for (var i = panicsBefore; i < host.Panics.Count; i++)
        {
            var panic = host.Panics[i];
            (alerts ??= []).Add(new TwinAlert
            {
                Host = host.Name, Pool = host.Pool, Kind = AlertKind.Panic, PreviousRisk = previous, Risk = risk.Level,
                Reason = risk.Reason, PanicMessage = panic.Message, RaisedAt = now, Uptime = panic.Uptime,
            });
        }
        return alerts?.ToArray();
    }

    private void NoteNicSummary(TwinEvent e)
    {
        switch (e)
        {
            case NicDriver { Device: { } d } driver: Nic(d).Driver = driver.Driver; break;
            case NicOffloads { Device: { } d, GenericReceiveOffload: { } gro }: Nic(d).Gro = gro; break;
            case LinkMtu l: Nic(l.Device).Mtu = l.Mtu; break;
            case PifFact { Device: { } d } pif when pif.Physical != false || pif.BondMasterOf is not null:
                var nic = Nic(d);
                nic.Mtu = pif.Mtu ?? nic.Mtu;
                nic.GroOverride = pif.EthtoolGro;
                break;
        }
    }

    private NicSummaryFacts Nic(string device)
    {
        if (!state.State.Nics.TryGetValue(device, out var nic))
            state.State.Nics[device] = nic = new NicSummaryFacts();
        return nic;
    }

    private HostSummary Summarise(HostState host, PanicPrediction risk)
    {
        var nics = state.State.Nics.Values;
        return new HostSummary
        {
            Name = host.Name,
            Pool = host.Pool,
            Risk = risk.Level,
            RiskReason = risk.Reason,
            XenServerRelease = host.XenServerRelease,
            Drivers = nics.Select(n => n.Driver).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(),
            GroOff = nics.Any(n => n.Gro == false || (n.Gro is null && n.GroOverride == "off")),
            Mtus = nics.Select(n => n.Mtu).OfType<int>().Distinct().Order().ToArray(),
            ExhaustionEvents = host.ExhaustionEvents,
            Panics = host.Panics.Count,
            LastUptime = host.LastUptime,
            Revision = state.State.Revision,
            RunsBouncePool = state.State.RunsBouncePool,
            PanicProbability = risk.ProbabilityWithinHorizon,
            ExhaustionRatePerHour = risk.Evidence?.RatePerHour,
        };
    }

    private static void Collect(ref Dictionary<string, List<TwinEvent>>? facts, string device, TwinEvent e)
    {
        facts ??= new Dictionary<string, List<TwinEvent>>(StringComparer.Ordinal);
        if (!facts.TryGetValue(device, out var list))
            facts[device] = list = [];
        list.Add(e);
    }
}
