using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>
/// Routes one log message to the recogniser that knows it, by its first byte, so an unrecognised line costs a
/// switch and a few prefix compares and no allocation.
/// </summary>
internal static class KernelMessageRecogniser
{
    public static Recognition Recognise(ReadOnlySpan<byte> message, in RecordContext ctx, RecogniserServices services)
    {
        var host = ctx.Host;
        if (host.Panic is { } panic)
        {
            if (panic.TryContinue(message, services))
            {
                return Recognition.Event;
            }
            panic.Finish(services);
        }
        message = LogBytes.TrimStart(message);
        if (message.IsEmpty)
        {
            return Recognition.Informational;
        }
        var body = DevicePrefix.Split(message, out var prefix);
        if (body.IsEmpty)
        {
            return Recognition.NoMatch;
        }
        var result = Dispatch(body, prefix, ctx, services);
        return result != Recognition.NoMatch ? result : FrameOutsidePanic(body);
    }

    private static Recognition Dispatch(ReadOnlySpan<byte> body, in DevicePrefix prefix, in RecordContext ctx, RecogniserServices services)
    {
        switch (body[0])
        {
            case (byte)'P':
            case (byte)'D':
                return SwiotlbRecogniser.TryOutOfSpace(body, prefix, ctx, services);
            case (byte)'s':
                return First(
                    SwiotlbRecogniser.TryBufferFull(body, prefix, ctx, services),
                    body, prefix, ctx, services);
            case (byte)'c':
                return SwiotlbRecogniser.TryCoherentFailed(body, prefix, ctx, services);
            case (byte)'K':
                var panicStart = PanicBuilder.TryStart(body, ctx, services);
                return panicStart != Recognition.NoMatch ? panicStart : HostLifecycleRecogniser.TryCommandLine(body, ctx, services);
            case (byte)'L':
                return HostLifecycleRecogniser.TryBoot(body, ctx, services);
            case (byte)'k':
                return HostLifecycleRecogniser.TryLogDaemon(body, ctx, services);
            case (byte)'/':
                return VmLifecycleTracker.TryXenbusState(body, ctx, services);
            case (byte)'d':
                return VmLifecycleTracker.TryPromiscuous(body, ctx, services);
            case (byte)'b':
            case (byte)'x':
                return VmLifecycleTracker.TryBlkback(body, ctx, services);
            case (byte)'f':
                return VmLifecycleTracker.TryReconnect(body, ctx);
            case (byte)'[':
                return HostLifecycleRecogniser.TryLogDaemon(body, ctx, services);
            case (byte)'C':
                // Call Trace / CPU lines of an oops or warning that is not a panic: known shape, no fact.
                return body.StartsWith("Call Trace:"u8) || body.StartsWith("CPU: "u8) ? Recognition.Informational : Recognition.NoMatch;
            default:
                return Recognition.NoMatch;
        }
    }

    /// <summary>The 's' family: swiotlb buffer full, swiotlb coherent failure, syslogd/syslog-ng starts.</summary>
    private static Recognition First(Recognition bufferFull, ReadOnlySpan<byte> body, in DevicePrefix prefix, in RecordContext ctx, RecogniserServices services)
    {
        if (bufferFull != Recognition.NoMatch)
        {
            return bufferFull;
        }
        var coherent = SwiotlbRecogniser.TryCoherentFailed(body, prefix, ctx, services);
        return coherent != Recognition.NoMatch ? coherent : HostLifecycleRecogniser.TryLogDaemon(body, ctx, services);
    }

    /// <summary>Frames of a WARN/oops trace (no panic being assembled): recognised, but no event.</summary>
    private static Recognition FrameOutsidePanic(ReadOnlySpan<byte> body)
        => StackFrameParser.TryParse(body, out _) ? Recognition.Informational : Recognition.NoMatch;
}
