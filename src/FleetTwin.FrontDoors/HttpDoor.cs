using System.Buffers;
using FleetTwin.Twin.Journal;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FleetTwin.FrontDoors;

/// <summary>
/// HTTP doors on the silo's HTTP server. <c>POST {prefix}/ndjson</c>: one JSON object per line with message, host and
/// timestamp fields (names configurable; Vector's <c>http</c> sink with <c>codec: json</c> and newline-delimited
/// framing, Fluent Bit's <c>http</c> output with <c>format json_lines</c>). <c>POST {prefix}/text?host=…</c>: plain log
/// lines of one host. A request is taken whole or not at all: 200 once every record is on its host stream; 400/413
/// naming the offending line; 429 (twin behind, source over its rate) or 503 with Retry-After.
/// </summary>
internal static class HttpDoor
{
    public static async Task<IResult> NdjsonAsync(HttpContext context)
    {
        var door = Services.Of(context);
        var body = await door.ReadBodyAsync(context, Door.HttpNdjson);
        if (body.Error is { } error)
            return error;
        try
        {
            var chunks = new Dictionary<string, RecordChunk>(StringComparer.Ordinal);
            var records = 0;
            var lineNumber = 0;
            var text = new ArrayBufferWriter<byte>(1024);
            foreach (var line in Lines(body.Bytes))
            {
                lineNumber++;
                if (IsBlank(line.Span))
                    continue;
                if (line.Length > door.Options.MaxRecordBytes)
                    return door.Reject(Door.HttpNdjson, RejectReason.RecordTooLarge, 413, $"line {lineNumber}: {line.Length} bytes, more than the {door.Options.MaxRecordBytes}-byte record limit");
                if (!TryReadRecord(line.Span, door.Options, out var message, out var host, out var time, out var problem))
                    return door.Reject(Door.HttpNdjson, problem!.Value.Reason, 400, $"line {lineNumber}: {problem.Value.Text}");
                if (host is not null && !IsValidHost(host))
                    return door.Reject(Door.HttpNdjson, RejectReason.InvalidHost, 400, $"line {lineNumber}: host '{Shorten(host)}' is not a host name");
                var key = host ?? "";
                if (!chunks.TryGetValue(key, out var chunk))
                    chunks[key] = chunk = new RecordChunk(Door.HttpNdjson, $"http-ndjson {key}", host, 4096);
                text.ResetWrittenCount();
                WriteRecord(text, message!, host, time);
                chunk.Add(text.WrittenSpan);
                records++;
            }
            return await door.HandOverAsync(context, Door.HttpNdjson, [.. chunks.Values], records);
        }
        finally
        {
            body.Release();
        }
    }

    public static async Task<IResult> TextAsync(HttpContext context)
    {
        var door = Services.Of(context);
        string? host = context.Request.Query["host"];
        if (string.IsNullOrEmpty(host))
            host = null;
        else if (!IsValidHost(host))
            return door.Reject(Door.HttpText, RejectReason.InvalidHost, 400, $"host parameter '{Shorten(host)}' is not a host name");
        var body = await door.ReadBodyAsync(context, Door.HttpText);
        if (body.Error is { } error)
            return error;
        try
        {
            var chunk = new RecordChunk(Door.HttpText, $"http-text {host}", host, body.Length + 64);
            var lineNumber = 0;
            foreach (var line in Lines(body.Bytes))
            {
                lineNumber++;
                if (line.Length > door.Options.MaxRecordBytes)
                {
                    chunk.Release();
                    return door.Reject(Door.HttpText, RejectReason.RecordTooLarge, 413, $"line {lineNumber}: {line.Length} bytes, more than the {door.Options.MaxRecordBytes}-byte record limit");
                }
                if (!IsBlank(line.Span))
                    chunk.Add(line.Span);
            }
            return await door.HandOverAsync(context, Door.HttpText, [chunk], chunk.Records);
        }
        finally
        {
            body.Release();
        }
    }

    /// <summary>
    /// A message that is a whole log line (its own syslog header, or a console line with its <c>&lt;level&gt;</c>) is
    /// parsed as it is; a bare message (Vector's and Fluent Bit's syslog sources split the header off) is given back its
    /// host and time as an RFC 5424 header, so it reads exactly as if the host had sent it by syslog.
    /// </summary>
    private static void WriteRecord(ArrayBufferWriter<byte> text, string message, string? host, DateTimeOffset? time)
    {
        if (IsWholeLogLine(message))
        {
            Encoding.UTF8.GetBytes(message, text);
            return;
        }
        var header = string.Create(CultureInfo.InvariantCulture,
            $"<13>1 {(time is { } t ? t.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture) : "-")} {host ?? "-"} - - - - ");
        Encoding.UTF8.GetBytes(header, text);
        Encoding.UTF8.GetBytes(message, text);
    }

    private static readonly string[] Months = ["Jan ", "Feb ", "Mar ", "Apr ", "May ", "Jun ", "Jul ", "Aug ", "Sep ", "Oct ", "Nov ", "Dec "];

    private static bool IsWholeLogLine(string message)
    {
        if (message.Length == 0)
            return false;
        if (message[0] == '<' || char.IsAsciiDigit(message[0]))
            return true; // <PRI>…, <level>[uptime] console, ISO-8601 or RFC 6587-counted lines
        foreach (var month in Months)
        {
            if (message.StartsWith(month, StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    internal readonly record struct Problem(string Reason, string Text);

    internal static bool TryReadRecord(ReadOnlySpan<byte> line, FrontDoorOptions options, out string? message, out string? host, out DateTimeOffset? time, out Problem? problem)
    {
        message = host = null;
        time = null;
        problem = null;
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = new Problem(RejectReason.MalformedJson, "not a JSON object");
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isMessage = reader.ValueTextEquals(options.MessageField);
                var isHost = reader.ValueTextEquals(options.HostField);
                var isTime = reader.ValueTextEquals(options.TimestampField);
                reader.Read();
                if (isMessage && reader.TokenType == JsonTokenType.String)
                    message = reader.GetString();
                else if (isHost && reader.TokenType == JsonTokenType.String)
                    host = reader.GetString();
                else if (isTime && reader.TokenType == JsonTokenType.String && DateTimeOffset.TryParse(reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                    time = parsed;
                else if (isTime && reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var epoch) && epoch is > 0 and < 1e11)
                    time = DateTimeOffset.FromUnixTimeMilliseconds((long)(epoch * 1000));
                else
                    reader.Skip();
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                problem = new Problem(RejectReason.MalformedJson, "more than one JSON object on the line");
                return false;
            }
        }
        catch (JsonException error)
        {
            problem = new Problem(RejectReason.MalformedJson, $"not JSON: {error.Message}");
            return false;
        }
        catch (InvalidOperationException error)
        {
            // Utf8JsonReader.GetString throws this (not JsonException) for a string that is not text: invalid UTF-8
            // bytes or a lone UTF-16 surrogate escape (RFC 8259 §8.2 leaves such strings' meaning unpredictable).
            // Found by HostileInputTests: before, the line was answered 500.
            problem = new Problem(RejectReason.MalformedJson, $"a string that is not valid Unicode: {error.Message}");
            return false;
        }
        if (message is null)
        {
            problem = new Problem(RejectReason.MissingField, $"no string field '{options.MessageField}' (FleetTwin:FrontDoors:MessageField)");
            return false;
        }
        return true;
    }

    private static IEnumerable<ReadOnlyMemory<byte>> Lines(ReadOnlyMemory<byte> body)
    {
        while (!body.IsEmpty)
        {
            var end = body.Span.IndexOf((byte)'\n');
            var line = end < 0 ? body : body[..end];
            if (!line.IsEmpty && line.Span[^1] == '\r')
                line = line[..^1];
            yield return line;
            body = end < 0 ? default : body[(end + 1)..];
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.IndexOfAnyExcept((byte)' ', (byte)'\t') < 0;

    /// <summary>RFC 5424 HOSTNAME: 1–255 printable US-ASCII characters, no spaces.</summary>
    private static bool IsValidHost(string host)
    {
        if (host.Length is 0 or > 255)
            return false;
        foreach (var c in host)
        {
            if (c is <= ' ' or > '~')
                return false;
        }
        return true;
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";

    private readonly record struct Body(byte[]? Buffer, int Length, IResult? Error)
    {
        public ReadOnlyMemory<byte> Bytes => Buffer.AsMemory(0, Length);

        public void Release()
        {
            if (Buffer is not null)
                ArrayPool<byte>.Shared.Return(Buffer);
        }
    }

    private sealed class Services(LiveIngest ingest, FrontDoorOptions options, FrontDoorMetrics metrics, SourceRateLimiter limiter)
    {
        public FrontDoorOptions Options => options;

        public static Services Of(HttpContext context)
        {
            var provider = context.RequestServices;
            return new Services(provider.GetRequiredService<LiveIngest>(), provider.GetRequiredService<IOptions<FrontDoorOptions>>().Value,
                provider.GetRequiredService<FrontDoorMetrics>(), provider.GetRequiredService<SourceRateLimiter>());
        }

        /// <summary>Answers <paramref name="status"/> and counts the <paramref name="records"/> turned away (the metric's unit is {record}; a request refused before its records are counted is one).</summary>
        public IResult Reject(string door, string reason, int status, string text, int records = 1)
        {
            metrics.Rejected(door, reason, records);
            return Results.Text($"{door}: {text}\n", "text/plain", Encoding.UTF8, status);
        }

        private IResult Retry(HttpContext context, string door, string reason, int status, string text, int records = 1)
        {
            context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return Reject(door, reason, status, text, records);
        }

        public async Task<Body> ReadBodyAsync(HttpContext context, string door)
        {
            if (!ingest.IsRunning)
                return new Body(null, 0, Retry(context, door, RejectReason.NotRunning, 503, "the twin is starting or stopping"));
            var limit = options.MaxRequestBytes;
            if (context.Request.ContentLength > limit)
                return new Body(null, 0, Reject(door, RejectReason.RequestTooLarge, 413, $"request of {context.Request.ContentLength} bytes, more than the {limit}-byte limit (FleetTwin:FrontDoors:MaxRequestBytes)"));
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
                size.MaxRequestBodySize = (long)limit + 1;
            var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1L, Math.Max(4096, context.Request.ContentLength ?? 65_536)));
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                        break;
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1L, buffer.Length * 2L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await context.Request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted);
                if (read == 0)
                    break;
                length += read;
            }
            if (length > limit)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return new Body(null, 0, Reject(door, RejectReason.RequestTooLarge, 413, $"request of more than the {limit}-byte limit (FleetTwin:FrontDoors:MaxRequestBytes)"));
            }
            return new Body(buffer, length, null);
        }

        public async Task<IResult> HandOverAsync(HttpContext context, string door, RecordChunk[] chunks, int records)
        {
            if (records == 0)
            {
                foreach (var chunk in chunks)
                    chunk.Release();
                return Results.Json(new { accepted = 0, recognised = 0, unrecognised = 0, malformed = 0 });
            }
            var peer = context.Connection.RemoteIpAddress;
            if (!limiter.TryTake(peer, records))
            {
                foreach (var chunk in chunks)
                    chunk.Release();
                return Retry(context, door, RejectReason.RateLimited, 429, $"{peer} is over its {options.MaxRecordsPerSecondPerSource} records/s (FleetTwin:FrontDoors:MaxRecordsPerSecondPerSource)", records);
            }
            if (!ingest.TryAdmit(records))
            {
                foreach (var chunk in chunks)
                    chunk.Release();
                return Retry(context, door, RejectReason.TwinBusy, 429, $"the twin is behind ({ingest.Unpublished} records not yet applied); retry after {options.RetryAfterSeconds} s", records);
            }
            var handed = new Task[chunks.Length];
            for (var i = 0; i < chunks.Length; i++)
            {
                var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                chunks[i].HandedOver = tcs;
                chunks[i].Admitted = chunks[i].Records;
                handed[i] = tcs.Task;
                ingest.Submit(chunks[i]);
            }
            metrics.Accepted(door, records);
            try
            {
                await Task.WhenAll(handed).WaitAsync(TimeSpan.FromSeconds(options.HandOverTimeoutSeconds), context.RequestAborted);
            }
            catch (TimeoutException)
            {
                // The records stay accepted and are applied when the twin catches up; a shipper retries a 503. The twin
                // recognises a record it already has by its printk uptime or time stamp (HostState.RecordFingerprint):
                // two unstamped lines with the same text may be two real events, so those are applied again.
                return Retry(context, door, RejectReason.HandOverTimeout, 503, $"the records were accepted but not handed to the twin within {options.HandOverTimeoutSeconds} s; they will still be applied. A retry is counted once for records with a printk uptime or a time stamp (the twin recognises those it already has); records with neither are applied again");
            }
            catch (JournalUnavailableException error)
            {
                // Not acknowledged: the journal did not take (all of) the request's records. The shipper retries (Vector
                // and Fluent Bit retry a 503); records it already appended are recognised by their uptime or time stamp.
                return Retry(context, door, RejectReason.JournalUnavailable, 503, $"the ingest journal did not take the records, nothing is acknowledged; retry after {options.RetryAfterSeconds} s ({error.Message})", records);
            }
            long recognised = 0, unrecognised = 0, malformed = 0;
            foreach (var chunk in chunks)
            {
                recognised += chunk.Recognised;
                unrecognised += chunk.Unrecognised;
                malformed += chunk.Malformed;
            }
            // As the gRPC Ingest answers: the sender learns which of its records the twin could read.
            return Results.Json(new { accepted = records, recognised, unrecognised, malformed });
        }
    }
}
