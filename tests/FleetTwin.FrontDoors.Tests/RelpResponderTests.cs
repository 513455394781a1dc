using System.Text;
using FleetTwin.FrontDoors.Relp;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>A RELP session's answers: in txnr order, a record's 200 only once its hand-over completed, 500 when it failed.</summary>
public class RelpResponderTests
{
    /// <summary>What the responder wrote so far (its peer's view of the socket).</summary>
    private sealed class Peer : Stream
    {
        private readonly MemoryStream _written = new();

        public string Text
        {
            get
            {
                lock (_written)
                    return Encoding.ASCII.GetString(_written.ToArray());
            }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (_written)
                _written.Write(buffer, offset, count);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            lock (_written)
                _written.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush() { }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    private static readonly string OpenAnswer = $"1 rsp {RelpResponder.OpenAnswer.Length} {Encoding.ASCII.GetString(RelpResponder.OpenAnswer)}\n";

    [Fact]
    public async Task Records_are_answered_200_only_after_their_hand_over_and_later_txnrs_wait_behind_them()
    {
        var peer = new Peer();
        var responder = new RelpResponder(peer);
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await responder.EnqueueAsync(new RelpAnswerGroup(1, 1, RelpAnswer.Open, Task.CompletedTask), default);
        await responder.EnqueueAsync(new RelpAnswerGroup(2, 3, RelpAnswer.Records, first.Task), default);
        await responder.EnqueueAsync(new RelpAnswerGroup(5, 1, RelpAnswer.Records, Task.CompletedTask), default);

        // The open's answer is written before the responder waits for txnr 2's hand-over: once it is there, nothing
        // else may follow until the hand-over completes.
        await Await.Until("the open's answer", () => peer.Text.Length > 0);
        Assert.Equal(OpenAnswer, peer.Text);

        first.SetResult();
        await Await.Until("the answers to txnrs 2 to 5", () => peer.Text.Contains("5 rsp", StringComparison.Ordinal), () => peer.Text);
        Assert.Equal(OpenAnswer + "2 rsp 6 200 OK\n3 rsp 6 200 OK\n4 rsp 6 200 OK\n5 rsp 6 200 OK\n", peer.Text);

        responder.Complete(serverClose: true);
        await responder.Completion;
        Assert.EndsWith("5 rsp 6 200 OK\n0 serverclose 0\n", peer.Text, StringComparison.Ordinal);
        Assert.Equal(4, responder.Acknowledged);
    }

    [Fact]
    public async Task Records_whose_hand_over_failed_are_answered_500_with_the_reason_and_never_200()
    {
        var peer = new Peer();
        var responder = new RelpResponder(peer);
        await responder.EnqueueAsync(new RelpAnswerGroup(7, 2, RelpAnswer.Records, Task.FromException(new InvalidOperationException("the journal is unavailable\n(redis down)"))), default);
        await responder.EnqueueAsync(new RelpAnswerGroup(9, 1, RelpAnswer.Close, Task.CompletedTask), default);
        responder.Complete(serverClose: true);
        await responder.Completion;
        Assert.Equal("7 rsp 55 500 not stored: the journal is unavailable (redis down)\n8 rsp 55 500 not stored: the journal is unavailable (redis down)\n9 rsp 6 200 OK\n", peer.Text);
        Assert.Equal(2, responder.Failed);
        Assert.Equal(0, responder.Acknowledged);
    }

    [Fact]
    public async Task Answers_wrap_from_txnr_999999999_to_1_and_refusals_keep_their_place()
    {
        var peer = new Peer();
        var responder = new RelpResponder(peer);
        await responder.EnqueueAsync(new RelpAnswerGroup(999_999_998, 3, RelpAnswer.Records, Task.CompletedTask), default);
        await responder.EnqueueAsync(new RelpAnswerGroup(2, 1, RelpAnswer.Refused, Task.CompletedTask, "command 'starttls' not supported (commands=syslog)"), default);
        responder.Complete(serverClose: false);
        await responder.Completion;
        Assert.Equal("999999998 rsp 6 200 OK\n999999999 rsp 6 200 OK\n1 rsp 6 200 OK\n2 rsp 54 500 command 'starttls' not supported (commands=syslog)\n", peer.Text);
    }
}
