using System.CommandLine;
using System.Globalization;
using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Hosting;
using FleetTwin.Twin.Ingest;

namespace FleetTwin.Cli.Commands;

/// <summary>
/// <c>fleettwin replay FILE... [--host NAME] [--year YYYY] [--speed N|--as-fast-as-possible]</c>: pushes log files into
/// a running twin through the ingest path (parser -> host streams -> grains), showing progress on stderr.
/// </summary>
public static class ReplayCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("FILE") { Description = "Log or command-output files; '-' reads standard input", Arity = ArgumentArity.OneOrMore };
        var host = InputOptions.Host();
        var year = InputOptions.Year();
        var speed = new Option<double?>("--speed") { Description = "Replay at N times the log's own pace (e.g. 60: an hour of log per minute)" };
        var fast = new Option<bool>("--as-fast-as-possible") { Description = "Replay without pacing (the default)" };
        var gateway = TwinConnection.GatewayPort();
        var redis = TwinConnection.Redis();
        var command = new Command("replay", "Push log files into a running twin through its ingest path")
        {
            files, host, year, speed, fast, gateway, redis,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(speed) is { } s && (s <= 0 || parse.GetValue(fast)))
            {
                Console.Error.WriteLine("fleettwin replay: --speed must be positive and cannot be combined with --as-fast-as-possible");
                return 2;
            }
            try
            {
                using var twin = await TwinConnection.ConnectAsync(parse.GetValue(gateway), parse.GetValue(redis), cancellationToken);
                var ingestor = new TwinIngestor(twin.Client(), speed: parse.GetValue(speed));
                var options = new LogParserOptions { DefaultHost = parse.GetValue(host), Year = parse.GetValue(year) };
                var progress = new Progress<(string File, long Bytes, long Total)>(p =>
                    Console.Error.Write(p.Total > 0
                        ? string.Create(CultureInfo.InvariantCulture, $"\r{p.File}: {p.Bytes * 100 / Math.Max(1, p.Total),3}% ({p.Bytes / 1024} of {p.Total / 1024} KiB)   ")
                        : string.Create(CultureInfo.InvariantCulture, $"\r{p.File}: {p.Bytes / 1024} KiB   ")));
                var report = await ingestor.IngestFilesAsync(parse.GetValue(files)!, options, progress, cancellationToken);
                Console.Error.WriteLine();
                await ingestor.WaitUntilAppliedAsync(TimeSpan.FromMinutes(5), cancellationToken);
                foreach (var (name, count) in report.EventsByHost.OrderBy(h => h.Key, StringComparer.Ordinal))
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {count} events applied"));
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"replayed {report.Files.Sum(f => f.LinesRead)} lines, {report.EventsByHost.Values.Sum()} events to {report.EventsByHost.Count} hosts in {report.Batches} batches"));
                if (report.EventsWithoutHost > 0)
                    Console.Error.WriteLine($"fleettwin replay: {report.EventsWithoutHost} events named no host and were not sent; pass --host NAME");
                return report.EventsWithoutHost > 0 ? 1 : 0;
            }
            catch (Exception error) when (error is LogSourceException or TwinUnreachableException or TimeoutException)
            {
                Console.Error.WriteLine($"fleettwin replay: {error.Message}");
                return 2;
            }
        });
        return command;
    }
}
