using System.Text;
using FleetTwin.Ingest.Framing;
using FleetTwin.Ingest.Recognisers;
using FleetTwin.Ingest.Repair;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Reading;

/// <summary>
/// Turns the bytes of one log source into twin events, pushed to a sink as they are recognised. Feed it chunks
/// of any size with <see cref="Write"/> (lines may span chunks), then call <see cref="Complete"/> to flush the
/// last line and the multi-line state (a panic still collecting frames, domains whose devices closed).
/// Formats are detected per record, so one input may mix them. Not thread-safe: one parser per source.
/// </summary>
public sealed class LogParser
{
    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private readonly LogParserOptions _options;
    private readonly IngestStatistics _statistics = new();
    private readonly RecogniserServices _services;
    private readonly Utf8StringCache _names;
    private readonly Dictionary<string, HostLogMemory> _hosts = new(StringComparer.Ordinal);
    private readonly HostLogMemory _defaultHost;
    private readonly SyslogYear _year;
    private readonly JournalJson _journal = new();
    private readonly CommandOutputRecogniser _commands;
    private readonly byte[] _lastHostKey = new byte[256];
    private int _lastHostKeyLength = -1;
    private HostLogMemory? _lastHost;
    private byte[] _carry = new byte[4096];
    private int _carryLength;
    private long _lineNumber;
    private bool _completed;

    // A record cut at a fixed width by a mail client, held until the next line tells whether it completes it.
    private byte[] _wrapped = new byte[256];
    private int _wrappedLength;
    private int _wrappedQuoteDepth;
    private int _wrappedLines;
    private long _wrappedLine;
    private bool _wrapRequested;
    private bool _noWrap;
    private bool _panicCut;

    // The host of a record an uptime-only record was glued onto: the glued one, read next, carries none of its own.
    private HostLogMemory? _gluedOnto;

    public LogParser(ITwinEventSink sink, LogParserOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _options = options ?? new LogParserOptions();
        if (_options.MaxLineLength < 64)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.MaxLineLength, "MaxLineLength must be at least 64 bytes");
        }
        _names = new Utf8StringCache(_options.MaxCachedNames);
        _services = new RecogniserServices(new EventOutlet(sink, _statistics), _names, _options.Releases, _options.VmStopGraceSeconds);
        _year = new SyslogYear(_options.Year, _options.ReferenceTime);
        _defaultHost = _options.DefaultHost is { Length: > 0 } name ? HostFor(Encoding.UTF8.GetBytes(name)) : new HostLogMemory(null);
        _commands = new CommandOutputRecogniser(_services, _names);
    }

    public IngestStatistics Statistics => _statistics;

    /// <summary>Consumes a chunk of the input; complete lines are parsed now, a partial last line waits for the next chunk.</summary>
    public void Write(ReadOnlySpan<byte> chunk)
    {
        if (_completed)
        {
            throw new InvalidOperationException($"{_options.SourceName}: Write after Complete");
        }
        _statistics.Bytes += chunk.Length;
        while (!chunk.IsEmpty)
        {
            int newline = chunk.IndexOf((byte)'\n');
            if (newline < 0)
            {
                AppendToCarry(chunk);
                return;
            }
            if (_carryLength == 0)
            {
                ParsePhysicalLine(chunk[..newline]);
            }
            else
            {
                AppendToCarry(chunk[..newline]);
                ParsePhysicalLine(_carry.AsSpan(0, _carryLength));
                _carryLength = 0;
            }
            chunk = chunk[(newline + 1)..];
        }
    }

    /// <summary>End of input: parses a last line that had no newline (a truncated file) and flushes multi-line state.</summary>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }
        if (_carryLength > 0)
        {
            ParsePhysicalLine(_carry.AsSpan(0, _carryLength));
            _carryLength = 0;
        }
        FlushWrapped();
        _completed = true;
        _commands.Flush(new RecordContext(_defaultHost, null, null, _options.SourceName, _lineNumber));
        FlushHost(_defaultHost);
        foreach (var host in _hosts.Values)
        {
            if (!ReferenceEquals(host, _defaultHost))
            {
                FlushHost(host);
            }
        }
    }

    private void FlushHost(HostLogMemory host)
    {
        host.Panic?.Finish(_services);
        var end = new RecordContext(host, null, null, _options.SourceName, _lineNumber);
        VmLifecycleTracker.ConfirmStops(end, _services, endOfInput: true);
    }

    private void AppendToCarry(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int room = _options.MaxLineLength - _carryLength;
            if (data.Length <= room)
            {
                EnsureCarry(_carryLength + data.Length);
                data.CopyTo(_carry.AsSpan(_carryLength));
                _carryLength += data.Length;
                return;
            }
            // Bounded input: a line over the limit is read in pieces rather than buffered without end.
            EnsureCarry(_options.MaxLineLength);
            data[..room].CopyTo(_carry.AsSpan(_carryLength));
            _carryLength += room;
            _statistics.LinesCut++;
            ParseLine(_carry.AsSpan(0, _carryLength));
            _carryLength = 0;
            data = data[room..];
        }
    }

    private void EnsureCarry(int size)
    {
        if (size > _carry.Length)
        {
            Array.Resize(ref _carry, Math.Min(_options.MaxLineLength, Math.Max(size, _carry.Length * 2)));
        }
    }

    private void ParsePhysicalLine(ReadOnlySpan<byte> line)
    {
        while (line.Length > _options.MaxLineLength)
        {
            _statistics.LinesCut++;
            ParseLine(line[.._options.MaxLineLength]);
            line = line[_options.MaxLineLength..];
        }
        ParseLine(line);
    }

    /// <summary>One physical line (without its LF): may hold one record, many pasted records, or command output.</summary>
    internal void ParseLine(ReadOnlySpan<byte> line)
    {
        _lineNumber++;
        _statistics.LinesRead++;
        if (!line.IsEmpty && line[^1] == '\r')
        {
            line = line[..^1];
        }
        if (_lineNumber == 1 && line.StartsWith(Utf8Bom))
        {
            line = line[3..];
        }
        if (_wrappedLength > 0 && TryJoinWrapped(line))
        {
            return;
        }
        FlushWrapped();
        if (LogBytes.IsBlank(line))
        {
            _statistics.BlankLines++;
            _commands.OnBlankLine(new RecordContext(_defaultHost, null, null, _options.SourceName, _lineNumber));
            return;
        }
        while (!line.IsEmpty)
        {
            var record = line;
            ReadOnlySpan<byte> rest = default;
            bool framed = OctetCounting.TrySplit(line, out var frame, out var afterFrame);
            if (framed)
            {
                record = frame;
                rest = LogBytes.TrimStart(afterFrame);
            }
            var next = ParseRecord(record, splitPasted: !framed);
            if (_wrapRequested)
            {
                _wrapRequested = false;
                HoldWrapped(record);
                return;
            }
            line = framed ? rest : next;
        }
    }

    /// <summary>Keeps a record whose known message was cut at the line's end, to join with the next line.</summary>
    private void HoldWrapped(ReadOnlySpan<byte> record)
    {
        var text = PasteDamage.Strip(record, out int depth);
        if (_wrapped.Length < text.Length)
        {
            _wrapped = new byte[Math.Max(text.Length, _wrapped.Length * 2)];
        }
        text.CopyTo(_wrapped);
        if (_wrappedLines == 0)
        {
            _wrappedLine = _lineNumber;
        }
        _wrappedLength = text.Length;
        _wrappedQuoteDepth = depth;
        _wrappedLines++;
    }

    /// <summary>
    /// Joins the held record with <paramref name="line"/> when the line continues it: no header of its own, the
    /// same mail quote depth or one level off, and the joined text completes the known message (or still runs on,
    /// for at most three lines).
    /// </summary>
    private bool TryJoinWrapped(ReadOnlySpan<byte> line)
    {
        var next = PasteDamage.Strip(line, out int depth);
        if (next.IsEmpty || Math.Abs(depth - _wrappedQuoteDepth) > 1 || HeaderParser.TryParse(next, out _) != HeaderStatus.NotAHeader)
        {
            return false;
        }
        int length = _wrappedLength + 1 + next.Length;
        if (length > _options.MaxLineLength)
        {
            return false;
        }
        var joined = new byte[length];
        _wrapped.AsSpan(0, _wrappedLength).CopyTo(joined);
        joined[_wrappedLength] = (byte)' ';
        next.CopyTo(joined.AsSpan(_wrappedLength + 1));
        _statistics.WrappedLinesJoined++;
        if (KernelMessageScan.IsCut(joined) && _wrappedLines < 3)
        {
            HoldWrapped(joined);
            _wrappedQuoteDepth = depth;
            return true;
        }
        ParseHeld(joined);
        return true;
    }

    /// <summary>The held record was not continued: it is read as it stands (and counted malformed when cut).</summary>
    private void FlushWrapped()
    {
        if (_wrappedLength == 0)
        {
            return;
        }
        ParseHeld(_wrapped.AsSpan(0, _wrappedLength).ToArray());
    }

    /// <summary>Reads a held record as one, stamped with the line it started on.</summary>
    private void ParseHeld(byte[] text)
    {
        _wrappedLength = 0;
        _wrappedLines = 0;
        long current = _lineNumber;
        _lineNumber = _wrappedLine;
        _noWrap = true;
        ParseRecord(text, splitPasted: true);
        _noWrap = false;
        _lineNumber = current;
    }

    /// <summary>Parses one record; returns the text of the next pasted record on the same line (empty when none).</summary>
    private ReadOnlySpan<byte> ParseRecord(ReadOnlySpan<byte> record, bool splitPasted)
    {
        _statistics.Records++;
        return ParseRecordText(record, splitPasted, repaired: false);
    }

    private ReadOnlySpan<byte> ParseRecordText(ReadOnlySpan<byte> record, bool splitPasted, bool repaired)
    {
        var gluedOnto = _gluedOnto;
        _gluedOnto = null;
        if (record[0] == '{' && _journal.TryRead(record))
        {
            Count(HandleRecord(_journal.Host, _journal.Uptime, _journal.Time, _journal.Message), _journal.Message);
            return default;
        }
        var status = HeaderParser.TryParse(record, out var header);
        if (status == HeaderStatus.Malformed)
        {
            _statistics.CountMalformed(_options.SourceName, _lineNumber, record, "record prefix is cut off");
            return default;
        }
        if (status == HeaderStatus.NotAHeader)
        {
            return repaired ? HandleUnknownAfterRepair(record, LogBytes.TrimEnd(record)) : HandleUnknownHeader(record);
        }
        var message = record[header.MessageStart..];
        ReadOnlySpan<byte> rest = default;
        if (splitPasted)
        {
            int next = RecordBoundaries.FindNext(message, header.Family);
            if (next >= 0)
            {
                rest = message[next..];
                message = message[..next];
            }
        }
        message = LogBytes.TrimEnd(message);
        if (header.Family == RecordFamily.JournalSeparator)
        {
            var ctx = new RecordContext(_defaultHost, null, null, _options.SourceName, _lineNumber);
            Count(HostLifecycleRecogniser.TryJournalSeparator(message, ctx, _services), message);
            return rest;
        }
        var host = header.HostLength == 0 && gluedOnto is not null ? gluedOnto : HostFor(record.Slice(header.HostStart, header.HostLength));
        // Computed once: these two vectorised searches are all a line without a swiotlb message pays for the glue check
        // and the slow path (docs/perf.md, issue 18). A framed record (one per frame) cannot carry a glued one, so it
        // pays them only when it is not recognised, as before the glue check.
        bool glueMayApply = splitPasted && rest.IsEmpty;
        bool maySwiotlb = glueMayApply && KernelMessageScan.MayHoldSwiotlbMessage(message);
        if (maySwiotlb)
        {
            // A record glued onto this one's end without a space: read this one up to it, the glued one next. Only
            // where one of the two holds a swiotlb message: two other records glued together stay one (unrecognised).
            int glued = KernelMessageScan.FindGlued(message, out bool uptimeOnly);
            if (glued > 0)
            {
                rest = message[glued..];
                message = LogBytes.TrimEnd(message[..glued]);
                _gluedOnto = uptimeOnly ? host : null;
                maySwiotlb = KernelMessageScan.MayHoldSwiotlbMessage(message);
            }
        }
        var time = TimeOf(header);
        var result = HandleRecord(host, header.Uptime, time, message);
        if (result is not (Recognition.NoMatch or Recognition.Malformed))
        {
            Count(result, message);
            return rest;
        }
        if (!glueMayApply)
            maySwiotlb = KernelMessageScan.MayHoldSwiotlbMessage(message);
        if (result == Recognition.NoMatch && maySwiotlb)
        {
            // The slow path, for lines the strict reading did not know: a record flattened onto this one without a
            // space, or a label between the header and the kernel's text.
            int flattened = KernelMessageScan.FindFlattened(message);
            if (flattened > 0)
            {
                result = HandleRecord(host, header.Uptime, time, LogBytes.TrimEnd(message[..flattened]));
                _statistics.Records++;
                Count(result, message[..flattened]);
                var glued = _gluedOnto;
                _gluedOnto = null;
                var after = ParseRecordText(message[flattened..], splitPasted, repaired: false);
                if (after.IsEmpty)
                {
                    // The flattened record ended this record's part of the line: a record glued after it comes next.
                    _gluedOnto = glued;
                    return rest;
                }
                return after;
            }
            result = HandleFoundMessage(message, host, header.Uptime, time);
        }
        if (HoldIfCut(result, message, maySwiotlb))
        {
            return default;
        }
        Count(result, message);
        return rest;
    }

    /// <summary>
    /// A record whose known message stops at the end of the line may continue on the next: hold it instead of
    /// counting it (its count comes when it is joined or flushed).
    /// </summary>
    private bool HoldIfCut(Recognition result, ReadOnlySpan<byte> message, bool mayHoldKnownMessage)
    {
        // A message cut after its device prefix ends in ':'; a cut SWIOTLB message was found by the gate already, a
        // cut panic by HandleRecord.
        bool panicCut = _panicCut;
        _panicCut = false;
        if (_noWrap || result is not (Recognition.Malformed or Recognition.NoMatch) || message.IsEmpty
            || (message[^1] != ':' && !mayHoldKnownMessage && !panicCut) || !KernelMessageScan.IsCut(message))
        {
            return false;
        }
        _statistics.Records--;
        _wrapRequested = true;
        _gluedOnto = null;
        return true;
    }

    /// <summary>
    /// A line whose header the strict parser does not know: paste damage removed, it may have a header after all
    /// (<c>&gt; &gt; [   31.94] DMA: …</c>, <c>(qemu) [   32.17] …</c>); else it is scanned for the known messages.
    /// </summary>
    private ReadOnlySpan<byte> HandleUnknownHeader(ReadOnlySpan<byte> record)
    {
        var trimmed = LogBytes.TrimEnd(record);
        if (PasteDamage.IsCodeFence(trimmed))
        {
            _statistics.Informational++;
            return default;
        }
        var repaired = PasteDamage.Strip(trimmed, out _);
        if (repaired.IsEmpty)
        {
            Count(Recognition.Informational, trimmed);
            return default;
        }
        if (repaired.Length != LogBytes.TrimStart(trimmed).Length && HeaderParser.TryParse(repaired, out _) == HeaderStatus.Parsed)
        {
            return ParseRecordText(repaired, splitPasted: true, repaired: true);
        }
        return HandleUnknownAfterRepair(repaired, trimmed);
    }

    private ReadOnlySpan<byte> HandleUnknownAfterRepair(ReadOnlySpan<byte> repaired, ReadOnlySpan<byte> original)
    {
        if (KernelMessageScan.MayHoldKnownMessage(repaired))
        {
            int flattened = KernelMessageScan.FindFlattened(repaired);
            var text = flattened > 0 ? repaired[..flattened] : repaired;
            var result = HandleFoundMessage(text, _defaultHost, double.NaN, null);
            if (result != Recognition.NoMatch || KernelMessageScan.FindMessage(text) >= 0)
            {
                if (HoldIfCut(result, text, mayHoldKnownMessage: true))
                {
                    return default;
                }
                if (result != Recognition.NoMatch)
                {
                    Count(result, text);
                    if (flattened > 0)
                    {
                        _statistics.Records++;
                        return ParseRecordText(repaired[flattened..], splitPasted: true, repaired: false);
                    }
                    return default;
                }
            }
        }
        HandleBare(original);
        return default;
    }

    /// <summary>
    /// Finds a known kernel message in <paramref name="text"/> and reads it with the time, host and uptime of what
    /// stands before it; NoMatch when there is none or when prose stands before it (a line that quotes a message).
    /// </summary>
    private Recognition HandleFoundMessage(ReadOnlySpan<byte> text, HostLogMemory host, double uptime, DateTimeOffset? time)
    {
        int start = KernelMessageScan.FindMessage(text);
        if (start < 0 || !LooseHeader.TryParse(text[..start], out var loose))
        {
            return Recognition.NoMatch;
        }
        if (!loose.Host.IsEmpty)
        {
            host = HostFor(loose.Host);
        }
        if (!double.IsNaN(loose.Uptime))
        {
            uptime = loose.Uptime;
        }
        time ??= loose.Clock.FullTime ?? LooseTime(loose.Clock);
        return HandleRecord(host, uptime, time, LogBytes.TrimEnd(text[start..]));
    }

    private DateTimeOffset? LooseTime(in LooseClock loose)
    {
        if (!loose.HasClock)
        {
            return null;
        }
        int year = _year.For(loose.Month);
        if (year == 0 || !Rfc3339.IsValidDate(year, loose.Month, loose.Day))
        {
            return null;
        }
        return new DateTimeOffset(year, loose.Month, loose.Day, loose.Hour, loose.Minute, loose.Second, TimeSpan.Zero).AddTicks(loose.FractionTicks);
    }

    private Recognition HandleRecord(ReadOnlySpan<byte> hostName, double uptime, DateTimeOffset? time, ReadOnlySpan<byte> message)
        => HandleRecord(HostFor(hostName), uptime, time, message);

    private Recognition HandleRecord(HostLogMemory host, double uptime, DateTimeOffset? time, ReadOnlySpan<byte> message)
    {
        if (_commands.InBlock)
        {
            // A log record between command output means the pasted output ended.
            _commands.EndCommand(new RecordContext(_defaultHost, null, null, _options.SourceName, _lineNumber));
        }
        if (double.IsNaN(uptime))
        {
            // syslog and RFC 5424 carry the kernel's printk time at the start of the message.
            int used = LogBytes.TryParseUptime(message, out double fromMessage);
            if (used > 0)
            {
                uptime = fromMessage;
                message = message[used..];
                if (!message.IsEmpty && message[0] == ' ')
                {
                    message = message[1..];
                }
            }
        }
        if (!_noWrap && !message.IsEmpty && message[0] == 'K' && KernelMessageScan.IsCut(message))
        {
            // "Kernel panic - not syncing: DMA: Random memory could be" with "DMA read" wrapped onto the next line.
            _panicCut = true;
            return Recognition.NoMatch;
        }
        host.Records++;
        var ctx = new RecordContext(host, double.IsNaN(uptime) ? null : uptime, time, _options.SourceName, _lineNumber);
        if (host.PendingStops > 0)
        {
            VmLifecycleTracker.ConfirmStops(ctx, _services, endOfInput: false);
        }
        var result = KernelMessageRecogniser.Recognise(message, ctx, _services);
        if (result == Recognition.NoMatch)
        {
            // Not one of this host's records yet: the fallback scan may still read it (and count it then).
            host.Records--;
        }
        return result;
    }

    /// <summary>Text without a record prefix: command output, a shell prompt, or a kernel message pasted bare.</summary>
    private void HandleBare(ReadOnlySpan<byte> text)
    {
        var ctx = new RecordContext(_defaultHost, null, null, _options.SourceName, _lineNumber);
        var result = Recognition.NoMatch;
        if (_commands.InBlock || _commands.IsPrompt(text))
        {
            result = _commands.Recognise(text, ctx);
        }
        if (result == Recognition.NoMatch)
        {
            result = KernelMessageRecogniser.Recognise(text, ctx, _services);
        }
        if (result == Recognition.NoMatch && !_commands.InBlock)
        {
            result = _commands.Recognise(text, ctx);
        }
        Count(result, text);
    }

    private void Count(Recognition result, ReadOnlySpan<byte> text)
    {
        switch (result)
        {
            case Recognition.Event:
                _statistics.EventRecords++;
                break;
            case Recognition.Informational:
                _statistics.Informational++;
                break;
            case Recognition.Malformed:
                _statistics.CountMalformed(_options.SourceName, _lineNumber, text, "a known message whose fields did not parse");
                break;
            default:
                _statistics.CountUnrecognised(_options.SourceName, _lineNumber, text);
                break;
        }
    }

    private DateTimeOffset? TimeOf(in RecordHeader header)
    {
        if (header.HasFullTime)
        {
            return header.FullTime;
        }
        if (!header.HasYearlessTime)
        {
            return null;
        }
        int year = _year.For(header.Month);
        if (year == 0 || !Rfc3339.IsValidDate(year, header.Month, header.Day))
        {
            return null;
        }
        // BSD syslog carries no zone: the clock is the host's local time, kept as written (offset +00:00).
        return new DateTimeOffset(year, header.Month, header.Day, header.Hour, header.Minute, header.Second, TimeSpan.Zero)
            .AddTicks(header.FractionTicks);
    }

    private HostLogMemory HostFor(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
        {
            return _defaultHost;
        }
        if (_lastHost is not null && name.SequenceEqual(_lastHostKey.AsSpan(0, Math.Max(_lastHostKeyLength, 0))))
        {
            return _lastHost;
        }
        string interned = _names.Get(name);
        if (!_hosts.TryGetValue(interned, out var host))
        {
            host = new HostLogMemory(interned);
            _hosts[interned] = host;
        }
        if (name.Length <= _lastHostKey.Length)
        {
            name.CopyTo(_lastHostKey);
            _lastHostKeyLength = name.Length;
            _lastHost = host;
        }
        return host;
    }
}
