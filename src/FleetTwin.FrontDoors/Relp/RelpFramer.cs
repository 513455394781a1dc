namespace FleetTwin.FrontDoors.Relp;

/// <summary>The RELP commands the door knows (librelp doc/relp.md, "COMMAND SEMANTICS").</summary>
internal enum RelpCommand
{
    /// <summary>Any other command word (<c>starttls</c>, <c>abort</c>, a future verb): answered <c>500</c>.</summary>
    Other,
    Open,
    Syslog,
    Close,
    /// <summary>A response: only the server sends one; a client sending it is a protocol error.</summary>
    Rsp,
    /// <summary>The server's shutdown hint (txnr 0): only the server sends one.</summary>
    ServerClose,
}

/// <summary>Receives the frames a <see cref="RelpFramer"/> completes, in the order they arrived.</summary>
internal interface IRelpFrameSink
{
    /// <summary>
    /// One whole frame. <paramref name="data"/> is only valid during the call (it points into the read buffer or the
    /// framer's carry buffer). <paramref name="command"/> is the verb as sent (for the answer to an unknown one).
    /// Returns false to stop reading (the session closes: a <c>close</c>, or a frame the session refuses).
    /// </summary>
    bool OnFrame(int txnr, RelpCommand kind, ReadOnlySpan<byte> command, ReadOnlySpan<byte> data);
}

/// <summary>
/// Splits a RELP byte stream into frames, as librelp's receiver does (src/relpframe.c,
/// <c>relpFrameProcessOctetRcvd</c>) against the grammar of doc/relp.md:
/// <code>
/// RELP-FRAME = HEADER DATA TRAILER
/// HEADER     = TXNR SP COMMAND SP DATALEN
/// DATA       = [SP 1*OCTET]        ; absent when DATALEN is 0
/// TRAILER    = LF
/// TXNR, DATALEN = 1*9DIGIT; COMMAND = 1*32ALPHA
/// </code>
/// Frames may span reads and many frames may come in one read (a client pipelines up to its window). A frame whose data
/// lies whole in the read is handed over as a slice of it; only a frame cut by a read boundary is copied, into one
/// carry buffer of the data limit, so the framer allocates nothing per frame. Any deviation is fatal for the session
/// (doc/relp.md, "ERROR HANDLING": the peer that detects the problem closes the connection): <see cref="Feed"/>
/// returns false and <see cref="Error"/>/<see cref="ErrorReason"/> say why and where.
/// </summary>
internal sealed class RelpFramer
{
    /// <summary>Nine digits at most for TXNR and DATALEN (NUMBER = 1*9DIGIT).</summary>
    public const int MaxDigits = 9;

    /// <summary>COMMAND = 1*32ALPHA.</summary>
    public const int MaxCommandLength = 32;

    /// <summary>The largest TXNR; the one after it is 1 (doc/relp.md: "latched at 999,999,999. After that TXNR, the next TXNR is 1").</summary>
    public const int MaxTxnr = 999_999_999;

    private enum State { Txnr, Command, DataLength, DataSpace, Data, Trailer, Failed }

    private readonly int _maxDataBytes;
    private readonly byte[] _command = new byte[MaxCommandLength];
    private byte[]? _carry;
    private State _state;
    private int _digits;
    private int _txnr;
    private int _commandLength;
    private int _dataLength;
    private int _carried;
    private long _offset;

    /// <param name="maxDataBytes">Largest DATALEN accepted (doc/relp.md, "Maximum DATALEN": a too-large one is a denial of service).</param>
    public RelpFramer(int maxDataBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDataBytes, 1);
        _maxDataBytes = maxDataBytes;
    }

    /// <summary>Why the stream was refused, naming the frame's byte offset (null while it is well-formed).</summary>
    public string? Error { get; private set; }

    /// <summary>The <see cref="RejectReason"/> of <see cref="Error"/>.</summary>
    public string? ErrorReason { get; private set; }

    /// <summary>True between frames: nothing of a frame has been read (a connection closing here lost nothing).</summary>
    public bool AtFrameBoundary => _state == State.Txnr && _digits == 0;

    /// <summary>Bytes consumed so far (error positions).</summary>
    public long Offset => _offset;

    /// <summary>
    /// Reads <paramref name="input"/>, handing each completed frame to <paramref name="sink"/>. False once the stream
    /// is malformed or the sink stopped it (and for every later call): frames completed before were handed over.
    /// </summary>
    public bool Feed(ReadOnlySpan<byte> input, IRelpFrameSink sink)
    {
        var position = 0;
        while (position < input.Length)
        {
            switch (_state)
            {
                case State.Txnr:
                {
                    var c = input[position];
                    if (IsDigit(c))
                    {
                        if (_digits == MaxDigits)
                            return Fail(RejectReason.RelpMalformedFrame, "TXNR longer than 9 digits", position);
                        _txnr = _txnr * 10 + (c - '0');
                        _digits++;
                    }
                    else if (c == ' ' && _digits > 0)
                    {
                        _state = State.Command;
                        _commandLength = 0;
                    }
                    else
                    {
                        return Fail(RejectReason.RelpMalformedFrame, _digits == 0 ? $"a frame starts with its TXNR (digits), not {Describe(c)}" : $"{Describe(c)} in the TXNR", position);
                    }
                    position++;
                    break;
                }
                case State.Command:
                {
                    var c = input[position];
                    if (IsAlpha(c))
                    {
                        if (_commandLength == MaxCommandLength)
                            return Fail(RejectReason.RelpMalformedFrame, "COMMAND longer than 32 letters", position);
                        _command[_commandLength++] = c;
                    }
                    else if (c == ' ' && _commandLength > 0)
                    {
                        _state = State.DataLength;
                        _digits = 0;
                        _dataLength = 0;
                    }
                    else
                    {
                        return Fail(RejectReason.RelpMalformedFrame, _commandLength == 0 ? $"COMMAND expected after TXNR {_txnr}, got {Describe(c)}" : $"{Describe(c)} in the COMMAND of TXNR {_txnr}", position);
                    }
                    position++;
                    break;
                }
                case State.DataLength:
                {
                    var c = input[position];
                    if (IsDigit(c))
                    {
                        if (_digits == MaxDigits)
                            return Fail(RejectReason.RelpMalformedFrame, $"DATALEN of TXNR {_txnr} longer than 9 digits", position);
                        _dataLength = _dataLength * 10 + (c - '0');
                        _digits++;
                        position++;
                        break;
                    }
                    if (_digits == 0)
                        return Fail(RejectReason.RelpMalformedFrame, $"DATALEN expected in TXNR {_txnr}, got {Describe(c)}", position);
                    if (_dataLength == 0)
                    {
                        // DATALEN 0: no data and no SP, the trailer follows at once (librelp: "goto do_trailer").
                        _state = State.Trailer;
                        break;
                    }
                    if (c != ' ')
                        return Fail(RejectReason.RelpMalformedFrame, $"SP expected after DATALEN {_dataLength} of TXNR {_txnr}, got {Describe(c)}", position);
                    if (_dataLength > _maxDataBytes)
                        return Fail(RejectReason.RelpFrameTooLarge, $"TXNR {_txnr} announces {_dataLength} bytes of data, more than the {_maxDataBytes}-byte limit (FleetTwin:FrontDoors:MaxRecordBytes)", position);
                    _state = State.Data;
                    _carried = 0;
                    position++;
                    break;
                }
                case State.Data:
                {
                    var available = input.Length - position;
                    var needed = _dataLength - _carried;
                    if (_carried == 0 && available > needed)
                    {
                        // The whole data and its trailer are in this read: no copy.
                        if (input[position + needed] != '\n')
                            return Fail(RejectReason.RelpMalformedFrame, $"TXNR {_txnr}: LF expected after its {_dataLength} bytes of data, got {Describe(input[position + needed])} (DATALEN does not match the data)", position + needed);
                        position += needed + 1;
                        if (!Complete(sink, input.Slice(position - needed - 1, needed)))
                            return Stopped(position);
                        break;
                    }
                    _carry ??= new byte[_maxDataBytes];
                    var take = Math.Min(available, needed);
                    input.Slice(position, take).CopyTo(_carry.AsSpan(_carried));
                    _carried += take;
                    position += take;
                    if (_carried == _dataLength)
                        _state = State.Trailer;
                    break;
                }
                case State.Trailer:
                {
                    var c = input[position];
                    if (c != '\n')
                        return Fail(RejectReason.RelpMalformedFrame, $"TXNR {_txnr}: LF expected after the frame, got {Describe(c)}{(_dataLength > 0 ? " (DATALEN does not match the data)" : "")}", position);
                    position++;
                    if (!Complete(sink, _dataLength == 0 ? default : _carry.AsSpan(0, _dataLength)))
                        return Stopped(position);
                    break;
                }
                case State.Failed:
                    return false;
            }
        }
        _offset += input.Length;
        return _state != State.Failed;
    }

    /// <summary>The stream ended: false (with <see cref="Error"/>) when it ended inside a frame.</summary>
    public bool Finish()
    {
        if (_state == State.Failed)
            return false;
        if (AtFrameBoundary)
            return true;
        return Fail(RejectReason.TruncatedFrame, $"the connection closed inside a frame{(_digits > 0 || _state != State.Txnr ? $" (TXNR {_txnr})" : "")}", 0);
    }

    /// <summary>The txnr after <paramref name="txnr"/>: 1 after 999,999,999 (librelp's <c>relpEngineNextTXNR</c>).</summary>
    public static int Next(int txnr) => txnr >= MaxTxnr ? 1 : txnr + 1;

    /// <summary>The sink stopped the stream after a frame: nothing more is read (what follows is not parsed).</summary>
    private bool Stopped(int position)
    {
        _offset += position;
        _state = State.Failed;
        return false;
    }

    private bool Complete(IRelpFrameSink sink, ReadOnlySpan<byte> data)
    {
        var command = _command.AsSpan(0, _commandLength);
        var txnr = _txnr;
        _state = State.Txnr;
        _digits = 0;
        _txnr = 0;
        _carried = 0;
        return sink.OnFrame(txnr, KindOf(command), command, data);
    }

    internal static RelpCommand KindOf(ReadOnlySpan<byte> command)
    {
        // Command names are case-sensitive in librelp (strcmp in relpEngineDispatchFrame).
        if (command.SequenceEqual("syslog"u8))
            return RelpCommand.Syslog;
        if (command.SequenceEqual("open"u8))
            return RelpCommand.Open;
        if (command.SequenceEqual("close"u8))
            return RelpCommand.Close;
        if (command.SequenceEqual("rsp"u8))
            return RelpCommand.Rsp;
        if (command.SequenceEqual("serverclose"u8))
            return RelpCommand.ServerClose;
        return RelpCommand.Other;
    }

    private bool Fail(string reason, string text, int position)
    {
        _state = State.Failed;
        ErrorReason = reason;
        Error = $"byte {_offset + position}: {text}";
        return false;
    }

    private static bool IsDigit(byte c) => c is >= (byte)'0' and <= (byte)'9';

    private static bool IsAlpha(byte c) => c is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z';

    private static string Describe(byte c) => c switch
    {
        (byte)'\n' => "LF",
        (byte)'\r' => "CR",
        (byte)' ' => "SP",
        >= 0x21 and <= 0x7e => $"'{(char)c}'",
        _ => $"byte 0x{c:x2}",
    };
}
