using System.CommandLine;
using System.Globalization;
using FleetTwin.Domain.Prediction;
using FleetTwin.Ingest.Reading;

namespace FleetTwin.Cli;

/// <summary>
/// <c>fleettwin backtest FILE... [--host NAME] [--year YYYY] [--json]</c>: replays logs through the panic predictor
/// and scores it against the panics the logs show. Exit codes: 0 scored, 2 no input or an input could not be read.
/// </summary>
public static class BacktestCommand
{
    public const int ExitOk = 0;
    public const int ExitBadInput = 2;

    public static Command Create() => Create(Console.Out, Console.Error);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Argument<string[]>("FILE") { Description = "Kernel logs, console logs and xe/ethtool output to replay.", Arity = ArgumentArity.ZeroOrMore };
        var host = InputOptions.Host();
        var year = InputOptions.Year();
        var json = new Option<bool>("--json") { Description = "The score as JSON: panics with lead times, false_alarms, missed_panics, host_days." };
        var command = new Command("backtest", "Replay logs through the panic predictor and score it against the panics that really happened.");
        command.Arguments.Add(files);
        command.Options.Add(host);
        command.Options.Add(year);
        command.Options.Add(json);
        command.SetAction(r => Run(r.GetValue(files) ?? [], r.GetValue(host), r.GetValue(year), r.GetValue(json), stdout, stderr));
        return command;
    }

    public static int Run(IReadOnlyList<string> files, string? host, int? year, bool json, TextWriter stdout, TextWriter stderr)
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
        OfflineFleet fleet;
        try
        {
            fleet = OfflineFleet.Read(files, host, year);
        }
        catch (LogSourceException error)
        {
            stderr.WriteLine($"fleettwin backtest: {error.Message}");
            return ExitBadInput;
        }
        var report = Backtest.Run(fleet.Events, fleet.ConfigurationOf);
        stdout.Write(json ? report.ToJson() + Environment.NewLine : report.ToText());
        stdout.Flush();
        return ExitOk;
    }
}
