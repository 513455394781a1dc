using System.IO.Pipelines;
using System.Text;
using FleetTwin.Api.V1;
using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Ingest;
using Grpc.Core;

namespace FleetTwin.Api.Services;

/// <summary>
/// fleettwin.v1.IngestService: the gRPC front door of the ingest path. Lines go through a pipe into the same
/// <see cref="TwinIngestor"/> (LogParser -> per-host batches on the host streams -> host grains) that
/// <c>fleettwin replay</c> uses; the answer comes once every event has been applied.
/// </summary>
internal sealed class IngestGrpcService(IClusterClient client, HostDirectory directory) : IngestService.IngestServiceBase
{
    /// <summary>Lines in one IngestRequest; bytes are bounded by the server's 4 MiB message limit.</summary>
    public const int MaxLinesPerMessage = 10_000;

    /// <summary>How long the answer waits for the host twins to apply what was sent, when the call has no deadline.</summary>
    public static readonly TimeSpan DefaultApplyWait = TimeSpan.FromMinutes(2);

    /// <summary>Format hints: the parser recognises the format of each record itself; a hint is checked, echoed and advisory.</summary>
    public static readonly string[] FormatHints = ["auto", "syslog", "rfc3164", "rfc5424", "journal", "dmesg", "console", "command"];

    public override async Task<IngestResponse> Ingest(IAsyncStreamReader<IngestRequest> requestStream, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        if (!await requestStream.MoveNext(ct))
            return new IngestResponse { FormatHint = "auto", Applied = true };
        var first = requestStream.Current;
        var format = first.FormatHint.Length == 0 ? "auto" : first.FormatHint;
        if (Array.IndexOf(FormatHints, format) < 0)
            throw ApiErrors.InvalidArgument("format_hint", $"'{first.FormatHint}' is not one of {string.Join(", ", FormatHints)}");
        if (first.HostHint.Length > 0)
            ApiErrors.CheckName(first.HostHint, "host_hint");
        if (first.Year != 0 && first.Year is < 1990 or > 2200)
            throw ApiErrors.InvalidArgument("year", $"{first.Year}: a syslog year is 1990..2200 (0: the current year)");
        if (first.SourceName.Length > 255)
            throw ApiErrors.InvalidArgument("source_name", $"{first.SourceName.Length} characters, at most 255");
        var options = new LogParserOptions
        {
            SourceName = first.SourceName.Length == 0 ? "grpc" : first.SourceName,
            DefaultHost = first.HostHint.Length == 0 ? null : first.HostHint,
            Year = first.Year == 0 ? null : first.Year,
            ReferenceTime = first.Year == 0 ? DateTimeOffset.UtcNow : null,
        };

        var ingestor = new TwinIngestor(client);
        var pipe = new Pipe();
        var reading = Task.Run(async () =>
        {
            await using var input = pipe.Reader.AsStream();
            return await ingestor.IngestAsync(input, options, cancellationToken: ct);
        }, ct);
        try
        {
            var message = first;
            var index = 1;
            while (true)
            {
                Check(message, first, index);
                foreach (var line in message.Lines)
                {
                    var span = pipe.Writer.GetSpan(Encoding.UTF8.GetMaxByteCount(line.Length) + 1);
                    var n = Encoding.UTF8.GetBytes(line, span);
                    span[n] = (byte)'\n';
                    pipe.Writer.Advance(n + 1);
                }
                var flushed = await pipe.Writer.FlushAsync(ct);
                if (flushed.IsCompleted || !await requestStream.MoveNext(ct))
                    break;
                message = requestStream.Current;
                index++;
            }
            await pipe.Writer.CompleteAsync();
        }
        catch (Exception error)
        {
            await pipe.Writer.CompleteAsync(error);
            try { await reading; } catch (Exception) { /* the request's own error is the one to report */ }
            throw;
        }

        var stats = await reading;
        var wait = context.Deadline == DateTime.MaxValue ? DefaultApplyWait : context.Deadline - DateTime.UtcNow;
        var applied = true;
        try
        {
            await ingestor.WaitUntilAppliedAsync(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, ct);
        }
        catch (TimeoutException) when (context.Deadline == DateTime.MaxValue)
        {
            applied = false;
        }
        // Read your writes: a client told "applied" lists and gets the hosts as they now are, not this silo's index
        // copy of up to 25 ms ago (whose older revisions would also serve the hosts' previous GetHost answers).
        if (stats.Events > 0)
            directory.Invalidate();

        var response = new IngestResponse
        {
            LinesAccepted = stats.LinesRead,
            LinesRecognised = stats.EventRecords + stats.Informational,
            LinesRejected = stats.Unrecognised + stats.Malformed,
            LinesBlank = stats.BlankLines,
            Events = stats.Events,
            EventsWithoutHost = ingestor.EventsWithoutHost,
            FormatHint = format,
            Applied = applied,
        };
        foreach (var (host, count) in ingestor.PublishedByHost)
            response.EventsByHost[host] = count;
        foreach (var sample in stats.UnrecognisedSamples.Concat(stats.MalformedSamples))
            response.RejectedSamples.Add(new RejectedLine { Source = sample.Source, Line = sample.Line, Text = sample.Text, Reason = sample.Reason ?? "unrecognised" });
        return response;
    }

    private static void Check(IngestRequest message, IngestRequest first, int index)
    {
        if (message.Lines.Count > MaxLinesPerMessage)
            throw ApiErrors.ResourceExhausted("lines", $"message {index} holds {message.Lines.Count} lines, at most {MaxLinesPerMessage} per message: send smaller batches");
        if (index == 1)
            return;
        if (message.HostHint.Length > 0 && message.HostHint != first.HostHint)
            throw ApiErrors.InvalidArgument("host_hint", $"message {index} changes it from '{first.HostHint}' to '{message.HostHint}': hints are set by the first message (open another call for another host)");
        if (message.FormatHint.Length > 0 && message.FormatHint != first.FormatHint)
            throw ApiErrors.InvalidArgument("format_hint", $"message {index} changes it: hints are set by the first message");
    }
}
