using System.CommandLine;
using System.Globalization;
using System.Text;
using FleetTwin.Api.V1;
using FleetTwin.Cli.Connections;
using FleetTwin.Cli.Options;
using FleetTwin.Cli.Output;
using Google.Protobuf;

namespace FleetTwin.Cli.Commands;

/// <summary>
/// <c>fleettwin ingest FILE... [--host NAME] [--year YYYY] [--format auto] [--json]</c>: sends log files to the running
/// twin over gRPC (IngestService), one call per file, with progress on stderr; rejected lines are listed (samples) on
/// stderr; exit 1 when events named no host or were not applied in time.
/// </summary>
public static class IngestCommand
{
    /// <summary>Lines per IngestRequest (the server takes up to 10,000).</summary>
    public const int LinesPerMessage = 2000;

    public static Command Create() => Create(Console.Out, Console.Error);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Argument<string[]>("FILE") { Description = "Log or command-output files; '-' reads standard input", Arity = ArgumentArity.OneOrMore };
        var host = InputOptions.Host();
        var year = InputOptions.Year();
        var format = new Option<string>("--format") { Description = "Format hint (advisory: each record's format is recognised)", DefaultValueFactory = _ => "auto" };
        var json = OutputOptions.Json();
        var endpoint = ApiClient.EndpointOption();
        var command = new Command("ingest", "Send log files to the running twin over gRPC (parser -> host streams -> grains)") { files, host, year, format, json, endpoint };
        command.SetAction((parse, ct) => ApiClient.RunAsync("ingest", endpoint.Read(parse), stderr, async channel =>
        {
            var client = new IngestService.IngestServiceClient(channel);
            var worst = 0;
            foreach (var path in parse.GetValue(files)!)
            {
                Stream input;
                long total = -1;
                try
                {
                    input = path == "-" ? Console.OpenStandardInput() : File.OpenRead(path);
                    if (path != "-") total = input.Length;
                }
                catch (Exception error) when (error is IOException or UnauthorizedAccessException)
                {
                    throw new ArgumentException($"cannot read '{path}': {error.Message}");
                }
                var fileYear = parse.GetValue(year) ?? (path == "-" ? 0 : File.GetLastWriteTimeUtc(path).Year);
                using var reader = new StreamReader(input, Encoding.UTF8);
                using var call = client.Ingest(cancellationToken: ct);
                var message = new IngestRequest { HostHint = parse.GetValue(host) ?? "", FormatHint = parse.GetValue(format)!, SourceName = path, Year = fileYear };
                // A bar for a file of known size (not stdin), on a terminal only.
                var response = await LiveProgress.RunAsync(Terminal.For(stderr), quiet: total <= 0, path, async progress =>
                {
                    string? line;
                    while ((line = await reader.ReadLineAsync(ct)) is not null)
                    {
                        message.Lines.Add(line);
                        if (message.Lines.Count == LinesPerMessage)
                        {
                            await call.RequestStream.WriteAsync(message, ct);
                            message = new IngestRequest();
                            progress.Report((double)input.Position / Math.Max(1, total));
                        }
                    }
                    if (message.Lines.Count > 0 || message.SourceName.Length > 0)
                        await call.RequestStream.WriteAsync(message, ct);
                    await call.RequestStream.CompleteAsync();
                    progress.Report(1, $"{path}: sent, waiting for the twin to apply it");
                    var answer = await call;
                    progress.Report(1, path);
                    return answer;
                });
                if (parse.GetValue(json))
                {
                    stdout.WriteLine(JsonFormatter.Default.Format(response));
                }
                else
                {
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{path}: {response.LinesAccepted} lines accepted, {response.LinesRecognised} recognised, {response.LinesRejected} rejected, {response.LinesBlank} blank; {response.Events} events"));
                    foreach (var (name, events) in response.EventsByHost.OrderBy(h => h.Key, StringComparer.Ordinal))
                        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: {events} events applied"));
                    foreach (var sample in response.RejectedSamples)
                        stderr.WriteLine($"  rejected {sample.Source}:{sample.Line}: {sample.Reason}: {sample.Text}");
                }
                if (response.EventsWithoutHost > 0)
                    stderr.WriteLine($"fleettwin ingest: {path}: {response.EventsWithoutHost} events named no host and were not sent; pass --host NAME");
                if (!response.Applied)
                    stderr.WriteLine($"fleettwin ingest: {path}: sent, but the twin had not applied all of it when it answered");
                if (response.EventsWithoutHost > 0 || !response.Applied)
                    worst = 1;
            }
            return worst;
        }));
        return command;
    }
}
