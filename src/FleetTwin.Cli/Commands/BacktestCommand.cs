using System.CommandLine;
using System.Globalization;
using FleetTwin.Cli.Offline;
using FleetTwin.Cli.Options;
using FleetTwin.Domain.Prediction;
using FleetTwin.Ingest.Reading;

namespace FleetTwin.Cli.Commands;

/// <summary>
/// <c>fleettwin backtest FILE|DIR... [--host NAME] [--year YYYY] [--classes] [--json]</c>: replays logs through the
/// panic predictor and scores it against the panics the logs show. A directory is read with every file under it
/// (in path order). A console log whose records name no host (a crash's dom0.log) takes the host of the syslog file
/// beside it, else its directory's name (<c>HOST/dom0.log</c>); the summary says which. With <c>--classes</c> the
/// score is also given per class, a host's class being the directory above its host directory (CLASS/HOST/files).
/// Exit codes: 0 scored, 2 no input or an input could not be read.
/// </summary>
public static class BacktestCommand
{
    public const int ExitOk = 0;
    public const int ExitBadInput = 2;

    public static Command Create() => Create(Console.Out, Console.Error);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Argument<string[]>("FILE") { Description = "Kernel logs, console logs and xe/ethtool output to replay, or directories of them.", Arity = ArgumentArity.ZeroOrMore };
        var host = InputOptions.Host();
        var year = InputOptions.Year();
        var json = new Option<bool>("--json") { Description = "The score as JSON: panics with lead times, false_alarms, missed_panics, host_days (and classes with --classes)." };
        var classes = new Option<bool>("--classes") { Description = "Score per class too: a host's class is the name of the directory above its host directory (CLASS/HOST/kern.log)." };
        var command = new Command("backtest", "Replay logs through the panic predictor and score it against the panics that really happened.");
        command.Arguments.Add(files);
        command.Options.Add(host);
        command.Options.Add(year);
        command.Options.Add(classes);
        command.Options.Add(json);
        command.SetAction(r => Run(r.GetValue(files) ?? [], r.GetValue(host), r.GetValue(year), r.GetValue(json), stdout, stderr, r.GetValue(classes)));
        return command;
    }

    public static int Run(IReadOnlyList<string> files, string? host, int? year, bool json, TextWriter stdout, TextWriter stderr, bool classes = false)
    {
        if (files.Count == 0)
        {
            stderr.WriteLine("fleettwin backtest: " + OfflineFleet.NoFilesMessage);
            return ExitBadInput;
        }
        if (year is int y && (y < 1970 || y > 9999))
        {
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fleettwin backtest: --year {y} is not a plausible year"));
            return ExitBadInput;
        }
        BacktestInput input;
        try
        {
            input = BacktestInput.Read(BacktestInput.Expand(files), host, year);
        }
        catch (LogSourceException error)
        {
            stderr.WriteLine($"fleettwin backtest: {error.Message}");
            return ExitBadInput;
        }
        var fleet = OfflineFleet.FromEvents(input.Events);
        var report = Backtest.Run(fleet.Events, fleet.ConfigurationOf);
        var byClass = classes ? BacktestClasses.Score(report, input.ClassOf) : null;
        if (json)
        {
            foreach (var note in input.Notes)
                stderr.WriteLine(note);
            stdout.Write(report.ToJson(byClass) + Environment.NewLine);
        }
        else
        {
            foreach (var note in input.Notes)
                stdout.WriteLine(note);
            stdout.Write(report.ToText());
            if (byClass is not null)
                stdout.Write(byClass.ToText());
        }
        stdout.Flush();
        stderr.Flush();
        return ExitOk;
    }
}
