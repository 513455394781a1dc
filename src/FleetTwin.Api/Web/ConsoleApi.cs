using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using FleetTwin.Api.Services;
using FleetTwin.Domain.Planning;
using FleetTwin.Domain.Simulation;
using FleetTwin.Security;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Grains;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Fleet = FleetTwin.Domain.Fleet;

namespace FleetTwin.Api.Web;

/// <summary>
/// The JSON and Server-Sent-Events endpoints the web console (the silo's <c>/</c>) reads, under <c>/api/</c>. They
/// answer from the same places as the gRPC API: this silo's copy of the host index (<see cref="HostDirectory"/>, so a
/// fleet page of 10,000 hosts is a memoised sort and a slice, not 10,000 grain calls), the host grains' details, the
/// shared <see cref="PoolPlanning"/> for plans and what-ifs, and this silo's one alert-stream subscription
/// (<see cref="AlertHub"/>). Documented in docs/console.md.
/// </summary>
public static class ConsoleApi
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    /// <summary>How often the live feed looks at the host index for a change (one shared, memoised look per silo).</summary>
    public static readonly TimeSpan FleetTick = TimeSpan.FromMilliseconds(500);

    /// <summary>How often the live feed says it is alive when nothing changed (the page marks itself stale after three missed).</summary>
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);

    /// <summary>Alerts /api/alerts answers at most (the alert log keeps <see cref="AlertLogLimits.Kept"/>).</summary>
    public const int MaxAlerts = 1000;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static readonly string[] Levels = ["critical", "warning", "latent", "ok", "unknown"];

    /// <summary>Maps <c>/api/*</c>: reads behind the <c>read</c> role, the what-if POST behind <c>plan</c>.</summary>
    public static RouteGroupBuilder MapConsoleApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var api = app.MapGroup("/api").WithMetadata(new DoorName(DoorName.Http));
        api.MapGet("/fleet", FleetAsync).RequireAuthorization(DoorRoles.Read);
        api.MapGet("/hosts/{name}", HostAsync).RequireAuthorization(DoorRoles.Read);
        api.MapGet("/pools/{pool}", PoolAsync).RequireAuthorization(DoorRoles.Read);
        api.MapPost("/pools/{pool}/whatif", WhatIfAsync).RequireAuthorization(DoorRoles.Plan);
        api.MapGet("/alerts", AlertsAsync).RequireAuthorization(DoorRoles.Read);
        api.MapGet("/events", Events).RequireAuthorization(DoorRoles.Read);
        return api;
    }

    // ---- /api/fleet ------------------------------------------------------------------------------------------------

    /// <summary>One page of the fleet, riskiest first, with the counts per level of the pool/driver selection.</summary>
    private static async Task<IResult> FleetAsync(HttpContext http, HostDirectory directory, string? pool, string? level, string? driver, int? page, int? pageSize)
    {
        try
        {
            pool = Optional(pool, "pool");
            driver = Optional(driver, "driver");
            var exact = LevelOf(level);
            var size = pageSize ?? DefaultPageSize;
            if (size is < 1 or > MaxPageSize)
                throw ApiErrors.InvalidArgument("pageSize", $"{size}: must be 1..{MaxPageSize}");
            var number = page ?? 1;
            if (number < 1)
                throw ApiErrors.InvalidArgument("page", $"{number}: pages are numbered from 1");
            var snapshot = await directory.CurrentAsync().WaitAsync(http.RequestAborted);
            var view = FleetSelection.Of(snapshot, pool, driver);
            var rows = exact is { } l ? view.ByLevel[(int)l] : view.Sorted;
            var pages = Math.Max(1, (rows.Length + size - 1) / size);
            var start = Math.Min((number - 1) * size, rows.Length);
            var count = Math.Min(size, rows.Length - start);
            var answer = new FleetPage(
                snapshot.Epoch, snapshot.Version, snapshot.ByName.Count, view.Counts, FleetSelection.PoolsOf(snapshot), FleetSelection.DriversOf(snapshot),
                pool, exact is { } e ? Name(e) : null, driver, rows.Length, number, size, pages,
                [.. rows.AsSpan(start, count).ToArray().Select(Row)]);
            return Results.Json(answer, Json);
        }
        catch (RpcException error)
        {
            return Problem(error);
        }
    }

    internal sealed record FleetPage(
        string? Epoch, long Version, int Hosts, LevelCounts Counts, string[] Pools, string[] Drivers,
        string? Pool, string? Level, string? Driver, int Matching, int Page, int PageSize, int Pages, FleetRow[] Rows);

    internal sealed record LevelCounts(int Critical, int Warning, int Latent, int Ok, int Unknown);

    internal sealed record FleetRow(
        string Name, string? Pool, string Risk, string? RiskReason, double? PanicProbability, long ExhaustionEvents,
        double? ExhaustionRatePerHour, string[] Drivers, bool GroOff, int[] Mtus, string? Release, int Panics, double? LastUptime);

    private static FleetRow Row(HostSummary h) => new(
        h.Name, h.Pool, Name(h.Risk), h.RiskReason, h.PanicProbability, h.ExhaustionEvents, h.ExhaustionRatePerHour,
        h.Drivers, h.GroOff, h.Mtus, h.XenServerRelease, h.Panics, h.LastUptime);

    /// <summary>
    /// A pool/driver selection of one index snapshot, sorted as operators read a fleet (level, then P(panic), then
    /// exhaustions, then name) and split by level: built once per snapshot (<see cref="HostDirectory.Snapshot.Memo"/>),
    /// so the live page's refreshes and every other browser share it until the index changes.
    /// </summary>
    private sealed class FleetSelection
    {
        public required HostSummary[] Sorted { get; init; }
        public required HostSummary[][] ByLevel { get; init; }
        public required LevelCounts Counts { get; init; }

        public static FleetSelection Of(HostDirectory.Snapshot snapshot, string? pool, string? driver) =>
            snapshot.Memo((nameof(FleetSelection), pool, driver), s =>
            {
                var matching = s.Matching(new HostFilter(pool, null, driver, null, null, null));
                var sorted = (HostSummary[])matching.Clone();
                Array.Sort(sorted, Riskiest);
                var byLevel = new HostSummary[(int)Fleet.RiskLevel.Critical + 1][];
                for (var l = 0; l < byLevel.Length; l++)
                    byLevel[l] = Array.FindAll(sorted, h => (int)h.Risk == l);
                return new FleetSelection
                {
                    Sorted = sorted,
                    ByLevel = byLevel,
                    Counts = new LevelCounts(
                        byLevel[(int)Fleet.RiskLevel.Critical].Length, byLevel[(int)Fleet.RiskLevel.Warning].Length,
                        byLevel[(int)Fleet.RiskLevel.Latent].Length, byLevel[(int)Fleet.RiskLevel.Ok].Length, byLevel[(int)Fleet.RiskLevel.Unknown].Length),
                };
            });

        public static string[] PoolsOf(HostDirectory.Snapshot snapshot) =>
            snapshot.Memo("pools", s => s.Sorted.Select(h => h.Pool).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray());

        public static string[] DriversOf(HostDirectory.Snapshot snapshot) =>
            snapshot.Memo("drivers", s => s.Sorted.SelectMany(h => h.Drivers).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray());

        private static int Riskiest(HostSummary a, HostSummary b)
        {
            var c = b.Risk.CompareTo(a.Risk);
            if (c == 0)
                c = (b.PanicProbability ?? -1).CompareTo(a.PanicProbability ?? -1);
            if (c == 0)
                c = b.ExhaustionEvents.CompareTo(a.ExhaustionEvents);
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        }
    }

    // ---- /api/hosts/{name} -----------------------------------------------------------------------------------------

    /// <summary>
    /// A host as its page shows it: the details GetHost answers (the host grain's assembled view: NICs, bonds, bounce
    /// pool), its recent failed mappings (size and uptime, for the timeline against the 32 KiB line) from its state,
    /// and its alerts from this silo's alert feed.
    /// </summary>
    private static async Task<IResult> HostAsync(HttpContext http, HostDirectory directory, AlertFeed alerts, string name)
    {
        try
        {
            ApiErrors.CheckName(name, "name");
            var ct = http.RequestAborted;
            var (summary, snapshot) = await directory.FindAsync(name, ct);
            if (summary is null)
                throw ApiErrors.NotFound("name", $"no host '{name}' in the twin ({snapshot.ByName.Count} hosts known)");
            var grain = directory.Host(name).Grain;
            var details = grain.GetDetails();
            var state = grain.GetState();
            var recent = alerts.LatestAsync(MaxAlerts, host: name);
            await Task.WhenAll(details, state, recent).WaitAsync(ct);
            var v = details.Result.View;
            var failures = state.Result.Exhaustions
                .Select(e => new FailureRow(e.Uptime, e.Time, e.Bytes, e.Device, e.Driver)).ToArray();
            var swiotlb = details.Result.Swiotlb is { PoolSlabs: > 0 } s ? s : null;
            return Results.Json(new HostPage(
                v.Name, v.Pool, v.Uuid, v.XenServerRelease, v.Kernel, v.Boots, Name(summary.Risk), v.RiskReason, summary.PanicProbability,
                summary.ExhaustionRatePerHour, v.ExhaustionEvents, v.LargestFailedMappingBytes, v.FirstExhaustionUptime, v.LastUptime,
                v.SwiotlbMiB, v.MemoryTotalBytes, v.MemoryFreeBytes, v.ResidentVms, v.VmStartEvents, v.Hotfixes, v.Devices,
                OverflowBufferBytes, failures, swiotlb, details.Result.Nics, details.Result.Bonds,
                [.. v.Panics.Select(p => new PanicRow(p.Uptime, p.Time, p.Message, p.Cause, p.Comm, p.Pid, p.Trace))],
                v.VmStarts, recent.Result), Json);
        }
        catch (RpcException error)
        {
            return Problem(error);
        }
    }

    /// <summary>
    /// The 32 KiB a single mapping may be at most before swiotlb_map_page panics on a full pool (IO_TLB_SEGSIZE x
    /// IO_TLB_SHIFT slabs, kernel/dma/swiotlb.c; docs/swiotlb.md): the line on the host timeline.
    /// </summary>
    public const long OverflowBufferBytes = 32 * 1024;

    internal sealed record HostPage(
        string Name, string? Pool, string? Uuid, string? Release, string? Kernel, int Boots, string Risk, string? RiskReason,
        double? PanicProbability, double? ExhaustionRatePerHour, long ExhaustionEvents, long LargestFailedMappingBytes,
        double? FirstExhaustionUptime, double? LastUptime, int? SwiotlbMiB, long? MemoryTotalBytes, long? MemoryFreeBytes,
        int ResidentVms, long VmStartEvents, string[] Hotfixes, DeviceExhaustionView[] Devices, long OverflowBytes,
        FailureRow[] Failures, SwiotlbView? Swiotlb, NicView[] Nics, BondView[] Bonds, PanicRow[] Panics, VmStartView[] VmStarts,
        AlertRow[] Alerts);

    internal sealed record FailureRow(double? Uptime, DateTimeOffset? Time, long Bytes, string Device, string? Driver);

    internal sealed record PanicRow(double? Uptime, DateTimeOffset? Time, string Message, string Cause, string? Comm, int? Pid, string[] Trace);

    // ---- /api/pools/{pool} -----------------------------------------------------------------------------------------

    /// <summary>A pool's hosts (from the index) and its rolling plan (the planner's JSON, text and HTML with the Gantt).</summary>
    private static async Task<IResult> PoolAsync(HttpContext http, HostDirectory directory, PoolPlanning planning, string pool)
    {
        try
        {
            ApiErrors.CheckName(pool, "pool");
            var ct = http.RequestAborted;
            var snapshot = await directory.CurrentAsync().WaitAsync(ct);
            var view = FleetSelection.Of(snapshot, pool, null);
            RollingPlan? plan = null;
            string? planProblem = null;
            try
            {
                plan = (await planning.ProposeAsync(pool, PoolPlanning.PlanOptions(0, 0, false, false), ct)).Plan;
            }
            catch (RpcException error) when (error.StatusCode is StatusCode.NotFound or StatusCode.FailedPrecondition)
            {
                if (view.Sorted.Length == 0)
                    throw;
                planProblem = error.Status.Detail; // hosts the index knows in a pool the inventory has no xe output of
            }
            return Results.Json(new PoolPage(
                pool, view.Counts, [.. view.Sorted.Select(Row)],
                plan is null ? null : JsonDocument.Parse(PlanJson.Render(plan)).RootElement,
                plan is null ? null : PlanText.Render(plan), plan is null ? null : PlanHtml.Render(plan), planProblem,
                PoolScenario.Settings), Json);
        }
        catch (RpcException error)
        {
            return Problem(error);
        }
    }

    internal sealed record PoolPage(
        string Name, LevelCounts Counts, FleetRow[] Hosts, JsonElement? Plan, string? PlanText, string? PlanHtml, string? PlanProblem,
        IReadOnlyList<string> WhatIfSettings);

    // ---- POST /api/pools/{pool}/whatif -----------------------------------------------------------------------------

    /// <summary>The body of a what-if: as RunScenarioRequest, in JSON (0 or absent: the default).</summary>
    public sealed record WhatIfRequest
    {
        public double Hours { get; init; }
        public long Seed { get; init; }
        public int? VmsPerHost { get; init; }
        public WhatIfChange[] Changes { get; init; } = [];
    }

    public sealed record WhatIfChange(string? Host, string? Setting, string? Value);

    /// <summary>
    /// Runs a what-if (RunScenario's work) and streams it as Server-Sent Events: <c>progress</c> events
    /// (<c>{percent, message}</c>), then one <c>result</c> (<c>{message, result}</c>, result being RunScenario's
    /// result_json), or an <c>error</c>. A bad request, an unknown pool or a busy silo answer 4xx before any event.
    /// </summary>
    private static async Task<IResult> WhatIfAsync(HttpContext http, PoolPlanning planning, string pool)
    {
        IAsyncEnumerator<ScenarioStep> run;
        ScenarioStep first;
        try
        {
            ApiErrors.CheckName(pool, "pool");
            WhatIfRequest? body;
            try
            {
                body = await JsonSerializer.DeserializeAsync<WhatIfRequest>(http.Request.Body, Json, http.RequestAborted);
            }
            catch (JsonException error)
            {
                throw ApiErrors.InvalidArgument(error.Path is { Length: > 0 } path ? "body" + path.TrimStart('$') : "body", $"not a what-if request: {error.Message}");
            }
            body ??= new WhatIfRequest();
            var traffic = new PoolTraffic { VmsPerHost = body.VmsPerHost };
            var whatIf = PoolPlanning.ScenarioRequest(body.Hours, body.Seed, traffic,
                [.. body.Changes.Select(c => new SettingChange(string.IsNullOrEmpty(c.Host) ? null : c.Host, c.Setting ?? "", c.Value ?? ""))]);
            // The first step (the scenario built) is taken here, so bad input is a 4xx answer, not an event.
            run = planning.RunScenarioAsync(pool, whatIf, http.RequestAborted).GetAsyncEnumerator(http.RequestAborted);
            try
            {
                await run.MoveNextAsync();
            }
            catch
            {
                await run.DisposeAsync();
                throw;
            }
            first = run.Current;
        }
        catch (RpcException error)
        {
            return Problem(error);
        }
        return TypedResults.ServerSentEvents(WhatIfEvents(run, first));
    }

    private static async IAsyncEnumerable<SseItem<string>> WhatIfEvents(IAsyncEnumerator<ScenarioStep> run, ScenarioStep first)
    {
        await using (run)
        {
            yield return Progress(first);
            while (true)
            {
                SseItem<string> item;
                try
                {
                    if (!await run.MoveNextAsync())
                        yield break;
                    item = Progress(run.Current);
                }
                catch (RpcException error)
                {
                    item = new SseItem<string>(JsonSerializer.Serialize(new { error = error.Status.Detail }, Json), "error");
                }
                yield return item;
                if (item.EventType is "error" or "result")
                    yield break;
            }
        }
    }

    private static SseItem<string> Progress(ScenarioStep step) => step.Done
        ? new SseItem<string>($"{{\"percent\":100,\"message\":{JsonSerializer.Serialize(step.Message, Json)},\"result\":{step.ResultJson ?? "null"}}}", "result")
        : new SseItem<string>(JsonSerializer.Serialize(new { percent = step.Percent, message = step.Message }, Json), "progress");

    // ---- /api/alerts and /api/events -------------------------------------------------------------------------------

    internal sealed record AlertRow(long Sequence, string Host, string? Pool, string Kind, string PreviousRisk, string Risk, string? Reason, string? PanicMessage, DateTimeOffset RaisedAt, double? Uptime)
    {
        public static AlertRow Of(TwinAlert a) => new(a.Sequence, a.Host, a.Pool, a.Kind == AlertKind.Panic ? "panic" : "risk-changed",
            Name(a.PreviousRisk), Name(a.Risk), a.Reason, a.PanicMessage, a.RaisedAt, a.Uptime);
    }

    /// <summary>The latest alerts, newest first (at most <paramref name="limit"/>; of one host or pool when asked).</summary>
    private static async Task<IResult> AlertsAsync(HttpContext http, AlertFeed feed, int? limit, string? host, string? pool)
    {
        try
        {
            var n = limit ?? 100;
            if (n is < 1 or > MaxAlerts)
                throw ApiErrors.InvalidArgument("limit", $"{n}: must be 1..{MaxAlerts}");
            var alerts = await feed.LatestAsync(n, Optional(host, "host"), Optional(pool, "pool")).WaitAsync(http.RequestAborted);
            return Results.Json(new { alerts }, Json);
        }
        catch (RpcException error)
        {
            return Problem(error);
        }
    }

    /// <summary>
    /// The console's live feed: <c>alert</c> events as the alert stream raises them (this silo's one subscription),
    /// <c>fleet</c> events (index version and counts per level) whenever the host index changed, looked at every
    /// <see cref="FleetTick"/>, and at least every <see cref="Heartbeat"/> so a page can tell a quiet fleet from a dead
    /// feed.
    /// </summary>
    private static IResult Events(HttpContext http, HostDirectory directory, AlertHub hub) =>
        TypedResults.ServerSentEvents(LiveEvents(directory, hub, http.RequestAborted));

    private static async IAsyncEnumerable<SseItem<string>> LiveEvents(HostDirectory directory, AlertHub hub, [EnumeratorCancellation] CancellationToken ct)
    {
        var channel = await hub.JoinAsync();
        try
        {
            long? version = null;
            string? epoch = null;
            var lastSent = DateTime.MinValue;
            Task<bool>? waiting = null;
            using var ticks = new PeriodicTimer(FleetTick);
            Task<bool>? tick = null;
            while (!ct.IsCancellationRequested)
            {
                var snapshot = await directory.CurrentAsync().WaitAsync(ct);
                if (snapshot.Version != version || snapshot.Epoch != epoch || DateTime.UtcNow - lastSent >= Heartbeat)
                {
                    version = snapshot.Version;
                    epoch = snapshot.Epoch;
                    lastSent = DateTime.UtcNow;
                    var counts = FleetSelection.Of(snapshot, null, null).Counts;
                    yield return new SseItem<string>(JsonSerializer.Serialize(new { epoch, version, hosts = snapshot.ByName.Count, counts, at = DateTimeOffset.UtcNow }, Json), "fleet");
                }
                while (channel.Reader.TryRead(out var alert))
                    yield return new SseItem<string>(JsonSerializer.Serialize(AlertRow.Of(alert), Json), "alert") { EventId = alert.Sequence.ToString(CultureInfo.InvariantCulture) };
                waiting ??= channel.Reader.WaitToReadAsync(ct).AsTask();
                tick ??= ticks.WaitForNextTickAsync(ct).AsTask();
                var woke = await Task.WhenAny(waiting, tick);
                if (woke == waiting)
                {
                    if (!await waiting)
                        yield break; // the silo is stopping: the browser's EventSource reconnects
                    waiting = null;
                }
                else
                {
                    await tick;
                    tick = null;
                }
            }
        }
        finally
        {
            hub.Leave(channel);
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    internal static string Name(Fleet.RiskLevel level) => level switch
    {
        Fleet.RiskLevel.Critical => "critical",
        Fleet.RiskLevel.Warning => "warning",
        Fleet.RiskLevel.Latent => "latent",
        Fleet.RiskLevel.Ok => "ok",
        _ => "unknown",
    };

    private static Fleet.RiskLevel? LevelOf(string? level)
    {
        if (string.IsNullOrEmpty(level))
            return null;
        return level.ToLowerInvariant() switch
        {
            "critical" => Fleet.RiskLevel.Critical,
            "warning" => Fleet.RiskLevel.Warning,
            "latent" => Fleet.RiskLevel.Latent,
            "ok" => Fleet.RiskLevel.Ok,
            "unknown" => Fleet.RiskLevel.Unknown,
            _ => throw ApiErrors.InvalidArgument("level", $"'{level}' is not a risk level ({string.Join(", ", Levels)})"),
        };
    }

    private static string? Optional(string? value, string field)
    {
        if (string.IsNullOrEmpty(value))
            return null;
        ApiErrors.CheckName(value, field);
        return value;
    }

    /// <summary>A gRPC status as the HTTP answer it means, with the field-naming message as <c>error</c>.</summary>
    private static IResult Problem(RpcException error) => Results.Json(new { error = error.Status.Detail }, Json, statusCode: error.StatusCode switch
    {
        StatusCode.InvalidArgument => StatusCodes.Status400BadRequest,
        StatusCode.NotFound => StatusCodes.Status404NotFound,
        StatusCode.FailedPrecondition => StatusCodes.Status409Conflict,
        StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        StatusCode.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    });

    /// <summary>Registers what the console's endpoints need beyond the gRPC API's services.</summary>
    public static IServiceCollection AddConsoleApi(this IServiceCollection services)
    {
        services.AddSingleton<AlertFeed>();
        return services;
    }
}
