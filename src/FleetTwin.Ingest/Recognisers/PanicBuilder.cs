using System.Text;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>
/// Assembles one host's panic from its records. 2.6.32 kernel/panic.c panic() prints
/// <c>Kernel panic - not syncing: %s</c>, then dump_stack() prints <c>Pid: %d, comm: %.20s %s %s</c> (taint,
/// release, version) and <c>Call Trace:</c> with one frame per line; kernels from about 3.x print
/// <c>CPU: %d PID: %d Comm: %.20s …</c> and <c>Hardware name:</c> instead, and 4.x+ end with
/// <c>---[ end Kernel panic - not syncing: … ]---</c>. The panic ends at the first record of the host that is
/// none of these.
/// </summary>
internal sealed class PanicBuilder
{
    private readonly List<KernelStackFrame> _frames = [];
    private readonly RecordContext _start;
    private readonly string _message;
    private string? _comm;
    private int? _pid;
    private string? _kernelVersion;

    private PanicBuilder(RecordContext start, string message)
    {
        _start = start;
        _message = message;
    }

    private static ReadOnlySpan<byte> PanicPrefix => "Kernel panic - not syncing: "u8;

    /// <summary>Starts a panic on <paramref name="ctx"/>'s host when the message is the panic line.</summary>
    public static Recognition TryStart(ReadOnlySpan<byte> message, in RecordContext ctx, RecogniserServices services)
    {
        if (!message.StartsWith(PanicPrefix))
        {
            return Recognition.NoMatch;
        }
        ctx.Host.Panic?.Finish(services);
        ctx.Host.Panic = new PanicBuilder(ctx, Encoding.UTF8.GetString(LogBytes.Trim(message[PanicPrefix.Length..])));
        return Recognition.Event;
    }

    /// <summary>Takes the record when it belongs to the panic's context; false means the panic is over.</summary>
    public bool TryContinue(ReadOnlySpan<byte> message, RecogniserServices services)
    {
        var s = LogBytes.Trim(message);
        if (s.IsEmpty)
        {
            return true;
        }
        if (StackFrameParser.TryParse(s, out var frame))
        {
            _frames.Add(new KernelStackFrame
            {
                Function = services.Names.Get(frame.Function),
                Offset = frame.Offset,
                Length = frame.Length,
                Module = frame.Module.IsEmpty ? null : services.Names.Get(frame.Module),
                Reliable = frame.Reliable,
                Address = frame.Address.IsEmpty ? null : Encoding.ASCII.GetString(frame.Address),
            });
            return true;
        }
        if (s.StartsWith("Pid: "u8))
        {
            ReadTaskLine(s[5..], ", comm: "u8);
            return true;
        }
        if (s.StartsWith("CPU: "u8))
        {
            int pid = s.IndexOf(" PID: "u8);
            if (pid > 0)
            {
                ReadTaskLine(s[(pid + 6)..], " Comm: "u8);
            }
            return true;
        }
        return s.StartsWith("Call Trace:"u8) || s.StartsWith("Hardware name:"u8) || s.StartsWith("<IRQ>"u8)
            || s.StartsWith("</IRQ>"u8) || s.StartsWith("<EOI>"u8) || s.StartsWith("<NMI>"u8) || s.StartsWith("</NMI>"u8)
            || s.StartsWith("---[ end "u8) || s.StartsWith("Rebooting in "u8) || s.StartsWith("Kernel Offset:"u8)
            || s.StartsWith("Shutting down cpus"u8);
    }

    /// <summary><c>1196, comm: netback/2 Not tainted 2.6.32.43-…xen #1</c> (or the CPU/PID/Comm form).</summary>
    private void ReadTaskLine(ReadOnlySpan<byte> s, ReadOnlySpan<byte> commMarker)
    {
        if (LogBytes.TryParseDecimal(s, out long pid, out _) && pid <= int.MaxValue)
        {
            _pid = (int)pid;
        }
        int comm = s.IndexOf(commMarker);
        if (comm < 0)
        {
            return;
        }
        var rest = s[(comm + commMarker.Length)..];
        // comm is %.20s and may hold spaces; the taint text bounds it.
        int taint = rest.IndexOf(" Not tainted "u8);
        int taintLength = 13;
        if (taint < 0)
        {
            taint = rest.IndexOf(" Tainted: "u8);
            taintLength = 10;
        }
        if (taint >= 0)
        {
            _comm = Encoding.UTF8.GetString(rest[..taint]);
            var after = LogBytes.TrimStart(rest[(taint + taintLength)..]);
            if (taintLength == 10)
            {
                // "Tainted: P  W  O 4.19.0+1 #1": skip the taint flags (single letters) to the release.
                while (after.Length > 1 && after[1] == ' ')
                {
                    after = LogBytes.TrimStart(after[1..]);
                }
            }
            int end = LogBytes.TokenEnd(after);
            if (end > 0)
            {
                _kernelVersion = Encoding.UTF8.GetString(after[..end]);
            }
        }
        else
        {
            _comm = Encoding.UTF8.GetString(rest[..LogBytes.TokenEnd(rest)]);
        }
    }

    /// <summary>Emits the assembled panic and detaches it from its host.</summary>
    public void Finish(RecogniserServices services)
    {
        if (ReferenceEquals(_start.Host.Panic, this))
        {
            _start.Host.Panic = null;
        }
        var frames = _frames.ToArray();
        int reliable = 0;
        foreach (var f in frames)
        {
            reliable += f.Reliable ? 1 : 0;
        }
        var trace = new string[reliable];
        int t = 0;
        foreach (var f in frames)
        {
            if (f.Reliable)
            {
                trace[t++] = f.Function;
            }
        }
        services.Outlet.Emit(new KernelPanic
        {
            Host = _start.HostName, Uptime = _start.Uptime, Time = _start.Time, SourceFile = _start.Source, SourceLine = _start.Line,
            Message = _message, Comm = _comm, Pid = _pid, KernelVersion = _kernelVersion, Trace = trace, Frames = frames,
        });
    }
}
