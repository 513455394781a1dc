using System.CommandLine;
using System.Globalization;
using FleetTwin.Cli.Connections;
using FleetTwin.Cli.Options;
using FleetTwin.Cli.Output;
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
    public static Command Create() => Create(Console.Out, Console.Error);

    public static Command Create(TextWriter stdout, TextWriter stderr)
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
                stderr.WriteLine("fleettwin replay: --speed must be positive and cannot be combined with --as-fast-as-possible");
                return 2;
            }
            try
            {
                using var twin = await TwinConnection.ConnectAsync(parse.GetValue(gateway), parse.GetValue(redis), cancellationToken);
                var ingestor = new TwinIngestor(twin.Client(), speed: parse.GetValue(speed));
                var options = new LogParserOptions { DefaultHost = parse.GetValue(host), Year = parse.GetValue(year) };
                var report = await LiveProgress.RunAsync(Terminal.For(stderr), quiet: false, "replay", async line =>
                {
                    var progress = new ImmediateProgress<(string File, long Bytes, long Total)>(p => line.Report(
                        p.Total > 0 ? (double)p.Bytes / p.Total : 0,
                        p.Total > 0
                            ? string.Create(CultureInfo.InvariantCulture, $"{p.File} ({p.Bytes / 1024} of {p.Total / 1024} KiB)")
                            : string.Create(CultureInfo.InvariantCulture, $"{p.File} ({p.Bytes / 1024} KiB)")));
                    var sent = await ingestor.IngestFilesAsync(parse.GetValue(files)!, options, progress, cancellationToken);
                    line.Report(1, "sent; waiting until the hosts have applied it");
                    await ingestor.WaitUntilAppliedAsync(TimeSpan.FromMinutes(5), cancellationToken);
                    line.Report(1, "applied");
                    return sent;
                });
                foreach (var (name, count) in report.EventsByHost.OrderBy(h => h.Key, StringComparer.Ordinal))
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {count} events applied"));
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"replayed {report.Files.Sum(f => f.LinesRead)} lines, {report.EventsByHost.Values.Sum()} events to {report.EventsByHost.Count} hosts in {report.Batches} batches"));
                if (report.EventsWithoutHost > 0)
                    stderr.WriteLine($"fleettwin replay: {report.EventsWithoutHost} events named no host and were not sent; pass --host NAME");
                return report.EventsWithoutHost > 0 ? 1 : 0;
            }
            catch (Exception error) when (error is LogSourceException or TwinUnreachableException or TimeoutException)
            {
                stderr.WriteLine($"fleettwin replay: {error.Message}");
                return 2;
            }
        });
        return command;
    }
}
