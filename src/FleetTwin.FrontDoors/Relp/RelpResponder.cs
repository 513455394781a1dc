using System.Buffers;
using System.Text;
using System.Threading.Channels;

namespace FleetTwin.FrontDoors.Relp;

/// <summary>What a run of consecutive txnrs is answered with.</summary>
internal enum RelpAnswer
{
    /// <summary><c>syslog</c> frames: <c>200 OK</c> once <see cref="RelpAnswerGroup.HandedOver"/> has completed, <c>500</c> when it faulted.</summary>
    Records,
    /// <summary>The <c>open</c>: <c>200 OK</c> with the server's offers.</summary>
    Open,
    /// <summary>The <c>close</c>: <c>200 OK</c>, after which the session ends.</summary>
    Close,
    /// <summary>A command refused: <c>500</c> with <see cref="RelpAnswerGroup.Text"/>.</summary>
    Refused,
}

/// <summary>
/// Consecutive txnrs answered alike: one group per socket read for the records (their chunk's hand-over), one each for
/// open, close and a refused command. A group is a few words, whatever its txnr count, so a full window costs nothing.
/// </summary>
internal readonly record struct RelpAnswerGroup(int FirstTxnr, int Count, RelpAnswer Answer, Task HandedOver, string? Text = null);

/// <summary>
/// Writes a RELP session's <c>rsp</c> frames, in txnr order (doc/relp.md: "Responses must be sent by the server in the
/// exact same order as commands where received"), each only once what it answers is settled: a record's <c>200 OK</c>
/// after its chunk was handed over, so the reader keeps reading while earlier txnrs wait (the client's window is the
/// pipeline). Answers that are ready together go out in one write. The queue is bounded: a client that sends without
/// reading its answers stops being read.
/// </summary>
internal sealed class RelpResponder
{
    /// <summary>The server's offers in the open's answer (doc/relp.md "OFFERS"; relp_version 0 as librelp speaks it, RELP_CURR_PROTOCOL_VERSION).</summary>
    internal static readonly byte[] OpenAnswer = Encoding.ASCII.GetBytes("200 OK\nrelp_version=0\nrelp_software=FleetTwin\ncommands=syslog");

    private static readonly byte[] Ok = "200 OK"u8.ToArray();

    /// <summary>The shutdown hint: txnr 0, no data (doc/relp.md, "Hint Command serverclose").</summary>
    internal static readonly byte[] ServerCloseHint = "0 serverclose 0\n"u8.ToArray();

    /// <summary>Longest human message in an answer: librelp reads at most 80 characters of it (src/scrsp.c, HUMAN-TEXT = *80).</summary>
    private const int MaxHumanText = 80;

    /// <summary>Written once this much is waiting, without waiting for more answers to coalesce.</summary>
    private const int FlushBytes = 32 * 1024;

    private readonly Stream _output;
    private readonly Channel<RelpAnswerGroup> _groups;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private bool _serverClose;

    public RelpResponder(Stream output, int capacity = 1024)
    {
        _output = output;
        _groups = Channel.CreateBounded<RelpAnswerGroup>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        Completion = Task.Run(WriteAsync);
    }

    /// <summary>Ends once every queued answer is written (or writing failed: the peer went away).</summary>
    public Task Completion { get; }

    /// <summary>Records answered 500 because their hand-over failed.</summary>
    public long Failed { get; private set; }

    /// <summary>Records answered 200.</summary>
    public long Acknowledged { get; private set; }

    /// <summary>Queues an answer; waits while the queue is full (the client is not reading its answers).</summary>
    public ValueTask EnqueueAsync(RelpAnswerGroup group, CancellationToken cancellationToken) => _groups.Writer.WriteAsync(group, cancellationToken);

    /// <summary>No more answers: the writer drains the queue, then sends the <c>serverclose</c> hint if asked.</summary>
    public void Complete(bool serverClose)
    {
        _serverClose = serverClose;
        _groups.Writer.TryComplete();
    }

    private async Task WriteAsync()
    {
        var reader = _groups.Reader;
        try
        {
            while (await reader.WaitToReadAsync())
            {
                while (reader.TryRead(out var group))
                {
                    if (!group.HandedOver.IsCompleted)
                    {
                        // Nothing after this group may go first: write what is ready, then wait for it.
                        await FlushAsync();
                        try
                        {
                            await group.HandedOver;
                        }
                        catch (Exception)
                        {
                            // Observed below through the task's state.
                        }
                    }
                    Format(group);
                    if (_buffer.WrittenCount >= FlushBytes)
                        await FlushAsync();
                    if (group.Answer == RelpAnswer.Close)
                    {
                        _serverClose = false; // the client asked: it gets its answer and the close, no hint
                        await FlushAsync();
                        return;
                    }
                }
                await FlushAsync();
            }
            if (_serverClose)
            {
                _buffer.Write(ServerCloseHint);
                await FlushAsync();
            }
        }
        catch (Exception error) when (error is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The peer went away: what it did not get an answer for, it sends again on its next session.
            _groups.Writer.TryComplete();
        }
    }

    private void Format(in RelpAnswerGroup group)
    {
        switch (group.Answer)
        {
            case RelpAnswer.Open:
                WriteFrame(group.FirstTxnr, OpenAnswer);
                return;
            case RelpAnswer.Close:
                WriteFrame(group.FirstTxnr, Ok);
                return;
            case RelpAnswer.Refused:
                WriteError(group.FirstTxnr, group.Count, group.Text ?? "refused");
                return;
        }
        if (group.HandedOver.IsCompletedSuccessfully)
        {
            var txnr = group.FirstTxnr;
            for (var i = 0; i < group.Count; i++, txnr = RelpFramer.Next(txnr))
                WriteFrame(txnr, Ok);
            Acknowledged += group.Count;
            return;
        }
        // Not durable: every record of the group is refused, so the client keeps and resends them (librelp treats a
        // non-200 answer as an error of its session and retransmits what was not acknowledged).
        var reason = group.HandedOver.Exception?.GetBaseException().Message ?? "the hand-over was cancelled";
        WriteError(group.FirstTxnr, group.Count, "not stored: " + reason);
        Failed += group.Count;
    }

    private void WriteError(int firstTxnr, int count, string text)
    {
        Span<byte> human = stackalloc byte[4 + MaxHumanText];
        "500 "u8.CopyTo(human);
        var length = 4;
        foreach (var c in text)
        {
            if (length == human.Length)
                break;
            // HUMANMSG = *OCTET without LF; kept to printable ASCII.
            human[length++] = c is >= ' ' and <= '~' ? (byte)c : (byte)' ';
        }
        var txnr = firstTxnr;
        for (var i = 0; i < count; i++, txnr = RelpFramer.Next(txnr))
            WriteFrame(txnr, human[..length]);
    }

    /// <summary><c>TXNR SP "rsp" SP DATALEN SP DATA LF</c>.</summary>
    private void WriteFrame(int txnr, ReadOnlySpan<byte> data)
    {
        var span = _buffer.GetSpan(9 + 5 + 10 + 1 + data.Length + 1);
        txnr.TryFormat(span, out var n, provider: System.Globalization.CultureInfo.InvariantCulture);
        " rsp "u8.CopyTo(span[n..]);
        n += 5;
        data.Length.TryFormat(span[n..], out var m, provider: System.Globalization.CultureInfo.InvariantCulture);
        n += m;
        if (data.Length > 0)
        {
            span[n++] = (byte)' ';
            data.CopyTo(span[n..]);
            n += data.Length;
        }
        span[n++] = (byte)'\n';
        _buffer.Advance(n);
    }

    private async ValueTask FlushAsync()
    {
        if (_buffer.WrittenCount == 0)
            return;
        await _output.WriteAsync(_buffer.WrittenMemory);
        await _output.FlushAsync();
        _buffer.ResetWrittenCount();
    }
}
