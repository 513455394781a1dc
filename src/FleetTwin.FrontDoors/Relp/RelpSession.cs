using System.Text;

namespace FleetTwin.FrontDoors.Relp;

/// <summary>
/// The server side of one RELP session (doc/relp.md, "STATE DIAGRAMS"): <c>open</c> first, then <c>syslog</c> frames
/// whose data goes into the read's <see cref="RecordChunk"/>, then <c>close</c>; TXNRs checked as librelp checks them
/// (src/relpframe.c: each frame's TXNR must be the session's next one, 0 being a hint). For every read it collects the
/// answers owed, in txnr order, as <see cref="RelpAnswerGroup"/>s.
/// </summary>
internal sealed class RelpSession : IRelpFrameSink
{
    private readonly List<RelpAnswerGroup> _answers = [];
    private RecordChunk? _chunk;
    private Task _handedOver = Task.CompletedTask;
    private int _expected = 1;
    private int _recordsFirst;
    private int _recordsCount;

    /// <summary>True once the client's <c>open</c> was answered.</summary>
    public bool Opened { get; private set; }

    /// <summary>True once the client sent <c>close</c>: nothing after it is read.</summary>
    public bool Closed { get; private set; }

    /// <summary>Why the session refused the stream (with <see cref="ErrorReason"/>); null while it is well-behaved.</summary>
    public string? Error { get; private set; }

    public string? ErrorReason { get; private set; }

    /// <summary>Commands answered 500 (not offered), counted by the door.</summary>
    public int UnknownCommands { get; private set; }

    /// <summary>The answers owed for the frames of the current read, in txnr order.</summary>
    public IReadOnlyList<RelpAnswerGroup> Answers => _answers;

    /// <summary>Starts a read: its records go into <paramref name="chunk"/>, answered once <paramref name="handedOver"/> completes.</summary>
    public void Begin(RecordChunk chunk, Task handedOver)
    {
        _answers.Clear();
        _chunk = chunk;
        _handedOver = handedOver;
        _recordsCount = 0;
        UnknownCommands = 0;
    }

    /// <summary>Ends the read: the last run of records joins the answers.</summary>
    public void End()
    {
        FlushRecords();
        _chunk = null;
    }

    public bool OnFrame(int txnr, RelpCommand kind, ReadOnlySpan<byte> command, ReadOnlySpan<byte> data)
    {
        if (txnr == 0)
        {
            // A hint: never answered (doc/relp.md, "Hints are commands that are not being responded").
            if (kind is RelpCommand.Syslog or RelpCommand.Open or RelpCommand.Close)
                return Refuse(RejectReason.RelpMalformedFrame, $"TXNR 0 is reserved for hints; '{Encoding.ASCII.GetString(command)}' is a command");
            return true;
        }
        if (txnr != _expected)
            return Refuse(RejectReason.RelpTxnrOutOfOrder, $"TXNR {txnr} where {_expected} was next (TXNRs increase by one from 1)");
        _expected = RelpFramer.Next(txnr);
        switch (kind)
        {
            case RelpCommand.Syslog:
                if (!Opened)
                    return Refuse(RejectReason.RelpNotOpen, $"TXNR {txnr}: syslog before open");
                // TXNRs are checked consecutive and any other command ends the run: a run is first..first+count-1.
                if (_recordsCount == 0)
                    _recordsFirst = txnr;
                _recordsCount++;
                // An empty message is still a txnr to answer; it adds no record.
                if (!data.IsEmpty)
                    _chunk!.Add(data);
                return true;
            case RelpCommand.Open:
                if (Opened)
                    return Refuse(RejectReason.RelpNotOpen, $"TXNR {txnr}: a second open");
                if (!HasOffer(data, "relp_version"u8))
                    return Refuse(RejectReason.RelpNotOpen, $"TXNR {txnr}: open without a relp_version offer");
                Opened = true;
                Add(new RelpAnswerGroup(txnr, 1, RelpAnswer.Open, Task.CompletedTask));
                return true;
            case RelpCommand.Close:
                Closed = true;
                // Answered after every record before it (the responder keeps the order).
                Add(new RelpAnswerGroup(txnr, 1, RelpAnswer.Close, Task.CompletedTask));
                return false;
            case RelpCommand.Rsp or RelpCommand.ServerClose:
                return Refuse(RejectReason.RelpMalformedFrame, $"TXNR {txnr}: '{Encoding.ASCII.GetString(command)}' is sent by servers, not clients");
            default:
                if (!Opened)
                    return Refuse(RejectReason.RelpNotOpen, $"TXNR {txnr}: '{Encoding.ASCII.GetString(command)}' before open");
                UnknownCommands++;
                Add(new RelpAnswerGroup(txnr, 1, RelpAnswer.Refused, Task.CompletedTask, $"command '{Encoding.ASCII.GetString(command)}' not supported (commands=syslog)"));
                return true;
        }
    }

    /// <summary>True when the open's data holds an offer named <paramref name="name"/> (OFFER = LF FEATURENAME ["=" VALUE]; the first one without the LF).</summary>
    internal static bool HasOffer(ReadOnlySpan<byte> data, ReadOnlySpan<byte> name)
    {
        while (!data.IsEmpty)
        {
            var end = data.IndexOf((byte)'\n');
            var line = end < 0 ? data : data[..end];
            var equals = line.IndexOf((byte)'=');
            if ((equals < 0 ? line : line[..equals]).SequenceEqual(name))
                return true;
            data = end < 0 ? default : data[(end + 1)..];
        }
        return false;
    }

    private void Add(RelpAnswerGroup group)
    {
        FlushRecords();
        _answers.Add(group);
    }

    private void FlushRecords()
    {
        if (_recordsCount == 0)
            return;
        _answers.Add(new RelpAnswerGroup(_recordsFirst, _recordsCount, RelpAnswer.Records, _handedOver));
        _recordsCount = 0;
    }

    private bool Refuse(string reason, string text)
    {
        ErrorReason = reason;
        Error = text;
        return false;
    }
}
