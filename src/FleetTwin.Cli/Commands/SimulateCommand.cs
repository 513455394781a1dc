using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FleetTwin.Api.V1;
using FleetTwin.Cli.Simulation;
using FleetTwin.Domain.Simulation;
using FleetTwin.Twin.Hosting;
using FleetTwin.Twin.Simulation;
using Grpc.Core;
using Microsoft.Extensions.Hosting;

namespace FleetTwin.Cli.Commands;

/// <summary>
/// <c>fleettwin simulate SCENARIO [--seed N] [--out DIR]</c>: a what-if run of a scenario file, once without and once
/// with its interventions (same seeds), printing a progress line and a summary table, and writing JSON/CSV results,
/// SVG charts, kern.log files and an HTML report to DIR.
/// <c>fleettwin simulate --pool P [--change gro=on] [--change HOST:swiotlb=128] [--hours N] [--json]</c>: the same
/// what-if of a pool the running twin knows, run by the twin (PlanService.RunScenario), with its progress on stderr.
/// </summary>
public static class SimulateCommand
{
    public static Command Create(TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var scenario = new Argument<string?>("SCENARIO") { Description = "scenario file (YAML or JSON; see docs/simulation.md); or --pool to ask the running twin", Arity = ArgumentArity.ZeroOrOne };
        var seed = new Option<int?>("--seed") { Description = "random seed (overrides the scenario's; same seed, same results)" };
        var outDir = new Option<string?>("--out") { Description = "directory for results.json, hosts.csv, charts, logs and report.html" };
        var engine = new Option<string?>("--engine") { Description = "override the scenario's engine: fast or exact" };
        engine.AcceptOnlyFromAmong("fast", "exact");
        var quiet = new Option<bool>("--quiet") { Description = "no progress line" };
        var twin = new Option<bool>("--twin") { Description = "run the hosts through an in-process twin's grains (exact allocator grain, host streams); small scenarios" };
        var pool = new Option<string?>("--pool") { Description = "what-if of this pool as the running twin knows it (instead of SCENARIO; see --endpoint)" };
        var change = new Option<string[]>("--change")
        {
            Description = "with --pool: [HOST:]SETTING=VALUE, gro=on|off, mtu=N (the storage bond), swiotlb=MiB; every host of the pool, or HOST only (repeatable)",
        };
        var hours = new Option<double?>("--hours") { Description = "with --pool: simulated hours (default 24, at most 168)" };
        var vmsPerHost = new Option<int?>("--vms-per-host") { Description = "with --pool: VMs on every host (default: each host's resident VMs, else 24)" };
        var storageTx = new Option<double?>("--storage-tx-per-vm") { Description = "with --pool: storage transmit packets/s per VM at the peak (default 20000)" };
        var vmTx = new Option<double?>("--vm-tx-per-vm") { Description = "with --pool: guest network transmit packets/s per VM (default 500)" };
        var json = ApiClient.JsonOption();
        var endpoint = ApiClient.EndpointOption();
        var command = new Command("simulate", "Run a what-if fleet simulation from a scenario file (no servers needed), or of a pool the running twin knows (--pool)")
        {
            scenario, seed, outDir, engine, quiet, twin, pool, change, hours, vmsPerHost, storageTx, vmTx, json, endpoint,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = stdout ?? Console.Out;
            var errors = stderr ?? Console.Error;
            var file = parse.GetValue(scenario);
            // Options of the other form are refused, not ignored: a scenario file says its own hours and traffic.
            string? FirstGiven(params Option[] options) => options.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false })?.Name;
            if (parse.GetValue(pool) is { } poolName)
            {
                if (file is not null)
                {
                    errors.WriteLine($"fleettwin simulate: give a SCENARIO file or --pool, not both ('{file}' and --pool {poolName})");
                    return 2;
                }
                if (FirstGiven(outDir, engine, twin) is { } fileOption)
                {
                    errors.WriteLine($"fleettwin simulate: {fileOption} is for SCENARIO files; with --pool the twin runs the what-if (see --json)");
                    return 2;
                }
                var remote = new RemoteWhatIf(poolName, parse.GetValue(hours), parse.GetValue(seed), parse.GetValue(vmsPerHost), parse.GetValue(storageTx), parse.GetValue(vmTx));
                if (!remote.TakeChanges(parse.GetValue(change) ?? [], out var problem))
                {
                    errors.WriteLine($"fleettwin simulate: {problem}");
                    return 2;
                }
                return await RunOnTwinAsync(endpoint.Read(parse), remote, parse.GetValue(json), parse.GetValue(quiet), output, errors, cancellationToken);
            }
            if (file is null)
            {
                errors.WriteLine("fleettwin simulate: give a SCENARIO file, or --pool P for a what-if of a pool the running twin knows");
                return 2;
            }
            if (FirstGiven(change, hours, vmsPerHost, storageTx, vmTx, json) is { } poolOption)
            {
                errors.WriteLine($"fleettwin simulate: {poolOption} is for --pool (a SCENARIO file says it in the file)");
                return 2;
            }
            Scenario loaded;
            try
            {
                loaded = ScenarioReader.ReadFile(file);
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
    /// <c>--pool</c>: PlanService.RunScenario on the running twin. Progress (the twin sends at most one message per
    /// percent) goes to stderr as one rewritten line; then a per-host table of baseline vs what-if, or the twin's result
    /// JSON with <c>--json</c>. No deadline: a week of a 16-host pool takes minutes; Ctrl-C cancels the twin's run.
    /// </summary>
    private static Task<int> RunOnTwinAsync(ApiConnection endpoint, RemoteWhatIf whatIf, bool json, bool quiet, TextWriter output, TextWriter errors, CancellationToken cancellationToken) =>
        ApiClient.RunAsync("simulate", endpoint, errors, async channel =>
        {
            var client = new PlanService.PlanServiceClient(channel);
            using var call = client.RunScenario(whatIf.Request(), cancellationToken: cancellationToken);
            ScenarioProgress? last = null;
            var first = true;
            await foreach (var message in call.ResponseStream.ReadAllAsync(cancellationToken))
            {
                if (message.Done)
                {
                    last = message;
                    break;
                }
                if (quiet)
                    continue;
                if (first)
                {
                    errors.WriteLine(message.Message); // "scenario built: ..." (hosts, engine, hours, layout, changes)
                    first = false;
                    continue;
                }
                var bar = new string('#', (int)(message.Percent * 30 / 100)).PadRight(30, '.');
                errors.Write(string.Create(CultureInfo.InvariantCulture, $"\r[{bar}] {message.Message}   "));
            }
            if (!quiet)
                errors.WriteLine("\r[" + new string('#', 30) + "] done                 ");
            if (last is null)
            {
                errors.WriteLine("fleettwin simulate: the twin ended the run without results");
                return 1;
            }
            output.Write(json ? last.ResultJson + Environment.NewLine : WhatIfTable(last.ResultJson));
            output.Flush();
            return 0;
        });

    /// <summary>Per host: panics, first panic, exhaustion records and risk, baseline vs what-if; then the summary and the assumptions.</summary>
    public static string WhatIfTable(string resultJson)
    {
        using var document = JsonDocument.Parse(resultJson);
        var root = document.RootElement;
        var baseline = HostsOf(root.GetProperty("baseline"));
        var whatIf = root.TryGetProperty("what_if", out var w) ? HostsOf(w) : null;
        var rows = new List<IReadOnlyList<string>>();
        foreach (var (host, b) in baseline)
        {
            var a = whatIf?.GetValueOrDefault(host);
            rows.Add([
                host,
                b.GetProperty("panics").GetInt32().ToString(CultureInfo.InvariantCulture),
                a is { } x ? x.GetProperty("panics").GetInt32().ToString(CultureInfo.InvariantCulture) : "-",
                FirstPanic(b), a is { } y ? FirstPanic(y) : "-",
                b.GetProperty("exhaustion_events").GetInt64().ToString(CultureInfo.InvariantCulture),
                a is { } z ? z.GetProperty("exhaustion_events").GetInt64().ToString(CultureInfo.InvariantCulture) : "-",
                (b.GetProperty("at_risk").GetBoolean() ? "yes" : "no") + (a is { } r ? (r.GetProperty("at_risk").GetBoolean() ? " -> yes" : " -> no") : ""),
                a is { } c ? string.Join(", ", c.GetProperty("changes").EnumerateArray().Select(l => l.GetString())) : "",
            ]);
        }
        var text = new StringBuilder();
        text.Append(ApiClient.Table(["HOST", "PANICS", "WHAT-IF", "FIRST PANIC", "WHAT-IF", "EXHAUSTION", "WHAT-IF", "AT RISK", "CHANGES"], rows));
        text.AppendLine(root.GetProperty("summary").GetString());
        foreach (var assumption in root.GetProperty("assumptions").EnumerateArray())
            text.AppendLine("  assumed: " + assumption.GetString());
        return text.ToString();
    }

    private static Dictionary<string, JsonElement> HostsOf(JsonElement run) =>
        run.GetProperty("hosts").EnumerateArray().ToDictionary(h => h.GetProperty("host").GetString()!, h => h.Clone(), StringComparer.Ordinal);

    /// <summary>Simulated time of the first panic as h:mm from the start, or "-".</summary>
    private static string FirstPanic(JsonElement host)
    {
        if (host.GetProperty("first_panic_seconds") is not { ValueKind: JsonValueKind.Number } seconds)
            return "-";
        var t = TimeSpan.FromSeconds(seconds.GetDouble());
        return string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}");
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

/// <summary>
/// What <c>simulate --pool</c> asks the twin: the pool, the changes in command-line order (<c>--change
/// [HOST:]SETTING=VALUE</c>; without a host, every host of the pool), hours, seed and traffic. (<c>--host</c> is not
/// used for this: across the CLI it means what it means for <c>parse</c>, the host of records that carry none.)
/// </summary>
internal sealed class RemoteWhatIf(string pool, double? hours, int? seed, int? vmsPerHost, double? storageTx, double? vmTx)
{
    private readonly List<(string? Host, string Setting, string Value)> _changes = [];

    /// <summary>Reads the --change values; the twin checks the settings and values, this only their shape.</summary>
    public bool TakeChanges(IEnumerable<string> changes, out string problem)
    {
        problem = "";
        foreach (var change in changes)
        {
            var equals = change.IndexOf('=', StringComparison.Ordinal);
            var colon = equals < 0 ? -1 : change.LastIndexOf(':', equals);
            var setting = change[(colon + 1)..Math.Max(colon + 1, equals)];
            if (equals < 0 || setting.Length == 0 || colon == 0)
            {
                problem = $"--change '{change}': expected [HOST:]SETTING=VALUE (gro=on, bn2-3c16-ix-4104:swiotlb=128)";
                return false;
            }
            _changes.Add((colon > 0 ? change[..colon] : null, setting, change[(equals + 1)..]));
        }
        return true;
    }

    public RunScenarioRequest Request()
    {
        var request = new RunScenarioRequest { Pool = pool, Hours = hours ?? 0, Seed = seed ?? 0 };
        foreach (var (host, setting, value) in _changes)
            request.Changes.Add(new FleetTwin.Api.V1.SettingChange { Host = host ?? "", Setting = setting, Value = value });
        if (vmsPerHost is not null || storageTx is not null || vmTx is not null)
        {
            request.Traffic = new TrafficOverrides();
            if (vmsPerHost is { } vms)
                request.Traffic.VmsPerHost = vms;
            if (storageTx is { } storage)
                request.Traffic.StorageTxPacketsPerSecondPerVm = storage;
            if (vmTx is { } guests)
                request.Traffic.VmTxPacketsPerSecondPerVm = guests;
        }
        return request;
    }
}
