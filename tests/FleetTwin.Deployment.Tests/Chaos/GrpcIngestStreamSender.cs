using FleetTwin.Api.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace FleetTwin.Deployment.Tests.Chaos;

/// <summary>
/// The bidirectional <c>IngestStream</c> (src/FleetTwin.Api/Protos/fleettwin/v1/ingest.proto) as a shipper would use
/// it: <paramref name="streams"/> calls, spread over the silos, each with a window of <paramref name="window"/> batches
/// sent ahead of their acks. A batch counts as acknowledged only when its ack arrives (acks come in the order sent; one
/// naming another batch fails the test). When a stream breaks (its silo killed or stopping, UNAVAILABLE) the call is
/// opened again on another live silo and the batches sent and not acknowledged are sent again first, in order: the
/// twin may already hold some of them (appended, the ack lost with the silo) and applies them once (docs/durability.md,
/// "Exactly-once effect").
/// </summary>
internal sealed class GrpcIngestStreamSender(int streams, int window) : IChaosSender
{
    public string Name => "grpc-ingest-stream";

    /// <summary>Calls opened again after a broken stream, over all streams.</summary>
    public int Reconnects => Volatile.Read(ref _reconnects);

    private int _reconnects;
    private readonly SiloProcess?[] _connected = new SiloProcess?[streams];

    /// <summary>The silo each stream's call is open on now (null between calls and once a stream is done).</summary>
    public IReadOnlyList<SiloProcess?> Connected => _connected;

    public Task RunAsync(ChaosWork work, CancellationToken cancellationToken) =>
        Task.WhenAll(Enumerable.Range(0, streams).Select(i => Task.Run(() => RunStreamAsync(i, work, cancellationToken), cancellationToken)));

    private static IngestBatch Message(ChaosBatch batch) => new() { BatchId = batch.Id, Lines = { batch.Records.Select(r => "<3>" + r.KernLogLine) } };

    private async Task RunStreamAsync(int stream, ChaosWork work, CancellationToken cancellationToken)
    {
        // Sent on some call and not acknowledged, in the order sent; guarded by itself (the ack reader removes from it).
        var unacknowledged = new LinkedList<ChaosBatch>();
        ChaosBatch? held = null; // taken from the work, not yet sent
        SiloProcess? broken = null;
        while (true)
        {
            lock (unacknowledged)
            {
                if (held is null && unacknowledged.Count == 0 && !work.TryTake(out held!))
                    return; // held is null here: every batch taken by this stream was acknowledged
            }
            // The first call of stream i goes to silo i (the streams start spread over the silos), a later one to
            // another live silo than the one whose stream broke.
            var live = work.LiveSilos();
            var silo = broken is null && live.Length > 0 ? live[stream % live.Length] : work.PickSilo(avoid: broken);
            if (silo is null)
            {
                await Task.Delay(100, cancellationToken);
                continue;
            }
            using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{silo.Grpc}");
                using var call = new IngestService.IngestServiceClient(channel).IngestStream(cancellationToken: failed.Token);
                _connected[stream] = silo;
                ChaosBatch[] resend;
                lock (unacknowledged)
                    resend = [.. unacknowledged];
                using var slots = new SemaphoreSlim(window - resend.Length);
                var acks = Task.Run(async () =>
                {
                    try
                    {
                        await foreach (var ack in call.ResponseStream.ReadAllAsync(failed.Token))
                        {
                            ChaosBatch first;
                            lock (unacknowledged)
                            {
                                first = unacknowledged.First?.Value ?? throw new ChaosSenderBug($"ack of '{ack.BatchId}' with no batch outstanding");
                                if (first.Id != ack.BatchId)
                                    throw new ChaosSenderBug($"ack of '{ack.BatchId}' while '{first.Id}' is the oldest outstanding batch");
                                unacknowledged.RemoveFirst();
                            }
                            work.Acknowledge(first);
                            slots.Release();
                        }
                    }
                    finally
                    {
                        failed.Cancel(); // the call ended (or broke): the writer stops too
                    }
                }, CancellationToken.None);
                try
                {
                    foreach (var batch in resend)
                    {
                        work.Attempted();
                        await call.RequestStream.WriteAsync(Message(batch), failed.Token);
                    }
                    while (held is not null || work.TryTake(out held))
                    {
                        await work.WaitDueAsync(held, failed.Token);
                        await slots.WaitAsync(failed.Token);
                        var next = held;
                        lock (unacknowledged)
                            unacknowledged.AddLast(next);
                        held = null;
                        work.Attempted();
                        await call.RequestStream.WriteAsync(Message(next), failed.Token);
                    }
                    await call.RequestStream.CompleteAsync();
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // A write failed (the call broke, or the reader saw it end): the reader's outcome is the one that counts.
                    failed.Cancel();
                }
                await acks;
                _connected[stream] = null;
                if (call.GetStatus().StatusCode == StatusCode.OK && unacknowledged.Count == 0 && held is null)
                    return;
            }
            catch (Exception error) when (error is RpcException or IOException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The stream broke: its silo was killed or is stopping. What it did not acknowledge goes to another one.
            }
            _connected[stream] = null;
            broken = silo;
            Interlocked.Increment(ref _reconnects);
            await Task.Delay(100, cancellationToken);
        }
    }
}

/// <summary>The server or the sender broke the stream's contract (an ack out of order): the test fails, no retry.</summary>
internal sealed class ChaosSenderBug(string message) : Exception(message);
