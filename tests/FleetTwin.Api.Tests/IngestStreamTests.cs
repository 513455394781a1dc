using System.Globalization;
using FleetTwin.Api.V1;
using FleetTwin.FrontDoors;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace FleetTwin.Api.Tests;

/// <summary>
/// IngestStream: batches in, one ack per batch out, in the order sent, each once its records are handed over by the
/// silo's live ingest (what the HTTP door's 200 waits for), with the HTTP door's counts; bad input ends the call naming
/// the field, after the acks of the batches before it.
/// </summary>
public class IngestStreamTests(KbSiloFixture kb) : IClassFixture<KbSiloFixture>
{
    /// <summary>Console lines of exhaustions at distinct uptimes (no header: the batch's host_hint names the host).</summary>
    internal static IEnumerable<string> Exhaustions(int count, int first = 0) => Enumerable.Range(first, count).Select(i =>
        string.Create(CultureInfo.InvariantCulture, $"<3>[{1000 + i:F6}] PCI-DMA: Out of SW-IOMMU space for {16384 + i} bytes at device 0000:04:00.1"));

    private static IngestBatch Batch(string id, string host, IEnumerable<string> lines) => new() { BatchId = id, HostHint = host, Lines = { lines } };

    private async Task<int> ExhaustionsOf(string host, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                var view = await kb.Silo.Twin.GetHostAsync(new GetHostRequest { Name = host }, deadline: DateTime.UtcNow.AddSeconds(10));
                if (view.ExhaustionEvents >= expected || DateTime.UtcNow > deadline)
                    return (int)view.ExhaustionEvents;
            }
            catch (RpcException error) when (error.StatusCode == StatusCode.NotFound && DateTime.UtcNow <= deadline)
            {
            }
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Every_batch_is_acknowledged_once_in_the_order_sent_with_what_the_twin_made_of_it()
    {
        using var call = kb.Silo.Ingest.IngestStream(deadline: DateTime.UtcNow.AddMinutes(1));
        // Sent without waiting for acks: a window of five batches.
        await call.RequestStream.WriteAsync(Batch("b-1", "stream-a", Exhaustions(100)));
        await call.RequestStream.WriteAsync(Batch("b-2", "stream-a", Exhaustions(50, first: 100).Append("a line the parser does not know")));
        await call.RequestStream.WriteAsync(Batch("b-3", "stream-b", ["", "   "]));
        await call.RequestStream.WriteAsync(Batch("b-4", "stream-b", Exhaustions(7)));
        await call.RequestStream.WriteAsync(Batch("b-5", "stream-a", Exhaustions(1, first: 150)));
        await call.RequestStream.CompleteAsync();

        var acks = new List<IngestAck>();
        await foreach (var ack in call.ResponseStream.ReadAllAsync())
            acks.Add(ack);

        Assert.Equal(
            [
                new IngestAck { BatchId = "b-1", Accepted = 100, Recognised = 100 },
                new IngestAck { BatchId = "b-2", Accepted = 51, Recognised = 50, Unrecognised = 1 },
                new IngestAck { BatchId = "b-3" },
                new IngestAck { BatchId = "b-4", Accepted = 7, Recognised = 7 },
                new IngestAck { BatchId = "b-5", Accepted = 1, Recognised = 1 },
            ], acks);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(151, await ExhaustionsOf("stream-a", 151));
        Assert.Equal(7, await ExhaustionsOf("stream-b", 7));
        Assert.True(kb.Silo.App.Services.GetRequiredService<FrontDoorMetrics>().AcceptedCount(Door.GrpcStream) >= 159);
    }

    [Fact]
    public async Task Bad_input_ends_the_call_naming_the_field_after_the_acks_of_the_batches_before_it()
    {
        async Task<(List<string> Acked, Status Status)> Send(params IngestBatch[] batches)
        {
            using var call = kb.Silo.Ingest.IngestStream(deadline: DateTime.UtcNow.AddMinutes(1));
            var acked = new List<string>();
            try
            {
                foreach (var batch in batches)
                    await call.RequestStream.WriteAsync(batch);
                await call.RequestStream.CompleteAsync();
            }
            catch (RpcException)
            {
                // The server may end the call while batches are still being written: its status is the call's.
            }
            var status = await Rpc.FailureOf(async () =>
            {
                await foreach (var ack in call.ResponseStream.ReadAllAsync())
                    acked.Add(ack.BatchId);
            });
            return (acked, status);
        }

        var noId = await Send(Batch("ok-1", "stream-bad", Exhaustions(2)), Batch("", "stream-bad", Exhaustions(1)), Batch("never", "stream-bad", Exhaustions(1)));
        var tooLong = await Send(Batch("long", "stream-bad", ["<3>fine", new string('x', 70_000)]));
        var host = await Send(Batch("host", "two words", ["x"]));
        var many = await Send(Batch("many", "stream-bad", Enumerable.Repeat("x", 10_001)));

        Assert.Equal(["ok-1"], noId.Acked);
        Assert.Equal(StatusCode.InvalidArgument, noId.Status.StatusCode);
        Assert.Equal("batch_id: message 2 has none: every batch names itself, its ack carries the name", noId.Status.Detail);
        Assert.Empty(tooLong.Acked);
        Assert.Equal(StatusCode.InvalidArgument, tooLong.Status.StatusCode);
        Assert.Equal("lines[1]: batch 'long': 70000 bytes, more than the 65536-byte record limit (FleetTwin:FrontDoors:MaxRecordBytes)", tooLong.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, host.Status.StatusCode);
        Assert.StartsWith("host_hint: 'two words' holds whitespace", host.Status.Detail, StringComparison.Ordinal);
        Assert.EndsWith("(batch 'host')", host.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.ResourceExhausted, many.Status.StatusCode);
        Assert.StartsWith("lines: batch 'many' holds 10001 lines, at most 10000 per batch", many.Status.Detail, StringComparison.Ordinal);
    }
}
