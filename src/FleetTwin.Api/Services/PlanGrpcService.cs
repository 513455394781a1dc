using FleetTwin.Api.V1;
using FleetTwin.Domain.Planning;
using FleetTwin.Domain.Prediction;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Grains;
using Grpc.Core;

namespace FleetTwin.Api.Services;

/// <summary>
/// fleettwin.v1.PlanService. ProposePlan runs the domain's <see cref="RollingPlanner"/> on the twin's fleet inventory
/// (the inventory grain) and each pool host's prediction from its host grain's state — the same inputs the offline
/// <c>fleettwin plan FILE...</c> builds from files. RunScenario answers UNIMPLEMENTED: the simulation runs from scenario
/// files (<c>fleettwin simulate</c>); building a scenario from a pool the twin knows (its traffic is not in any log) is
/// not done yet.
/// </summary>
internal sealed class PlanGrpcService(IGrainFactory grains) : PlanService.PlanServiceBase
{
    public const int MaxDownLimit = 64;

    public override async Task<ProposePlanResponse> ProposePlan(ProposePlanRequest request, ServerCallContext context)
    {
        var pool = ApiErrors.RequireName(request.Pool, "pool");
        if (request.MaxDown is < 0 or > MaxDownLimit)
            throw ApiErrors.InvalidArgument("max_down", $"{request.MaxDown}: hosts down at once is 1..{MaxDownLimit} (0 means 1)");
        var ct = context.CancellationToken;
        var inventory = await grains.GetGrain<IInventoryGrain>(InventoryGrain.Key).GetInventory().WaitAsync(ct);
        var found = inventory.FindPool(pool);
        if (found is null)
        {
            var known = inventory.Pools.Values.Select(p => p.Name ?? p.Uuid).Order(StringComparer.Ordinal).ToList();
            throw ApiErrors.NotFound("pool", $"unknown pool '{pool}' ({(known.Count == 0 ? "the twin has read no xe pool-list output" : "pools the twin knows: " + string.Join(", ", known))})");
        }
        var hosts = inventory.HostsOf(found);
        var states = await Task.WhenAll(hosts.Select(h => grains.GetGrain<IHostGrain>(h.Name).GetState())).WaitAsync(ct);
        var predictions = new Dictionary<string, PanicPrediction>(StringComparer.Ordinal);
        for (var i = 0; i < hosts.Count; i++)
            predictions[hosts[i].Name] = PanicPredictor.Assess(states[i], HostConfiguration.From(inventory, hosts[i]));
        var plan = RollingPlanner.Plan(inventory, pool, predictions,
            new RollingPlanOptions { MaxDown = request.MaxDown == 0 ? 1 : request.MaxDown, IncludeSwiotlbDelay = request.SwiotlbDelay });
        var response = new ProposePlanResponse
        {
            Pool = pool,
            Complete = plan.Complete,
            Text = PlanText.Render(plan),
            Json = PlanJson.Render(plan),
            Script = PlanScript.Render(plan),
            Hosts = hosts.Count,
        };
        response.Undecided.AddRange(plan.Undecided);
        return response;
    }

    public override Task RunScenario(RunScenarioRequest request, IServerStreamWriter<ScenarioProgress> responseStream, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented,
            "RunScenario: what-if simulation of a pool from the twin is not served yet (the twin does not yet build a scenario from a pool's inventory); run `fleettwin simulate SCENARIO` locally (docs/simulation.md)"));
}
