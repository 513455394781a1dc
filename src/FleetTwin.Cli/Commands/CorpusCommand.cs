using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FleetTwin.Cli.Output;
using FleetTwin.Domain.Simulation;

namespace FleetTwin.Cli.Commands;

/// <summary>
/// <c>fleettwin corpus --out DIR [--seed N] [--engine exact|fast] [--scale X] [--days D]</c>: writes the fleet backtest corpus
/// (docs/prediction.md, "Fleet backtest corpus") as DIR/CLASS/HOST/kern.log and DIR/CLASS/HOST/config.txt, ready for
/// <c>fleettwin backtest --classes DIR</c>, and prints per class the hosts, host-days, failures and panics written.
/// Same seed, engine and scale: the same bytes. Exit codes: 0 written, 2 bad arguments or an unwritable DIR.
/// </summary>
public static class CorpusCommand
{
    public static Command Create() => Create(Console.Out, Console.Error);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var outDir = new Option<string>("--out") { Description = "Directory to write CLASS/HOST/kern.log and config.txt into.", Required = true };
        var seed = new Option<int>("--seed") { Description = "Random seed (same seed, same bytes).", DefaultValueFactory = _ => 1 };
        var engine = new Option<string>("--engine") { Description = "Engine of the simulated classes: exact (default: the allocator second by second, its failures and panics the ground truth; ~25 min at scale 1 on 2 cores) or fast (seconds; an approximation that disagrees with the allocator at these traffic levels).", DefaultValueFactory = _ => "exact" };
        engine.AcceptOnlyFromAmong("fast", "exact");
        var scale = new Option<double>("--scale") { Description = "Multiplies every class's host count (1: ~1,100 host-days).", DefaultValueFactory = _ => 1.0 };
        var days = new Option<double>("--days") { Description = "Simulated days per host (the exact ramps run at most 3).", DefaultValueFactory = _ => 7.0 };
        var quiet = new Option<bool>("--quiet") { Description = "No progress line." };
        var command = new Command("corpus", "Write the fleet backtest corpus: simulated and hand-written hosts per class, each with its kern.log and configuration.")
        {
            outDir, seed, engine, scale, days, quiet,
        };
        command.SetAction(r => Run(r.GetValue(outDir)!, r.GetValue(seed), Enum.Parse<SimulationEngineKind>(r.GetValue(engine)!, ignoreCase: true),
            r.GetValue(scale), r.GetValue(days), r.GetValue(quiet), stdout, stderr));
        return command;
    }

    public static int Run(string outDir, int seed, SimulationEngineKind engine, double scale, double days, bool quiet, TextWriter stdout, TextWriter stderr)
    {
        if (!(scale > 0 && scale <= 100))
        {
            stderr.WriteLine(Invariant($"fleettwin corpus: --scale {scale} is out of range (0 < X <= 100)"));
            return 2;
        }
        if (!(days > 0 && days <= 60))
        {
            stderr.WriteLine(Invariant($"fleettwin corpus: --days {days} is out of range (0 < D <= 60)"));
            return 2;
        }
        var stopwatch = Stopwatch.StartNew();
        var engineName = engine.ToString().ToLowerInvariant();
        var hosts = LiveProgress.Run(Terminal.For(stderr), quiet, $"simulated classes ({engineName} engine)", progress => BacktestCorpus.Generate(new CorpusOptions
        {
            Seed = seed,
            Engine = engine,
            Scale = scale,
            Days = days,
            Progress = progress.Drawn ? done => progress.Report(done) : null,
        }));
        try
        {
            foreach (var host in hosts)
            {
                var dir = Path.Combine(outDir, host.Class, host.Host);
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, "kern.log"), host.KernLog);
                File.WriteAllText(Path.Combine(dir, "config.txt"), host.Transcript);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"fleettwin corpus: {e.Message}");
            return 2;
        }
        var table = new TextTable("CLASS", "HOSTS", "DAYS", "FAILURES", "PANICS", "WHAT").AlignRight("HOSTS", "DAYS", "FAILURES", "PANICS");
        foreach (var cls in BacktestCorpus.Classes)
        {
            var of = hosts.Where(h => h.Class == cls.Name).ToList();
            table.Add(cls.Name, TextTable.Number(of.Count), Invariant($"{of.Sum(h => h.Days):0.0}"), TextTable.Number(of.Sum(h => h.Failures)), TextTable.Number(of.Sum(h => h.Panics)),
                (!cls.Simulated ? "hand-written: " : cls.AlwaysExact ? "exact engine: " : engineName + " engine: ") + cls.What);
        }
        table.Add("(all)", TextTable.Number(hosts.Count), Invariant($"{hosts.Sum(h => h.Days):0.0}"), TextTable.Number(hosts.Sum(h => h.Failures)), TextTable.Number(hosts.Sum(h => h.Panics)), "");
        table.Write(Terminal.For(stdout));
        stdout.WriteLine(Invariant($"wrote {hosts.Count} hosts to {outDir} in {stopwatch.Elapsed.TotalSeconds:0.0} s (seed {seed}, scale {scale}, {days} days, {engineName} engine); score it with: fleettwin backtest --classes {outDir}"));
        stdout.Flush();
        return 0;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
