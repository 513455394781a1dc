using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FleetTwin.Cli.Simulation;
using FleetTwin.Domain.Simulation;
using FleetTwin.Twin.Hosting;
using FleetTwin.Twin.Simulation;
using Microsoft.Extensions.Hosting;

namespace FleetTwin.Cli.Commands;

/// <summary>
/// <c>fleettwin simulate SCENARIO [--seed N] [--out DIR]</c>: a what-if run of a scenario file, once without and once
/// with its interventions (same seeds), printing a progress line and a summary table, and writing JSON/CSV results,
/// SVG charts, kern.log files and an HTML report to DIR.
/// </summary>
public static class SimulateCommand
{
    public static Command Create(TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var scenario = new Argument<string>("SCENARIO") { Description = "scenario file (YAML or JSON; see docs/simulation.md)" };
        var seed = new Option<int?>("--seed") { Description = "random seed (overrides the scenario's; same seed, same results)" };
        var outDir = new Option<string?>("--out") { Description = "directory for results.json, hosts.csv, charts, logs and report.html" };
        var engine = new Option<string?>("--engine") { Description = "override the scenario's engine: fast or exact" };
        engine.AcceptOnlyFromAmong("fast", "exact");
        var quiet = new Option<bool>("--quiet") { Description = "no progress line" };
        var twin = new Option<bool>("--twin") { Description = "run the hosts through an in-process twin's grains (exact allocator grain, host streams); small scenarios" };
        var command = new Command("simulate", "Run a what-if fleet simulation from a scenario file (no servers needed)") { scenario, seed, outDir, engine, quiet, twin };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = stdout ?? Console.Out;
            var errors = stderr ?? Console.Error;
            Scenario loaded;
            try
            {
                loaded = ScenarioReader.ReadFile(parse.GetValue(scenario)!);
            }
            catch (ScenarioException e)
            {
                errors.WriteLine($"fleettwin simulate: {e.Message}");
                return 2;
            }
            catch (IOException e)
            {
                errors.WriteLine($"fleettwin simulate: {e.Message}");
                return 2;
            }
            if (parse.GetValue(seed) is { } s)
                loaded = loaded with { Seed = s };
            if (parse.GetValue(twin))
                return await RunInTwinAsync(loaded, parse.GetValue(quiet) || stdout is not null, output, cancellationToken);
            var kind = parse.GetValue(engine) is { } e2 ? Enum.Parse<SimulationEngineKind>(e2, ignoreCase: true) : (SimulationEngineKind?)null;
            return Run(loaded, parse.GetValue(seed), parse.GetValue(outDir), kind, parse.GetValue(quiet) || stdout is not null, output);
        });
        return command;
    }

    /// <summary>
    /// The scenario's hosts through the grains of a private in-process twin (<see cref="InProcessTwin"/>): the exact
    /// allocator runs in each host's SWIOTLB region grain on one-minute demand batches, and the host grains assess the
    /// records they receive on their streams, as for a real fleet.
    /// </summary>
    private static async Task<int> RunInTwinAsync(Scenario scenario, bool quiet, TextWriter output, CancellationToken cancellationToken)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"scenario {scenario.Name}: {scenario.HostCount} hosts through an in-process twin (exact allocator grains), {scenario.DurationSeconds / 3600:0.#} simulated hours, seed {scenario.Seed}"));
        var stopwatch = Stopwatch.StartNew();
        using var host = await InProcessTwin.StartAsync(cancellationToken);
        var simulation = new TwinSimulation(host.Client());
        var lastDraw = Stopwatch.StartNew();
        var results = await simulation.RunAsync(scenario, done =>
        {
            if (quiet || lastDraw.ElapsedMilliseconds < 200)
                return;
            lastDraw.Restart();
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r[{new string('#', (int)(done * 30)).PadRight(30, '.')}] {done:P0} twin   "));
        }, cancellationToken);
        var settled = await simulation.SettleAsync(results, TimeSpan.FromMinutes(2), cancellationToken);
        if (!quiet)
            Console.Error.WriteLine();
        output.WriteLine($"{"host",-24} {"pool",-16} {"panics",7} {"exhaustion",11} {"VM starts",10} {"twin risk",-10} reason");
        foreach (var h in settled)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{h.Host,-24} {h.Pool,-16} {h.Panics,7} {h.Exhaustions,11} {h.VmStarts,10} {h.View.Risk,-10} {h.View.RiskReason}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"speed: {scenario.HostCount * scenario.DurationSeconds / stopwatch.Elapsed.TotalSeconds:N0} simulated host-seconds per wall second through the grains ({stopwatch.Elapsed.TotalSeconds:0.0} s)"));
        await host.StopAsync(cancellationToken);
        return 0;
    }

    private static int Run(Scenario scenario, int? seed, string? outDir, SimulationEngineKind? engine, bool quiet, TextWriter output)
    {
        var effectiveSeed = seed ?? scenario.Seed;
        var cache = new HazardCache(effectiveSeed);
        var runs = scenario.Interventions.Count > 0 ? 2 : 1;
        var run = 0;
        var lastDraw = Stopwatch.StartNew();
        void Progress(double done)
        {
            if (quiet || lastDraw.ElapsedMilliseconds < 200)
                return;
            lastDraw.Restart();
            var total = (run + Math.Min(1, done)) / runs;
            var bar = new string('#', (int)(total * 30)).PadRight(30, '.');
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r[{bar}] {total:P0} {(run == 0 ? "baseline" : "with interventions")}   "));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"scenario {scenario.Name}: {scenario.HostCount} hosts in {scenario.Pools.Count} pools, {scenario.DurationSeconds / 86400:0.##} simulated days, seed {effectiveSeed}, {(engine ?? scenario.Engine).ToString().ToLowerInvariant()} engine"));
        var options = new SimulationOptions { Seed = effectiveSeed, Engine = engine, Calibrations = cache, Progress = Progress, KeepRecords = outDir is not null };
        var baseline = FleetSimulation.Run(scenario, options with { ApplyInterventions = false });
        run = 1;
        SimulationResult? with = runs == 2 ? FleetSimulation.Run(scenario, options with { ApplyInterventions = true }) : null;
        if (!quiet)
            Console.Error.WriteLine("\r[" + new string('#', 30) + "] 100%                          ");
        var summary = SimulationReport.SummaryTable(baseline, with);
        output.Write(summary);
        var hostSeconds = baseline.HostSeconds + (with?.HostSeconds ?? 0);
        var wall = baseline.Wall + (with?.Wall ?? TimeSpan.Zero);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"speed: {hostSeconds / Math.Max(1e-9, wall.TotalSeconds):N0} simulated host-seconds per wall second ({wall.TotalSeconds:0.0} s wall for {runs} run(s) of {hostSeconds / runs:N0} host-seconds each; {cache.Count} configurations calibrated in {cache.CalibrationTime.TotalSeconds:0.0} s of it); peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024)} MiB"));
        if (outDir is not null)
        {
            SimulationReport.WriteAll(outDir, baseline, with, summary);
            output.WriteLine($"wrote {Path.Combine(outDir, "report.html")} (results.json, hosts.csv, panics-per-day.csv, charts, logs/)");
        }
        return 0;
    }
}
