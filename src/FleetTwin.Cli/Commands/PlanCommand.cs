using System.CommandLine;
using FleetTwin.Cli.Connections;
using FleetTwin.Cli.Offline;
using FleetTwin.Cli.Options;
using FleetTwin.Domain.Fleet;
using FleetTwin.Domain.Planning;
using FleetTwin.Ingest.Reading;

namespace FleetTwin.Cli.Commands;

/// <summary>
/// <c>fleettwin plan --pool NAME [--max-down K] [--format text|json|script|html] [--swiotlb-delay] [--shutdown-pinned] [--migration-gbps G] FILE...</c>: builds an
/// in-process twin from the files and prints the pool's rolling GRO plan. Exit codes: 0 complete plan, 2 bad input,
/// 3 unknown pool, 4 plan printed but incomplete (hosts blocked or undecided: the plan says why).
/// </summary>
public static class PlanCommand
{
    public const int ExitOk = 0;
    public const int ExitBadInput = 2;
    public const int ExitUnknownPool = 3;
    public const int ExitIncomplete = 4;

    public static Command Create() => Create(Console.Out, Console.Error);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Argument<string[]>("FILE") { Description = "Logs and xe/ethtool output (a transcript from the pool master); none: ask the running twin (--endpoint).", Arity = ArgumentArity.ZeroOrMore };
        var pool = new Option<string>("--pool") { Description = "Pool name-label (or uuid).", Required = true };
        var maxDown = new Option<int>("--max-down") { Description = "Hosts down at once (the pool master always alone).", DefaultValueFactory = _ => 1 };
        var format = new Option<string>("--format") { Description = "text, json or script (bash for the pool master, dry-run unless --apply).", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json", "script", "html");
        var delay = new Option<bool>("--swiotlb-delay") { Description = "Add swiotlb=128 on hosts with a smaller pool: a delay, not a fix." };
        var shutdownPinned = new Option<bool>("--shutdown-pinned") { Description = "Shut down VMs that cannot live-migrate (PCI passthrough, blocked migration) for their host's reboot instead of blocking it." };
        var gbps = new Option<double>("--migration-gbps") { Description = "Live-migration throughput for the ETA, Gbit/s.", DefaultValueFactory = _ => 10 };
        var host = InputOptions.Host();
        var year = InputOptions.Year();
        var endpoint = ApiClient.EndpointOption();
        var command = new Command("plan", "Plan the rolling GRO change of a pool: per PIF commands, prerequisites, evacuation, reboot order, verification.");
        command.Arguments.Add(files);
        command.Options.Add(pool);
        command.Options.Add(maxDown);
        command.Options.Add(format);
        command.Options.Add(delay);
        command.Options.Add(shutdownPinned);
        command.Options.Add(gbps);
        command.Options.Add(host);
        command.Options.Add(year);
        foreach (var option in endpoint.All)
            command.Options.Add(option);
        command.SetAction((r, ct) => r.GetValue(files) is not { Length: > 0 }
            ? RunThroughApiAsync(endpoint.Read(r), r.GetValue(pool)!, r.GetValue(maxDown), r.GetValue(format) ?? "text", r.GetValue(delay), r.GetValue(shutdownPinned), r.GetValue(gbps), stdout, stderr, ct)
            : Task.FromResult(Run(r.GetValue(files) ?? [], r.GetValue(pool)!, r.GetValue(format) ?? "text",
                new RollingPlanOptions { MaxDown = r.GetValue(maxDown), IncludeSwiotlbDelay = r.GetValue(delay), ShutdownPinned = r.GetValue(shutdownPinned), MigrationGbps = r.GetValue(gbps) },
                r.GetValue(host), r.GetValue(year), stdout, stderr)));
        return command;
    }

    /// <summary>Without FILE: asks the running twin through its gRPC API (PlanService.ProposePlan) for the pool's plan. Same output and exit codes.</summary>
    internal static async Task<int> RunThroughApiAsync(ApiConnection endpoint, string pool, int maxDown, string format, bool swiotlbDelay, bool shutdownPinned, double migrationGbps,
        TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (maxDown < 1)
        {
            stderr.WriteLine($"fleettwin plan: --max-down {maxDown}: at least one host must be allowed down");
            return ExitBadInput;
        }
        return await ApiClient.RunAsync("plan", endpoint, stderr, async channel =>
        {
            var client = new FleetTwin.Api.V1.PlanService.PlanServiceClient(channel);
            var plan = await client.ProposePlanAsync(new FleetTwin.Api.V1.ProposePlanRequest { Pool = pool, MaxDown = maxDown, SwiotlbDelay = swiotlbDelay, ShutdownPinned = shutdownPinned, MigrationGbps = migrationGbps },
                deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: cancellationToken);
            stdout.Write(format switch
            {
                "json" => plan.Json + Environment.NewLine,
                "script" => plan.Script,
                "html" => plan.Html,
                _ => plan.Text,
            });
            stdout.Flush();
            return plan.Complete ? ExitOk : ExitIncomplete;
        });
    }

    /// <summary>The plan in the asked format (text, json, script or html).</summary>
    public static string Render(RollingPlan plan, string format) => format switch
    {
        "json" => PlanJson.Render(plan) + Environment.NewLine,
        "script" => PlanScript.Render(plan),
        "html" => PlanHtml.Render(plan),
        _ => PlanText.Render(plan),
    };

    public static int Run(IReadOnlyList<string> files, string pool, int maxDown, string format, bool swiotlbDelay, string? host, int? year,
        TextWriter stdout, TextWriter stderr) =>
        Run(files, pool, format, new RollingPlanOptions { MaxDown = maxDown, IncludeSwiotlbDelay = swiotlbDelay }, host, year, stdout, stderr);

    public static int Run(IReadOnlyList<string> files, string pool, string format, RollingPlanOptions options, string? host, int? year,
        TextWriter stdout, TextWriter stderr)
    {
        var maxDown = options.MaxDown;
        if (maxDown < 1)
        {
            stderr.WriteLine($"fleettwin plan: --max-down {maxDown}: at least one host must be allowed down");
            return ExitBadInput;
        }
        if (!(options.MigrationGbps > 0))
        {
            stderr.WriteLine($"fleettwin plan: --migration-gbps {options.MigrationGbps}: must be above 0");
            return ExitBadInput;
        }
        OfflineFleet fleet;
        try
        {
            fleet = OfflineFleet.Read(files, host, year);
        }
        catch (LogSourceException error)
        {
            stderr.WriteLine($"fleettwin plan: {error.Message}");
            return ExitBadInput;
        }
        // xe output given together must describe one pool (one pool-list, its master and every host a PIF or VM names in
        // its host-list): a plan made from output of two pools would place VMs on hosts they cannot reach.
        var inconsistencies = XeConsistency.Check(fleet.Events);
        if (inconsistencies.Count > 0)
        {
            stderr.WriteLine($"fleettwin plan: the xe files do not describe one consistent pool ({inconsistencies.Count} inconsistenc{(inconsistencies.Count == 1 ? "y" : "ies")}):");
            foreach (var problem in inconsistencies)
                stderr.WriteLine("  " + problem);
            return ExitBadInput;
        }
        if (fleet.Inventory.FindPool(pool) is null)
        {
            stderr.WriteLine("fleettwin plan: " + RollingPlanner.UnknownPoolMessage(fleet.Inventory, pool));
            return ExitUnknownPool;
        }
        var plan = RollingPlanner.Plan(fleet.Inventory, pool, fleet.Predict(), options);
        stdout.Write(Render(plan, format));
        stdout.Flush();
        return plan.Complete ? ExitOk : ExitIncomplete;
    }
}
