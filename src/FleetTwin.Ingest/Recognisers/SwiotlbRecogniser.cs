using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>
/// The SWIOTLB-full messages. 2.6.32 lib/swiotlb.c swiotlb_full() prints
/// <c>DMA: Out of SW-IOMMU space for %zu bytes at device %s</c>; XenServer 6.2's classic-Xen kernel prints it with a
/// <c>PCI-DMA:</c> prefix; later 3.x/4.x kernels print it through dev_err (<c>bnx2x 0000:04:00.0: DMA: …</c>).
/// 4.x+ swiotlb_tbl_map_single() warns <c>swiotlb buffer is full (sz: %zd bytes)</c>, with
/// <c>, total %lu (slots), used %lu (slots)</c> from about 5.x; swiotlb_alloc_coherent() warns
/// <c>swiotlb: coherent allocation failed for device %s size=%zu</c> (later the dev_warn form <c>…, size=%zu</c>).
/// </summary>
internal static class SwiotlbRecogniser
{
    private static ReadOnlySpan<byte> OutOfSpace => "Out of SW-IOMMU space for "u8;
    private static ReadOnlySpan<byte> BytesAtDevice => " bytes at device "u8;
    private static ReadOnlySpan<byte> BufferFull => "swiotlb buffer is full (sz: "u8;
    private static ReadOnlySpan<byte> CoherentFailed => "coherent allocation failed"u8;

    /// <summary><c>PCI-DMA: Out of SW-IOMMU space…</c> or <c>DMA: Out of SW-IOMMU space…</c>.</summary>
    public static Recognition TryOutOfSpace(ReadOnlySpan<byte> message, in DevicePrefix prefix, in RecordContext ctx, RecogniserServices services)
    {
        string variant;
        ReadOnlySpan<byte> rest;
        if (message.StartsWith("PCI-DMA: "u8))
        {
            variant = SwiotlbMessageVariant.PciDmaOutOfSwIommu;
            rest = message[9..];
        }
        else if (message.StartsWith("DMA: "u8))
        {
            variant = prefix.HasDevice ? SwiotlbMessageVariant.DeviceOutOfSwIommu : SwiotlbMessageVariant.DmaOutOfSwIommu;
            rest = message[5..];
        }
        else
        {
            return Recognition.NoMatch;
        }
        if (!rest.StartsWith(OutOfSpace))
        {
            return Recognition.NoMatch;
        }
        rest = rest[OutOfSpace.Length..];
        if (!LogBytes.TryParseDecimal(rest, out long bytes, out int digits))
        {
            return Recognition.Malformed;
        }
        rest = rest[digits..];
        string? device = prefix.HasDevice ? DevicePrefix.DeviceName(services.Names, prefix.Device) : null;
        if (rest.StartsWith(BytesAtDevice))
        {
            var name = rest[BytesAtDevice.Length..];
            name = name[..LogBytes.TokenEnd(name)];
            if (name.IsEmpty)
            {
                return Recognition.Malformed;
            }
            device = DevicePrefix.DeviceName(services.Names, name);
        }
        else if (!rest.StartsWith(" bytes"u8))
        {
            return Recognition.Malformed;
        }
        if (ctx.Host.IsSameFailureAsBufferFull(bytes, device))
        {
            // 4.x swiotlb_tbl_map_single() warns "swiotlb buffer is full (sz: N bytes)" and its caller's swiotlb_full()
            // then logs "DMA: Out of SW-IOMMU space for N bytes" for the same mapping: one failure, two lines.
            return Recognition.Informational;
        }
        services.Outlet.Emit(new SwiotlbExhausted
        {
            Host = ctx.HostName, Uptime = ctx.Uptime, Time = ctx.Time, SourceFile = ctx.Source, SourceLine = ctx.Line,
            Bytes = bytes, Device = device, Driver = prefix.HasDevice ? services.Names.Get(prefix.Driver) : null, Variant = variant,
        });
        return Recognition.Event;
    }

    /// <summary><c>swiotlb buffer is full (sz: N bytes)[, total N (slots), used N (slots)]</c>.</summary>
    public static Recognition TryBufferFull(ReadOnlySpan<byte> message, in DevicePrefix prefix, in RecordContext ctx, RecogniserServices services)
    {
        if (!message.StartsWith(BufferFull))
        {
            // 3.x swiotlb_tbl_map_single() warns "swiotlb buffer is full" without the size; swiotlb_full() logs the
            // failure with its size on the next line, so the bare warning is known but no event of its own.
            return LogBytes.TrimEnd(message).SequenceEqual("swiotlb buffer is full"u8) ? Recognition.Informational : Recognition.NoMatch;
        }
        var rest = message[BufferFull.Length..];
        if (!LogBytes.TryParseDecimal(rest, out long bytes, out int digits) || !rest[digits..].StartsWith(" bytes)"u8))
        {
            return Recognition.Malformed;
        }
        rest = rest[(digits + 7)..];
        long? total = null;
        long? used = null;
        if (rest.StartsWith(", total "u8) && LogBytes.TryParseDecimal(rest[8..], out long t, out int td))
        {
            total = t;
            rest = rest[(8 + td)..];
            if (rest.StartsWith(" (slots), used "u8) && LogBytes.TryParseDecimal(rest[15..], out long u, out _))
            {
                used = u;
            }
        }
        string? bufferFullDevice = prefix.HasDevice ? DevicePrefix.DeviceName(services.Names, prefix.Device) : null;
        ctx.Host.RememberBufferFull(bytes, bufferFullDevice);
        services.Outlet.Emit(new SwiotlbExhausted
        {
            Host = ctx.HostName, Uptime = ctx.Uptime, Time = ctx.Time, SourceFile = ctx.Source, SourceLine = ctx.Line,
            Bytes = bytes,
            Device = bufferFullDevice,
            Driver = prefix.HasDevice ? services.Names.Get(prefix.Driver) : null,
            TotalSlots = total, UsedSlots = used, Variant = SwiotlbMessageVariant.BufferIsFull,
        });
        return Recognition.Event;
    }

    /// <summary><c>[swiotlb: ]coherent allocation failed for device D size=N</c> or <c>…coherent allocation failed, size=N</c>.</summary>
    public static Recognition TryCoherentFailed(ReadOnlySpan<byte> message, in DevicePrefix prefix, in RecordContext ctx, RecogniserServices services)
    {
        var rest = message.StartsWith("swiotlb: "u8) ? message[9..] : message;
        if (!rest.StartsWith(CoherentFailed))
        {
            return Recognition.NoMatch;
        }
        rest = rest[CoherentFailed.Length..];
        string? device = prefix.HasDevice ? DevicePrefix.DeviceName(services.Names, prefix.Device) : null;
        if (rest.StartsWith(" for device "u8))
        {
            rest = rest[12..];
            int end = LogBytes.TokenEnd(rest);
            if (end == 0)
            {
                return Recognition.Malformed;
            }
            device = DevicePrefix.DeviceName(services.Names, rest[..end]);
            rest = rest[end..];
        }
        int size = rest.IndexOf("size="u8);
        if (size < 0 || !LogBytes.TryParseDecimal(rest[(size + 5)..], out long bytes, out _))
        {
            return Recognition.Malformed;
        }
        if (ctx.Host.IsSameFailureAsBufferFull(bytes, device))
        {
            // swiotlb_alloc_coherent() falls back to swiotlb_tbl_map_single(), which warns "buffer is full" first:
            // the coherent-allocation warning on the next line is the same failed allocation.
            return Recognition.Informational;
        }
        services.Outlet.Emit(new SwiotlbExhausted
        {
            Host = ctx.HostName, Uptime = ctx.Uptime, Time = ctx.Time, SourceFile = ctx.Source, SourceLine = ctx.Line,
            Bytes = bytes, Device = device, Driver = prefix.HasDevice ? services.Names.Get(prefix.Driver) : null,
            Variant = SwiotlbMessageVariant.CoherentAllocationFailed,
        });
        return Recognition.Event;
    }
}
