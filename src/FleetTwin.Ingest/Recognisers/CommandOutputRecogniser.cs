using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>
/// Fleet facts from command output pasted into a log or shipped as text, alone or as a shell transcript. A prompt
/// line (<c>[root@xs62-a01 ~]# ethtool -i eth4</c>, <see cref="ShellPrompt"/>) names the host and the command, and
/// so the device of the output below it; without a prompt the output is recognised by its own shape
/// (<c>Features for eth4:</c>, <c>driver:</c>, xe's <c>key ( RO): value</c> records, <c>2: eth4: &lt;…&gt; mtu
/// 9000</c>, <c>04:00.0 Ethernet controller: …</c>). This class only tells which tool's output a line is and hands it
/// on (<see cref="EthtoolOutputRecogniser"/>, <see cref="XeRecordRecogniser"/>, <see cref="IpLinkRecogniser"/>,
/// <see cref="LspciRecogniser"/>, dom0's command line to
/// <see cref="HostLifecycleRecogniser"/>). Multi-line outputs become one event when their block ends (blank line,
/// next prompt, other text, a log record, or the end of input). This is the slow path: a few strings per fact are
/// fine here.
/// </summary>
internal sealed class CommandOutputRecogniser
{
    private enum Block : byte { None, EthtoolFeatures, EthtoolDriver, XeRecord, IpLink, Lspci }

    private readonly RecogniserServices _services;
    private readonly Utf8StringCache _names;
    private readonly ShellPrompt _prompt;
    private readonly EthtoolOutputRecogniser _ethtool;
    private readonly XeRecordRecogniser _xe;
    private readonly IpLinkRecogniser _ipLink;
    private readonly LspciRecogniser _lspci;
    private Block _block;

    public CommandOutputRecogniser(RecogniserServices services, Utf8StringCache names)
    {
        _services = services;
        _names = names;
        _prompt = new ShellPrompt(names);
        _ethtool = new EthtoolOutputRecogniser(services, names);
        _xe = new XeRecordRecogniser(services);
        _ipLink = new IpLinkRecogniser(services, names);
        _lspci = new LspciRecogniser(services);
    }

    /// <summary>True while output of a known command is expected, so bare lines come here first.</summary>
    public bool InBlock => _block != Block.None || _prompt.ExpectsOutput;

    public Recognition Recognise(ReadOnlySpan<byte> line, in RecordContext ctx)
    {
        if (ShellPrompt.TryParse(line, out var host, out var command))
        {
            // The block above belongs to the previous prompt's host.
            Flush(ctx);
            _prompt.Take(host, command);
            return Recognition.Informational;
        }
        if (_block != Block.None)
        {
            var inBlock = ContinueBlock(line, ctx);
            if (inBlock != Recognition.NoMatch)
            {
                return inBlock;
            }
            Flush(ctx);
        }
        return StartBlock(line, ctx);
    }

    /// <summary>A blank line ends a record (xe separates records with blank lines) but not the command's output.</summary>
    public void OnBlankLine(in RecordContext ctx)
    {
        if (_block != Block.None)
        {
            Flush(ctx);
        }
    }

    /// <summary>Emits the block being collected, if any.</summary>
    public void Flush(in RecordContext ctx)
    {
        var block = _block;
        _block = Block.None;
        switch (block)
        {
            case Block.EthtoolFeatures:
                _ethtool.EmitOffloads(HostName(ctx), ctx.Source);
                break;
            case Block.EthtoolDriver:
                _ethtool.EmitDriver(HostName(ctx), ctx.Source);
                break;
            case Block.XeRecord:
                _xe.Emit(_prompt, HostName(ctx), ctx.Source);
                break;
            case Block.Lspci:
                _lspci.Emit(HostName(ctx), ctx.Source);
                break;
        }
        _ethtool.Clear();
        _xe.Clear();
        _lspci.Clear();
    }

    /// <summary>A log record after the output: the block and the transcript's command are both over.</summary>
    public void EndCommand(in RecordContext ctx)
    {
        Flush(ctx);
        _prompt.EndCommand();
    }

    public bool IsPrompt(ReadOnlySpan<byte> line) => ShellPrompt.TryParse(line, out _, out _);

    private Recognition StartBlock(ReadOnlySpan<byte> line, in RecordContext ctx)
    {
        var t = LogBytes.Trim(line);
        if (t.IsEmpty)
        {
            return Recognition.NoMatch;
        }
        if (XeRecordRecogniser.TryField(t, out var key, out var value))
        {
            if (!XeRecordRecogniser.IsUuid(key))
            {
                return Recognition.Malformed;
            }
            _block = Block.XeRecord;
            _xe.Begin(ctx.Line);
            _xe.Add(key, value);
            return Recognition.Event;
        }
        if (_lspci.TryBegin(t, ctx.Line, out bool network))
        {
            _block = Block.Lspci;
            return network ? Recognition.Event : Recognition.Informational;
        }
        if (EthtoolOutputRecogniser.TryFeaturesHeader(t, out var device))
        {
            _block = Block.EthtoolFeatures;
            _ethtool.Begin(_names.Get(device), ctx.Line);
            return Recognition.Event;
        }
        if (_prompt.Command == PromptedCommand.EthtoolFeatures && EthtoolOutputRecogniser.IsOffload(t))
        {
            _block = Block.EthtoolFeatures;
            _ethtool.Begin(_prompt.EthtoolDevice, ctx.Line);
            _ethtool.TryAddOffload(t);
            return Recognition.Event;
        }
        if (t.StartsWith("driver: "u8) || (_prompt.Command == PromptedCommand.EthtoolDriver && EthtoolOutputRecogniser.IsDriverField(t)))
        {
            _block = Block.EthtoolDriver;
            _ethtool.Begin(_prompt.EthtoolDevice, ctx.Line);
            _ethtool.TryAddDriverField(t);
            return Recognition.Event;
        }
        if (_ipLink.TryInterfaceLine(t, HostName(ctx), ctx))
        {
            _block = Block.IpLink;
            return Recognition.Event;
        }
        if (_prompt.Command == PromptedCommand.KernelCommandLine || t.IndexOf("swiotlb="u8) >= 0)
        {
            HostLifecycleRecogniser.EmitCommandLine(t, Stamp(ctx), _services);
            return Recognition.Event;
        }
        return Recognition.NoMatch;
    }

    private Recognition ContinueBlock(ReadOnlySpan<byte> line, in RecordContext ctx)
    {
        var t = LogBytes.Trim(line);
        switch (_block)
        {
            case Block.EthtoolFeatures:
                return _ethtool.TryAddOffload(t) ? Recognition.Event : Recognition.NoMatch;
            case Block.EthtoolDriver:
                return _ethtool.TryAddDriverField(t) ? Recognition.Event : Recognition.NoMatch;
            case Block.XeRecord:
                if (!XeRecordRecogniser.TryField(t, out var key, out var value))
                {
                    return Recognition.NoMatch;
                }
                if (XeRecordRecogniser.IsUuid(key))
                {
                    // Records without a blank line between them (some pastes): a new uuid starts the next one.
                    Flush(ctx);
                    _block = Block.XeRecord;
                    _xe.Begin(ctx.Line);
                }
                _xe.Add(key, value);
                return Recognition.Event;
            case Block.IpLink:
                if (_ipLink.TryInterfaceLine(t, HostName(ctx), ctx))
                {
                    return Recognition.Event;
                }
                return IpLinkRecogniser.IsDetailLine(line) ? Recognition.Informational : Recognition.NoMatch;
            case Block.Lspci:
                // The next device line is not a detail: the block ends and StartBlock begins the next one.
                if (!LspciRecogniser.IsDetailLine(line))
                {
                    return Recognition.NoMatch;
                }
                return _lspci.AddDetail(t) ? Recognition.Event : Recognition.Informational;
            default:
                return Recognition.NoMatch;
        }
    }

    /// <summary>The record's stamp with the prompt's host (it wins over --host).</summary>
    private RecordContext Stamp(in RecordContext ctx)
        => _prompt.Host is null ? ctx : ctx with { Host = new HostLogMemory(_prompt.Host) };

    private string? HostName(in RecordContext ctx) => _prompt.Host ?? ctx.HostName;
}
