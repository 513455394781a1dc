using System.IO.Pipelines;
using System.Net;
using System.Text;
using System.Threading.Channels;
using FleetTwin.Api.V1;
using FleetTwin.FrontDoors;
using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Ingest;
using Grpc.Core;

namespace FleetTwin.Api.Services;

/// <summary>
/// fleettwin.v1.IngestService: the gRPC front door of the ingest path. Lines go through a pipe into the same
/// <see cref="TwinIngestor"/> (LogParser -> per-host batches on the host streams -> host grains) that
/// <c>fleettwin replay</c> uses; the answer comes once every event has been applied. <c>IngestStream</c> goes through
/// the front doors' live ingest instead and acknowledges each batch once it is handed over (<see cref="LiveBatches"/>).
/// </summary>
internal sealed class IngestGrpcService(IClusterClient client, HostDirectory directory, IServiceProvider services) : IngestService.IngestServiceBase
{
    /// <summary>Batches read ahead of their acks (the server's side of the client's window).</summary>
    public const int MaxBatchesInFlight = 64;

    public const int MaxBatchIdLength = 128;

    private static long s_calls;

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

    public override async Task IngestStream(IAsyncStreamReader<IngestBatch> requestStream, IServerStreamWriter<IngestAck> responseStream, ServerCallContext context)
    {
        var live = services.GetService(typeof(LiveBatches)) as LiveBatches;
        if (live is null || !live.IsRunning)
            throw new RpcException(new Status(StatusCode.Unavailable, "IngestStream: this silo runs no live ingest (its front doors are not configured, or it is starting or stopping)"));
        var peer = PeerAddress(context.Peer);
        var call = Interlocked.Increment(ref s_calls);
        var sources = new HashSet<string>(StringComparer.Ordinal);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var pending = Channel.CreateBounded<(string BatchId, Task<BatchCounts> HandedOver)>(new BoundedChannelOptions(MaxBatchesInFlight) { SingleReader = true, SingleWriter = true });
        var acks = Task.Run(() => AcknowledgeAsync(pending.Reader, responseStream, live, stop), CancellationToken.None);
        RpcException? refused = null;
        try
        {
            var index = 0;
            while (await requestStream.MoveNext(stop.Token))
            {
                index++;
                var batch = requestStream.Current;
                if (Check(batch, index, live.MaxRecordBytes) is { } problem)
                {
                    refused = problem;
                    break;
                }
                var host = batch.HostHint.Length == 0 ? null : batch.HostHint;
                // One parser per call and host hint: a hint is a parser option (the host of records that carry none).
                var source = $"grpc-stream {context.Peer} #{call} {host}";
                sources.Add(source);
                var handedOver = await live.SubmitAsync(Door.GrpcStream, source, host, batch.Lines, peer, stop.Token);
                await pending.Writer.WriteAsync((batch.BatchId, handedOver), stop.Token);
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // The client went away, or an ack failed (its error is the one reported below).
        }
        catch (ChannelClosedException)
        {
            // The acknowledging side failed: its error is reported below.
        }
        finally
        {
            pending.Writer.TryComplete();
            foreach (var source in sources)
                live.EndSource(Door.GrpcStream, source);
        }
        // The acks owed for the batches before a refused one go out first: the client learns exactly what was kept.
        await acks;
        if (refused is not null)
            throw refused;
        context.CancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Writes one ack per batch in order, each once its batch is handed over; a failed hand-over ends the call.</summary>
    private static async Task AcknowledgeAsync(ChannelReader<(string BatchId, Task<BatchCounts> HandedOver)> pending, IServerStreamWriter<IngestAck> output, LiveBatches live, CancellationTokenSource stop)
    {
        try
        {
            await foreach (var (batchId, handedOver) in pending.ReadAllAsync(CancellationToken.None))
            {
                BatchCounts counts;
                try
                {
                    counts = await handedOver.WaitAsync(live.HandOverTimeout, stop.Token);
                }
                catch (TimeoutException)
                {
                    live.Rejected(Door.GrpcStream, RejectReason.HandOverTimeout);
                    throw new RpcException(new Status(StatusCode.Unavailable, $"batch_id '{batchId}': not handed over to the twin within {live.HandOverTimeout.TotalSeconds} s; it stays accepted and will still be applied, but is not acknowledged: send it and the batches after it again (records with a printk uptime or time stamp are recognised when repeated)"));
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    live.Rejected(Door.GrpcStream, RejectReason.HandOverFailed);
                    throw new RpcException(new Status(StatusCode.Unavailable, $"batch_id '{batchId}': not stored ({error.GetBaseException().Message}); send it and the batches after it again"));
                }
                await output.WriteAsync(new IngestAck
                {
                    BatchId = batchId,
                    Accepted = counts.Accepted,
                    Recognised = counts.Recognised,
                    Unrecognised = counts.Unrecognised,
                    Malformed = counts.Malformed,
                }, stop.Token);
            }
        }
        catch
        {
            stop.Cancel(); // stop reading: nothing after the failed batch is acknowledged
            throw;
        }
    }

    private static RpcException? Check(IngestBatch batch, int index, int maxRecordBytes)
    {
        if (batch.BatchId.Length == 0)
            return ApiErrors.InvalidArgument("batch_id", $"message {index} has none: every batch names itself, its ack carries the name");
        if (batch.BatchId.Length > MaxBatchIdLength)
            return ApiErrors.InvalidArgument("batch_id", $"message {index}: {batch.BatchId.Length} characters, at most {MaxBatchIdLength}");
        if (batch.Lines.Count > MaxLinesPerMessage)
            return ApiErrors.ResourceExhausted("lines", $"batch '{batch.BatchId}' holds {batch.Lines.Count} lines, at most {MaxLinesPerMessage} per batch: send smaller batches");
        if (batch.HostHint.Length > 0)
        {
            try
            {
                ApiErrors.CheckName(batch.HostHint, "host_hint");
            }
            catch (RpcException error)
            {
                return new RpcException(new Status(error.StatusCode, $"{error.Status.Detail} (batch '{batch.BatchId}')"));
            }
        }
        for (var i = 0; i < batch.Lines.Count; i++)
        {
            var bytes = Encoding.UTF8.GetByteCount(batch.Lines[i]);
            if (bytes > maxRecordBytes)
                return ApiErrors.InvalidArgument($"lines[{i}]", $"batch '{batch.BatchId}': {bytes} bytes, more than the {maxRecordBytes}-byte record limit (FleetTwin:FrontDoors:MaxRecordBytes)");
        }
        return null;
    }

    /// <summary>The client's address from gRPC's peer string (<c>ipv4:127.0.0.1:5000</c>, <c>ipv6:[::1]:5000</c>), for the per-source rate.</summary>
    private static IPAddress? PeerAddress(string peer)
    {
        var colon = peer.IndexOf(':', StringComparison.Ordinal);
        var end = peer.LastIndexOf(':');
        if (colon < 0 || end <= colon)
            return null;
        return IPAddress.TryParse(peer[(colon + 1)..end].Trim('[', ']'), out var address) ? address : null;
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
