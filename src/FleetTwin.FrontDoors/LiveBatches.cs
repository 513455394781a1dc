using System.Buffers;
using System.Net;
using System.Text;
using Microsoft.Extensions.Options;

namespace FleetTwin.FrontDoors;

/// <summary>What the twin made of one batch once it was handed over (the HTTP doors' answer, per batch).</summary>
public readonly record struct BatchCounts(long Accepted, long Recognised, long Unrecognised, long Malformed);

/// <summary>
/// The live ingest for doors outside this assembly (the gRPC IngestStream): a batch of lines becomes one
/// <see cref="RecordChunk"/> on the same path the syslog, RELP and HTTP doors use, admitted against the same bound
/// and rate, and <see cref="SubmitAsync"/>'s task completes when the chunk's <see cref="RecordChunk.HandedOver"/>
/// does (faults when it faults): the moment a door may acknowledge.
/// </summary>
public sealed class LiveBatches
{
    private readonly LiveIngest _ingest;
    private readonly FrontDoorOptions _options;
    private readonly FrontDoorMetrics _metrics;
    private readonly SourceRateLimiter _limiter;

    public LiveBatches(LiveIngest ingest, IOptions<FrontDoorOptions> options, FrontDoorMetrics metrics, SourceRateLimiter limiter)
    {
        _ingest = ingest;
        _options = options.Value;
        _metrics = metrics;
        _limiter = limiter;
    }

    /// <summary>False before start and after stop.</summary>
    public bool IsRunning => _ingest.IsRunning;

    /// <summary>Largest line (bytes, UTF-8) a batch may hold (FleetTwin:FrontDoors:MaxRecordBytes).</summary>
    public int MaxRecordBytes => _options.MaxRecordBytes;

    /// <summary>How long a door waits for a hand-over before giving up on it (FleetTwin:FrontDoors:HandOverTimeoutSeconds).</summary>
    public TimeSpan HandOverTimeout => TimeSpan.FromSeconds(_options.HandOverTimeoutSeconds);

    /// <summary>
    /// Admits <paramref name="lines"/> (waiting while the twin is behind or the source is over its rate: the caller
    /// stops reading its client meanwhile) and submits them; the returned task completes once they are handed over.
    /// Lines must already be checked against <see cref="MaxRecordBytes"/>. Blank lines are skipped.
    /// </summary>
    public async Task<Task<BatchCounts>> SubmitAsync(string door, string source, string? defaultHost, IReadOnlyList<string> lines, IPAddress? peer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var capacity = 64;
        foreach (var line in lines)
            capacity += line.Length + 1;
        var chunk = new RecordChunk(door, source, defaultHost, capacity);
        var scratch = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            foreach (var line in lines)
            {
                if (string.IsNullOrWhiteSpace(line))
                    continue;
                var needed = Encoding.UTF8.GetMaxByteCount(line.Length);
                if (needed > scratch.Length)
                {
                    ArrayPool<byte>.Shared.Return(scratch);
                    scratch = ArrayPool<byte>.Shared.Rent(needed);
                }
                var length = Encoding.UTF8.GetBytes(line, scratch);
                chunk.Add(scratch.AsSpan(0, length));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
        if (chunk.Records == 0)
        {
            chunk.Release();
            return Task.FromResult(default(BatchCounts));
        }
        var records = chunk.Records;
        try
        {
            var wait = _limiter.Take(peer, records);
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait, cancellationToken);
            await _ingest.AdmitAsync(records, cancellationToken);
        }
        catch
        {
            chunk.Release();
            throw;
        }
        var handedOver = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        chunk.HandedOver = handedOver;
        chunk.Admitted = records;
        _metrics.Accepted(door, records);
        _ingest.Submit(chunk);
        return CountsAsync(handedOver.Task, chunk, records);
    }

    /// <summary>The source has ended (the call is over): its parser completes after its last batch.</summary>
    public void EndSource(string door, string source) => _ingest.EndSource(door, source);

    /// <summary>Counts a refusal on the doors' metric (door and reason), e.g. a batch that failed to hand over.</summary>
    public void Rejected(string door, string reason, long count = 1) => _metrics.Rejected(door, reason, count);

    private static async Task<BatchCounts> CountsAsync(Task handedOver, RecordChunk chunk, int records)
    {
        await handedOver;
        // Set by the ingest's consumer before it completed the hand-over.
        return new BatchCounts(records, chunk.Recognised, chunk.Unrecognised, chunk.Malformed);
    }
}
