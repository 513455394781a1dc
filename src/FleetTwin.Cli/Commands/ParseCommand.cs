using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using FleetTwin.Cli.Options;
using FleetTwin.Cli.Output;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;

namespace FleetTwin.Cli.Commands;

/// <summary>
/// <c>fleettwin parse FILE... [--host NAME] [--year YYYY] [--json]</c>: reads logs and command output offline and
/// prints the twin events they hold; a summary goes to stderr. Exit codes: 0 read, 2 an input could not be read.
/// </summary>
public static class ParseCommand
{
    public const int ExitOk = 0;
    public const int ExitUnreadableInput = 2;

    public static Command Create() => Create(Console.Out, Console.Error, Console.OpenStandardInput);

    /// <summary>The command writing to the given writers (tests run it in-process with StringWriters).</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr, Func<Stream> openStdin)
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "Log or command-output files to read; '-' reads standard input.",
            Arity = ArgumentArity.OneOrMore,
        };
        var host = InputOptions.Host();
        var year = InputOptions.Year();
        var json = new Option<bool>("--json")
        {
            Description = "One JSON object per event on stdout.",
        };
        var command = new Command("parse", "Read kernel logs, syslog/journal exports and command output; print the twin events they hold.");
        command.Arguments.Add(files);
        command.Options.Add(host);
        command.Options.Add(year);
        command.Options.Add(json);
        command.SetAction(parseResult => Run(
            new ParseRequest(parseResult.GetValue(files) ?? [], parseResult.GetValue(host), parseResult.GetValue(year), parseResult.GetValue(json)),
            stdout, stderr, openStdin));
        return command;
    }

    /// <summary>What one run of <c>parse</c> was asked to do.</summary>
    public sealed record ParseRequest(IReadOnlyList<string> Files, string? Host, int? Year, bool Json);

    public static int Run(ParseRequest request, TextWriter stdout, TextWriter stderr, Func<Stream> openStdin)
    {
        if (request.Year is int y && (y < 1970 || y > 9999))
        {
            stderr.WriteLine(Invariant($"fleettwin parse: --year {y} is not a plausible year"));
            return ExitUnreadableInput;
        }
        var sink = new WriterSink(stdout, request.Json);
        var total = new IngestStatistics();
        foreach (var file in request.Files)
        {
            var options = new LogParserOptions { SourceName = file, DefaultHost = request.Host, Year = request.Year };
            try
            {
                var statistics = file == "-"
                    ? ReadStdin(openStdin, sink, options with { ReferenceTime = request.Year is null ? DateTimeOffset.Now : null })
                    : LogReader.ReadFile(file, sink, options);
                total.Add(statistics);
            }
            catch (LogSourceException error)
            {
                stdout.Flush();
                stderr.WriteLine($"fleettwin parse: {error.Message}");
                return ExitUnreadableInput;
            }
        }
        stdout.Flush();
        WriteSummary(stderr, total);
        return ExitOk;
    }

    private static IngestStatistics ReadStdin(Func<Stream> openStdin, ITwinEventSink sink, LogParserOptions options)
    {
        using var stdin = openStdin();
        return LogReader.Read(stdin, sink, options);
    }

    private static void WriteSummary(TextWriter stderr, IngestStatistics s)
    {
        var text = new StringBuilder();
        text.Append(Invariant($"lines read: {s.LinesRead} ({s.Bytes} bytes, {s.Records} records)")).AppendLine();
        text.Append(Invariant($"events: {s.Events}"));
        foreach (var (type, count) in s.EventsByType.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            text.Append(Invariant($"  {type}={count}"));
        }
        text.AppendLine();
        text.Append(Invariant($"informational: {s.Informational}  blank: {s.BlankLines}  unrecognised: {s.Unrecognised}  malformed: {s.Malformed}  lines cut: {s.LinesCut}")).AppendLine();
        foreach (var sample in s.UnrecognisedSamples)
        {
            text.Append(Invariant($"  unrecognised {sample.Source}:{sample.Line}: {sample.Text}")).AppendLine();
        }
        foreach (var sample in s.MalformedSamples)
        {
            text.Append(Invariant($"  malformed {sample.Source}:{sample.Line}: {sample.Reason}: {sample.Text}")).AppendLine();
        }
        if (s.XeRecordsUnclassified + s.XeRecordsNotModelled + s.WrappedLinesJoined > 0)
        {
            text.Append(Invariant($"xe records of unknown class: {s.XeRecordsUnclassified}  of classes not modelled: {s.XeRecordsNotModelled}  wrapped lines joined: {s.WrappedLinesJoined}")).AppendLine();
        }
        foreach (var sample in s.UnclassifiedXeSamples)
        {
            text.Append(Invariant($"  xe record of unknown class {sample.Source}:{sample.Line}: {sample.Text}")).AppendLine();
        }
        stderr.Write(text.ToString());
        stderr.Flush();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The source-generated metadata with the common fields ordered first (<c>type, host, uptime, time</c>) and the
    /// source position last, so every line reads alike whatever its kind; the domain records stay free of JSON attributes.
    /// </summary>
    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        TypeInfoResolver = EventJsonContext.Default.WithAddedModifier(static info =>
        {
            foreach (var property in info.Properties)
            {
                // snake_case splits "XenServer" into two words; the field name is xenserver_release.
                if (property.Name == "xen_server_release")
                {
                    property.Name = "xenserver_release";
                }
                property.Order = property.Name switch
                {
                    "type" => -4,
                    "host" => -3,
                    "uptime" => -2,
                    "time" => -1,
                    "source_file" => 1000,
                    "source_line" => 1001,
                    _ => 0,
                };
            }
        }),
    };

    /// <summary>Writes each event as it arrives (streaming: a large log never sits in memory).</summary>
    private sealed class WriterSink(TextWriter writer, bool json) : ITwinEventSink
    {
        public void Accept(TwinEvent twinEvent)
        {
            writer.WriteLine(json
                ? JsonSerializer.Serialize(twinEvent, twinEvent.GetType(), JsonOptions)
                : EventTextFormatter.Format(twinEvent));
        }
    }
}
