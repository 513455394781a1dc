using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FleetTwin.Api.V1;
using FleetTwin.Cli.Connections;
using FleetTwin.Cli.Options;
using FleetTwin.Cli.Output;
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
        var json = OutputOptions.Json();
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
                return await RunThroughApiAsync(endpoint.Read(parse), remote, parse.GetValue(json), parse.GetValue(quiet), output, errors, cancellationToken);
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
                return await RunInProcessTwinAsync(loaded, parse.GetValue(quiet), output, errors, cancellationToken);
            var kind = parse.GetValue(engine) is { } e2 ? Enum.Parse<SimulationEngineKind>(e2, ignoreCase: true) : (SimulationEngineKind?)null;
            return RunFleetSimulation(loaded, parse.GetValue(seed), parse.GetValue(outDir), kind, parse.GetValue(quiet), output, errors);
        });
        return command;
    }

    /// <summary>
    /// <c>--pool</c>: PlanService.RunScenario on the running twin, through its gRPC API. The first progress message
    /// ("scenario built: ...") is a line on stderr; the rest (at most one per percent) drive a progress bar on a
    /// terminal. Then a per-host table of baseline vs what-if, or the twin's result JSON with <c>--json</c>. No
    /// deadline: a week of a 16-host pool takes minutes; Ctrl-C cancels the twin's run.
    /// </summary>
    private static Task<int> RunThroughApiAsync(ApiConnection endpoint, RemoteWhatIf whatIf, bool json, bool quiet, TextWriter output, TextWriter errors, CancellationToken cancellationToken) =>
        ApiClient.RunAsync("simulate", endpoint, errors, async channel =>
        {
            var client = new PlanService.PlanServiceClient(channel);
            using var call = client.RunScenario(whatIf.Request(), cancellationToken: cancellationToken);
            var messages = call.ResponseStream.ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
            await using var _ = messages;
            ScenarioProgress? last = null;
            if (await messages.MoveNextAsync())
            {
                if (messages.Current.Done)
                    last = messages.Current;
                else if (!quiet)
                    errors.WriteLine(messages.Current.Message); // "scenario built: ..." (hosts, engine, hours, layout, changes)
            }
            if (last is null)
            {
                last = await LiveProgress.RunAsync(Terminal.For(errors), quiet, "what-if on the twin", async progress =>
                {
                    while (await messages.MoveNextAsync())
                    {
                        if (messages.Current.Done)
                        {
                            progress.Report(1, "done");
                            return messages.Current;
                        }
                        progress.Report(messages.Current.Percent / 100.0, messages.Current.Message);
                    }
                    return null;
                });
            }
            if (last is null)
            {
                errors.WriteLine("fleettwin simulate: the twin ended the run without results");
                return 1;
            }
            output.Write(json ? last.ResultJson + Environment.NewLine : WhatIfTable(last.ResultJson, Terminal.For(output)));
            output.Flush();
            return 0;
        });

    /// <summary>Per host: panics, first panic, exhaustion records and risk, baseline vs what-if; then the summary and the assumptions.</summary>
    internal static string WhatIfTable(string resultJson, Terminal terminal)
    {
        using var document = JsonDocument.Parse(resultJson);
        var root = document.RootElement;
        var baseline = HostsOf(root.GetProperty("baseline"));
        var whatIf = root.TryGetProperty("what_if", out var w) ? HostsOf(w) : null;
        var table = new TextTable("HOST", "PANICS", "WHAT-IF", "FIRST PANIC", "WHAT-IF", "EXHAUSTION", "WHAT-IF", "AT RISK", "CHANGES")
            .AlignRight("PANICS", "WHAT-IF", "FIRST PANIC", "WHAT-IF", "EXHAUSTION", "WHAT-IF");
        foreach (var (host, b) in baseline)
        {
            var a = whatIf?.GetValueOrDefault(host);
            table.Add(
                host,
                b.GetProperty("panics").GetInt32().ToString(CultureInfo.InvariantCulture),
                a is { } x ? x.GetProperty("panics").GetInt32().ToString(CultureInfo.InvariantCulture) : "-",
                FirstPanic(b), a is { } y ? FirstPanic(y) : "-",
                b.GetProperty("exhaustion_events").GetInt64().ToString(CultureInfo.InvariantCulture),
                a is { } z ? z.GetProperty("exhaustion_events").GetInt64().ToString(CultureInfo.InvariantCulture) : "-",
                AtRisk(b, a, terminal),
                a is { } c ? string.Join(", ", c.GetProperty("changes").EnumerateArray().Select(l => l.GetString())) : "");
        }
        var text = new StringBuilder();
        text.Append(table.Render(terminal));
        text.AppendLine(root.GetProperty("summary").GetString());
        foreach (var assumption in root.GetProperty("assumptions").EnumerateArray())
            text.AppendLine("  assumed: " + assumption.GetString());
        return text.ToString();
    }

    /// <summary>"yes -> no": at risk in the baseline and in the what-if; on a terminal the what-if's answer in red (yes) or green (no).</summary>
    private static Cell AtRisk(JsonElement baseline, JsonElement? whatIf, Terminal terminal)
    {
        var before = baseline.GetProperty("at_risk").GetBoolean();
        if (whatIf is not { } after)
            return new Cell(before ? "yes" : "no", before ? RiskStyle.Critical : RiskStyle.Ok);
        var now = after.GetProperty("at_risk").GetBoolean();
        return new Cell((before ? "yes" : "no") + (now ? " -> yes" : " -> no"), now ? RiskStyle.Critical : RiskStyle.Ok);
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
    private static async Task<int> RunInProcessTwinAsync(Scenario scenario, bool quiet, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"scenario {scenario.Name}: {scenario.HostCount} hosts through an in-process twin (exact allocator grains), {scenario.DurationSeconds / 3600:0.#} simulated hours, seed {scenario.Seed}"));
        var stopwatch = Stopwatch.StartNew();
        using var host = await InProcessTwin.StartAsync(cancellationToken);
        var simulation = new TwinSimulation(host.Client());
        var settled = await LiveProgress.RunAsync(Terminal.For(errors), quiet, "in-process twin", async progress =>
        {
            var results = await simulation.RunAsync(scenario, done => progress.Report(done), cancellationToken);
            progress.Report(1, "settling: waiting for the host grains' assessments");
            var assessed = await simulation.SettleAsync(results, TimeSpan.FromMinutes(2), cancellationToken);
            progress.Report(1, "in-process twin");
            return assessed;
        });
        var table = new TextTable("host", "pool", "panics", "exhaustion", "VM starts", "twin risk", "reason").AlignRight("panics", "exhaustion", "VM starts");
        foreach (var h in settled)
            table.Add(h.Host, h.Pool, TextTable.Number(h.Panics), TextTable.Number(h.Exhaustions), TextTable.Number(h.VmStarts),
                new Cell(h.View.Risk, RiskStyle.Of(h.View.Risk)), h.View.RiskReason ?? "");
        table.Write(Terminal.For(output));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"speed: {scenario.HostCount * scenario.DurationSeconds / stopwatch.Elapsed.TotalSeconds:N0} simulated host-seconds per wall second through the grains ({stopwatch.Elapsed.TotalSeconds:0.0} s)"));
        await host.StopAsync(cancellationToken);
        return 0;
    }

    /// <summary>A scenario file through the fleet simulation engines in this process (no twin): baseline, then with its interventions.</summary>
    private static int RunFleetSimulation(Scenario scenario, int? seed, string? outDir, SimulationEngineKind? engine, bool quiet, TextWriter output, TextWriter errors)
    {
        var effectiveSeed = seed ?? scenario.Seed;
        var cache = new HazardCache(effectiveSeed);
        var runs = scenario.Interventions.Count > 0 ? 2 : 1;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"scenario {scenario.Name}: {scenario.HostCount} hosts in {scenario.Pools.Count} pools, {scenario.DurationSeconds / 86400:0.##} simulated days, seed {effectiveSeed}, {(engine ?? scenario.Engine).ToString().ToLowerInvariant()} engine"));
        var (baseline, with) = LiveProgress.Run(Terminal.For(errors), quiet, "baseline", progress =>
        {
            var run = 0;
            var options = new SimulationOptions
            {
                Seed = effectiveSeed, Engine = engine, Calibrations = cache, KeepRecords = outDir is not null,
                Progress = progress.Drawn ? done => progress.Report((run + Math.Min(1, done)) / runs) : null,
            };
            var baseline = FleetSimulation.Run(scenario, options with { ApplyInterventions = false });
            run = 1;
            progress.Report(1.0 / runs, "with interventions");
            var with = runs == 2 ? FleetSimulation.Run(scenario, options with { ApplyInterventions = true }) : null;
            progress.Report(1, runs == 2 ? "baseline and with interventions" : "baseline");
            return (baseline, with);
        });
        output.Write(SimulationReport.SummaryTable(baseline, with, Terminal.For(output)));
        var hostSeconds = baseline.HostSeconds + (with?.HostSeconds ?? 0);
        var wall = baseline.Wall + (with?.Wall ?? TimeSpan.Zero);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"speed: {hostSeconds / Math.Max(1e-9, wall.TotalSeconds):N0} simulated host-seconds per wall second ({wall.TotalSeconds:0.0} s wall for {runs} run(s) of {hostSeconds / runs:N0} host-seconds each; {cache.Count} configurations calibrated in {cache.CalibrationTime.TotalSeconds:0.0} s of it); peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024)} MiB"));
        if (outDir is not null)
        {
            SimulationReport.WriteAll(outDir, baseline, with, SimulationReport.SummaryTable(baseline, with));
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
