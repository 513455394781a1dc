using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using FleetTwin.Api.V1;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Planning;
using FleetTwin.Domain.Prediction;
using FleetTwin.Domain.Simulation;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Grains;
using Grpc.Core;
using WhatIfChange = FleetTwin.Domain.Simulation.SettingChange;

namespace FleetTwin.Api.Services;

/// <summary>
/// fleettwin.v1.PlanService: ProposePlan and RunScenario over <see cref="PoolPlanning"/> (shared with the web
/// console); a cancelled call or a passed deadline stops the simulation at its next step.
/// </summary>
internal sealed class PlanGrpcService(PoolPlanning planning) : PlanService.PlanServiceBase
{
    public override async Task<ProposePlanResponse> ProposePlan(ProposePlanRequest request, ServerCallContext context)
    {
        var pool = ApiErrors.RequireName(request.Pool, "pool");
        var options = PoolPlanning.PlanOptions(request.MaxDown, request.MigrationGbps, request.SwiotlbDelay, request.ShutdownPinned);
        var (plan, hosts) = await planning.ProposeAsync(pool, options, context.CancellationToken);
        var response = new ProposePlanResponse
        {
            Pool = pool,
            Complete = plan.Complete,
            Text = PlanText.Render(plan),
            Json = PlanJson.Render(plan),
            Script = PlanScript.Render(plan),
            Html = PlanHtml.Render(plan),
            Hosts = hosts,
        };
        response.Undecided.AddRange(plan.Undecided);
        return response;
    }

    public override async Task RunScenario(RunScenarioRequest request, IServerStreamWriter<ScenarioProgress> responseStream, ServerCallContext context)
    {
        var pool = ApiErrors.RequireName(request.Pool, "pool");
        var traffic = new PoolTraffic();
        if (request.Traffic is { } t)
        {
            traffic = traffic with
            {
                VmsPerHost = t.HasVmsPerHost ? t.VmsPerHost : null,
                StorageTxPacketsPerSecondPerVm = t.HasStorageTxPacketsPerSecondPerVm ? t.StorageTxPacketsPerSecondPerVm : traffic.StorageTxPacketsPerSecondPerVm,
                VmTxPacketsPerSecondPerVm = t.HasVmTxPacketsPerSecondPerVm ? t.VmTxPacketsPerSecondPerVm : traffic.VmTxPacketsPerSecondPerVm,
            };
        }
        var whatIf = PoolPlanning.ScenarioRequest(request.Hours, request.Seed, traffic,
            [.. request.Changes.Select(c => new WhatIfChange(c.Host.Length == 0 ? null : c.Host, c.Setting, c.Value))]);
        var ct = context.CancellationToken;
        await foreach (var step in planning.RunScenarioAsync(pool, whatIf, ct))
        {
            var message = new ScenarioProgress { Percent = step.Percent, Message = step.Message, Done = step.Done };
            if (step.ResultJson is { } json)
                message.ResultJson = json;
            await responseStream.WriteAsync(message, ct);
        }
    }
}

/// <summary>One step of a what-if run: its progress, and on the last one (<see cref="Done"/>) the result.</summary>
internal sealed record ScenarioStep(int Percent, string Message, bool Done = false, string? ResultJson = null);

/// <summary>
/// Plans and what-if runs of one pool, as the gRPC PlanService and the web console both serve them. ProposeAsync runs
/// the domain's <see cref="RollingPlanner"/> on the twin's fleet inventory (the inventory grain) and each pool host's
/// prediction from its host grain's state — the same inputs the offline <c>fleettwin plan FILE...</c> builds from
/// files. RunScenarioAsync builds a what-if scenario of one pool from the same inventory and host states
/// (<see cref="PoolScenario.From"/>: layout of the pool master, traffic from documented defaults since no log carries
/// it), runs the baseline and the changed pool with the domain's <see cref="FleetSimulation"/> on a thread of its own,
/// and yields its progress and the results; a cancelled caller stops the simulation at its next step.
/// </summary>
internal sealed class PoolPlanning(IGrainFactory grains, ScenarioRuns runs)
{
    public const int MaxDownLimit = 64;

    /// <summary>Planner options from a request's values (0 means the default); INVALID_ARGUMENT naming the field otherwise.</summary>
    public static RollingPlanOptions PlanOptions(int maxDown, double migrationGbps, bool swiotlbDelay, bool shutdownPinned)
    {
        if (maxDown is < 0 or > MaxDownLimit)
            throw ApiErrors.InvalidArgument("max_down", $"{maxDown}: hosts down at once is 1..{MaxDownLimit} (0 means 1)");
        if (!double.IsFinite(migrationGbps) || migrationGbps < 0)
            throw ApiErrors.InvalidArgument("migration_gbps", $"{migrationGbps}: Gbit/s above 0 (0 means 10)");
        return new RollingPlanOptions
        {
            MaxDown = maxDown == 0 ? 1 : maxDown, IncludeSwiotlbDelay = swiotlbDelay, ShutdownPinned = shutdownPinned,
            MigrationGbps = migrationGbps == 0 ? 10 : migrationGbps,
        };
    }

    /// <summary>The rolling plan of a pool and how many hosts it has.</summary>
    public async Task<(RollingPlan Plan, int Hosts)> ProposeAsync(string pool, RollingPlanOptions options, CancellationToken ct)
    {
        var (inventory, _, hosts, states) = await PoolAsync(pool, ct);
        var predictions = new Dictionary<string, PanicPrediction>(StringComparer.Ordinal);
        for (var i = 0; i < hosts.Count; i++)
            predictions[hosts[i].Name] = PanicPredictor.Assess(states[i], HostConfiguration.From(inventory, hosts[i]));
        return (RollingPlanner.Plan(inventory, pool, predictions, options), hosts.Count);
    }

    /// <summary>
    /// A what-if run: the first step once the scenario is built (errors in the request or missing facts are thrown
    /// before it, as gRPC statuses), then at most one per whole percent, then the result. The caller must enumerate to
    /// the end or cancel <paramref name="ct"/>: the run holds a simulation slot until its thread has stopped.
    /// </summary>
    public async IAsyncEnumerable<ScenarioStep> RunScenarioAsync(string pool, PoolScenarioRequest whatIf, [EnumeratorCancellation] CancellationToken ct)
    {
        // A what-if keeps a core busy for its whole length: a silo runs a bounded number at once, so what-ifs cannot
        // starve the twin's ingest and queries on the same cores.
        var slot = runs.TryStart() ?? throw ApiErrors.ResourceExhausted("pool",
            $"{runs.Limit} what-if run(s) already running on this silo (each keeps a core busy); retry when one has ended");
        // Until the simulation thread owns the slot, this method does: released if the build fails or the caller
        // stops enumerating after the first step.
        var started = false;
        try
        {
            var built = await BuildAsync(pool, whatIf, ct);
            var scenario = built.Scenario;
            yield return new ScenarioStep(0, string.Create(CultureInfo.InvariantCulture,
                $"scenario built: pool {built.Pool.Name}, {scenario.HostCount} hosts ({string.Join(", ", built.Pool.HostNames)}), {scenario.Engine.ToString().ToLowerInvariant()} engine, {scenario.DurationSeconds / 3600:0.##} simulated hours, seed {scenario.Seed}; layout of {built.LayoutHost}, storage on {built.StorageBond}; {built.ChangesText}"));

            // The simulation is CPU work of seconds to minutes: it runs on a thread of its own, and its progress comes
            // back through a channel, because only the caller's thread may write its response.
            var progress = Channel.CreateUnbounded<ScenarioStep>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            var lastPercent = 0;
            void Report(string phase, double done)
            {
                // At most one message per whole percent (about 100 a run, whatever its length); 0 % was the built message.
                var percent = (int)Math.Floor(done * 100);
                if (percent <= lastPercent || percent >= 100)
                    return;
                lastPercent = percent;
                progress.Writer.TryWrite(new ScenarioStep(percent, string.Create(CultureInfo.InvariantCulture, $"{phase}: {percent}%")));
            }
            // The thread owns the slot from here: it is released when the simulation has stopped, not when the call ends.
            started = true;
            var simulation = Task.Factory.StartNew(() =>
            {
                using (slot)
                    return built.Run(Report, ct);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            _ = simulation.ContinueWith(t =>
            {
                _ = t.Exception; // observed here when the call ended first (cancelled: the exception is the call's status)
                progress.Writer.TryComplete();
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            await foreach (var step in progress.Reader.ReadAllAsync(ct))
                yield return step;
            var result = await simulation;
            yield return new ScenarioStep(100, result.Summary(), Done: true, ResultJson: SimulationResultJson.RenderWhatIf(result));
        }
        finally
        {
            if (!started)
                slot.Dispose();
        }
    }

    /// <summary>
    /// What the twin knows of a pool, as the planner and the simulation take it: the fleet inventory (inventory grain),
    /// the pool (NOT_FOUND listing the known pools), its hosts and each host's state (host grains, all at once).
    /// </summary>
    private async Task<(FleetInventory Inventory, InventoryPool Pool, IReadOnlyList<InventoryHost> Hosts, HostState[] States)> PoolAsync(string pool, CancellationToken ct)
    {
        var inventory = await grains.GetGrain<IInventoryGrain>(TwinGrainKeys.Fleet).GetInventory().WaitAsync(ct);
        var found = FindPool(inventory, pool);
        var hosts = inventory.HostsOf(found);
        var states = await Task.WhenAll(hosts.Select(h => grains.GetGrain<IHostGrain>(h.Name).GetState())).WaitAsync(ct);
        return (inventory, found, hosts, states);
    }

    /// <summary>The what-if scenario of the pool; bad requests and missing facts as gRPC errors.</summary>
    private async Task<PoolScenario> BuildAsync(string pool, PoolScenarioRequest whatIf, CancellationToken ct)
    {
        var (inventory, found, hosts, states) = await PoolAsync(pool, ct);
        try
        {
            return PoolScenario.From(inventory, found, hosts.Select((h, i) => (h.Name, State: states[i])).ToDictionary(x => x.Name, x => x.State, StringComparer.Ordinal), whatIf);
        }
        catch (PoolScenarioException error)
        {
            throw ApiErrors.InvalidArgument(error.Field, error.Problem);
        }
        catch (PoolFactsMissingException error)
        {
            throw ApiErrors.FailedPrecondition("pool", error.Message);
        }
    }

    /// <summary>A what-if in domain terms; hours and seed are checked here (0 means the default), changes and traffic by the domain.</summary>
    public static PoolScenarioRequest ScenarioRequest(double hours, long seed, PoolTraffic traffic, IReadOnlyList<WhatIfChange> changes)
    {
        if (hours != 0 && (!double.IsFinite(hours) || hours < PoolScenario.MinHours || hours > PoolScenario.MaxHours))
            throw ApiErrors.InvalidArgument("hours", string.Create(CultureInfo.InvariantCulture,
                $"{hours} is out of range: one minute ({PoolScenario.MinHours:0.####}) to {PoolScenario.MaxHours} simulated hours (0 means {PoolScenario.DefaultHours})"));
        if (seed is < int.MinValue or > int.MaxValue)
            throw ApiErrors.InvalidArgument("seed", string.Create(CultureInfo.InvariantCulture, $"{seed} does not fit in 32 bits ({int.MinValue}..{int.MaxValue}; 0 means 1)"));
        return new PoolScenarioRequest
        {
            Hours = hours == 0 ? PoolScenario.DefaultHours : hours,
            Seed = seed == 0 ? 1 : (int)seed,
            Traffic = traffic,
            Changes = changes,
        };
    }

    /// <summary>The pool named in a request, or NOT_FOUND listing the pools the twin knows.</summary>
    private static InventoryPool FindPool(FleetInventory inventory, string pool)
    {
        if (inventory.FindPool(pool) is { } found)
            return found;
        throw ApiErrors.NotFound("pool", RollingPlanner.UnknownPoolMessage(inventory, pool));
    }
}

/// <summary>
/// What-if simulations running in this silo, at most <see cref="Limit"/> at once: a run holds its slot from its call's
/// start until its simulation thread has stopped (not until the call has ended), so a cancelled call can be seen to
/// stop its simulation and a slot is never free while a simulation still uses the core.
/// </summary>
internal sealed class ScenarioRuns
{
    private int _running;

    /// <summary>Half the cores (at least one): the rest stay with ingest and queries.</summary>
    public int Limit { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);

    public int Running => Volatile.Read(ref _running);

    /// <summary>A slot, or null when <see cref="Limit"/> runs are going.</summary>
    public IDisposable? TryStart()
    {
        while (true)
        {
            var running = Volatile.Read(ref _running);
            if (running >= Limit)
                return null;
            if (Interlocked.CompareExchange(ref _running, running + 1, running) == running)
                return new Finished(this);
        }
    }

    private sealed class Finished(ScenarioRuns runs) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
                Interlocked.Decrement(ref runs._running);
        }
    }
}
