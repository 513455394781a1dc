using FleetTwin.Ingest.Framing;

namespace FleetTwin.FrontDoors;

/// <summary>
/// Splits a syslog TCP byte stream into records (RFC 6587 §3.4): octet-counting (<c>MSG-LEN SP SYSLOG-MSG</c>,
/// what rsyslog and syslog-ng send with octet-counted framing) or non-transparent framing (each message ends with
/// LF), detected per frame: a frame starting with a digit followed by a space is counted, anything else runs to LF.
/// Frames may span reads. A frame over the record limit is skipped (counted) without buffering it; a frame that
/// does not start with <c>&lt;PRI&gt;</c> is not syslog and is counted, not parsed. The MSG-LEN header is read by
/// <see cref="OctetCounting.ReadHeader"/>, the same reading the file parser uses. Allocation-free: one carry buffer
/// of the record limit per connection.
/// </summary>
internal sealed class SyslogFramer(int maxRecordBytes, Action<string> reject)
{
    private enum Mode { Start, Length, Octets, Line, SkipOctets, SkipLine }

    private readonly byte[] _carry = new byte[Math.Max(maxRecordBytes, 16)];
    private Mode _mode;
    private int _carryLength;
    private long _length;
    private int _digits;
    private long _remaining;

    /// <summary>Adds the records completed by <paramref name="data"/> to <paramref name="chunk"/>.</summary>
    public void Feed(ReadOnlySpan<byte> data, RecordChunk chunk)
    {
        while (!data.IsEmpty)
        {
            switch (_mode)
            {
                case Mode.Start:
                    var first = data[0];
                    if (first is (byte)'\n' or (byte)'\r' or 0 or (byte)' ')
                    {
                        data = data[1..];
                        continue;
                    }
                    _carryLength = 0;
                    _length = 0;
                    _digits = 0;
                    _mode = first is >= (byte)'0' and <= (byte)'9' ? Mode.Length : Mode.Line;
                    continue;

                case Mode.Length:
                {
                    var header = OctetCounting.ReadHeader(data, ref _length, ref _digits, out var consumed);
                    if (header == OctetCounting.Header.Counted)
                    {
                        data = data[consumed..];
                        _carryLength = 0;
                        _remaining = _length;
                        if (_length > maxRecordBytes)
                        {
                            reject(RejectReason.RecordTooLarge);
                            _mode = Mode.SkipOctets;
                        }
                        else
                        {
                            _mode = Mode.Octets;
                        }
                        continue;
                    }
                    // The digits read so far are kept: without an octet count they begin an LF-framed record.
                    data[..consumed].CopyTo(_carry.AsSpan(_carryLength));
                    _carryLength += consumed;
                    data = data[consumed..];
                    if (header == OctetCounting.Header.NeedMore)
                        return;
                    _mode = Mode.Line;
                    continue;
                }

                case Mode.Octets:
                {
                    var take = (int)Math.Min(_remaining, data.Length);
                    if (_carryLength == 0 && take == _remaining)
                    {
                        Emit(data[..take], chunk);
                    }
                    else
                    {
                        data[..take].CopyTo(_carry.AsSpan(_carryLength));
                        _carryLength += take;
                        if (take == _remaining)
                            Emit(_carry.AsSpan(0, _carryLength), chunk);
                    }
                    _remaining -= take;
                    data = data[take..];
                    if (_remaining == 0)
                        _mode = Mode.Start;
                    continue;
                }

                case Mode.Line:
                {
                    var end = data.IndexOf((byte)'\n');
                    var part = end < 0 ? data : data[..end];
                    if (_carryLength + part.Length > maxRecordBytes)
                    {
                        reject(RejectReason.RecordTooLarge);
                        _carryLength = 0;
                        _mode = end < 0 ? Mode.SkipLine : Mode.Start;
                        data = end < 0 ? default : data[(end + 1)..];
                        continue;
                    }
                    if (end < 0)
                    {
                        part.CopyTo(_carry.AsSpan(_carryLength));
                        _carryLength += part.Length;
                        return;
                    }
                    if (_carryLength == 0)
                    {
                        Emit(part, chunk);
                    }
                    else
                    {
                        part.CopyTo(_carry.AsSpan(_carryLength));
                        _carryLength += part.Length;
                        Emit(_carry.AsSpan(0, _carryLength), chunk);
                        _carryLength = 0;
                    }
                    data = data[(end + 1)..];
                    _mode = Mode.Start;
                    continue;
                }

                case Mode.SkipOctets:
                {
                    var take = (int)Math.Min(_remaining, data.Length);
                    _remaining -= take;
                    data = data[take..];
                    if (_remaining == 0)
                        _mode = Mode.Start;
                    continue;
                }

                case Mode.SkipLine:
                {
                    var end = data.IndexOf((byte)'\n');
                    if (end < 0)
                        return;
                    data = data[(end + 1)..];
                    _mode = Mode.Start;
                    continue;
                }
            }
        }
    }

    /// <summary>The connection closed: an LF-framed record without its LF is still a record (as a file's last line); a cut octet-counted frame is not.</summary>
    public void Finish(RecordChunk chunk)
    {
        switch (_mode)
        {
            case Mode.Line or Mode.Length when _carryLength > 0:
                Emit(_carry.AsSpan(0, _carryLength), chunk);
                break;
            case Mode.Octets:
                reject(RejectReason.TruncatedFrame);
                break;
        }
        _mode = Mode.Start;
        _carryLength = 0;
    }

    private void Emit(ReadOnlySpan<byte> record, RecordChunk chunk)
    {
        while (!record.IsEmpty && record[^1] is (byte)'\n' or (byte)'\r' or 0 or (byte)' ')
            record = record[..^1];
        if (record.IsEmpty)
            return;
        if (!SyslogRecord.HasPri(record))
        {
            reject(RejectReason.NotSyslog);
            return;
        }
        chunk.Add(record);
    }
}

/// <summary>What every syslog door checks before a record reaches the parser.</summary>
internal static class SyslogRecord
{
    /// <summary>RFC 5424 §6.2.1 / RFC 3164 §4.1.1: a message starts with <c>&lt;</c>, one to three digits and <c>&gt;</c>.</summary>
    public static bool HasPri(ReadOnlySpan<byte> record)
    {
        if (record.Length < 3 || record[0] != '<')
            return false;
        var i = 1;
        while (i < record.Length && i <= 4 && record[i] is >= (byte)'0' and <= (byte)'9')
            i++;
        return i is >= 2 and <= 4 && i < record.Length && record[i] == '>';
    }
}
