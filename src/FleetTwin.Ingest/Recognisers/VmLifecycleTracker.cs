using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>Per-domain memory of its backend devices on one host.</summary>
internal sealed class DomainState
{
    /// <summary>Device key (kind * 2^32 + index) -> open.</summary>
    public readonly Dictionary<long, bool> Devices = [];
    public bool Running;
    public bool StopPending;
    public RecordContext PendingSince;

    public int OpenDevices()
    {
        int open = 0;
        foreach (var (_, isOpen) in Devices)
        {
            open += isOpen ? 1 : 0;
        }
        return open;
    }
}

/// <summary>
/// Domain starts and stops from what dom0's backends log. Decision (documented in docs/ingest.md):
/// <list type="bullet">
/// <item>Started: the first sign that a backend device of the domain is up while the domain is not running —
/// xenbus state <c>Connected</c> of <c>/local/domain/D/device/vif|vbd/N</c>, <c>device vifD.N</c> or
/// <c>tapD.N entered promiscuous mode</c> (the backend netdev joined the bridge), a blkback line naming
/// <c>backend/vbd/D/…</c>, or a <c>blkback:</c> attach line right after D's devices started initialising
/// (2.6.32 blkback names no domid).</item>
/// <item>Reconnects are not starts: <c>Initialising</c>, <c>Closing</c>, <c>Closed</c> then <c>Connected</c> again
/// (an HVM guest swapping emulated for PV devices, the KB log's domain 174) keep the domain running.</item>
/// <item>Stopped: every known device of the domain is <c>Closed</c> and none re-initialises within
/// <see cref="LogParserOptions.VmStopGraceSeconds"/> of host uptime (or by the end of the log); or its last vif
/// <c>left promiscuous mode</c> (the netdev was torn down); or the host rebooted (a boot banner or log-daemon
/// start ends every domain of the previous boot).</item>
/// </list>
/// </summary>
internal static class VmLifecycleTracker
{
    private const long Vif = 1L << 32;
    private const long Vbd = 2L << 32;
    private const long Tap = 3L << 32;

    private static ReadOnlySpan<byte> LocalDomain => "/local/domain/"u8;

    /// <summary><c>/local/domain/174/device/vif/0: Connected</c> — the xenbus backend's view of the frontend state.</summary>
    public static Recognition TryXenbusState(ReadOnlySpan<byte> message, in RecordContext ctx, RecogniserServices services)
    {
        if (!message.StartsWith(LocalDomain))
        {
            return Recognition.NoMatch;
        }
        var s = message[LocalDomain.Length..];
        if (!LogBytes.TryParseDecimal(s, out long domid, out int d) || domid > int.MaxValue || !s[d..].StartsWith("/device/"u8))
        {
            return Recognition.Malformed;
        }
        s = s[(d + 8)..];
        long kind;
        if (s.StartsWith("vif/"u8))
        {
            kind = Vif;
        }
        else if (s.StartsWith("vbd/"u8))
        {
            kind = Vbd;
        }
        else
        {
            return Recognition.Informational;
        }
        s = s[4..];
        if (!LogBytes.TryParseDecimal(s, out long index, out int n) || !s[n..].StartsWith(": "u8))
        {
            return Recognition.Malformed;
        }
        var state = LogBytes.Trim(s[(n + 2)..]);
        long key = kind + (index & 0xFFFF_FFFF);
        if (state.SequenceEqual("Connected"u8))
        {
            return DeviceUp((int)domid, key, kind == Vif ? "vif_connected" : "vbd_connected", ctx, services);
        }
        if (state.SequenceEqual("Closed"u8))
        {
            return DeviceClosed((int)domid, key, ctx);
        }
        if (state.StartsWith("Init"u8) || state.StartsWith("Reconfigur"u8))
        {
            // Initialising/InitWait/Initialised: a (re)connect is under way, so a pending stop is off.
            var domain = Domain(ctx.Host, (int)domid);
            CancelPendingStop(ctx.Host, domain);
            if (!domain.Running)
            {
                ctx.Host.InitialisingDomid = (int)domid;
            }
            return Recognition.Informational;
        }
        return state.SequenceEqual("Closing"u8) || state.SequenceEqual("Unknown"u8) ? Recognition.Informational : Recognition.Malformed;
    }

    /// <summary><c>device vif174.0 entered promiscuous mode</c> / <c>left promiscuous mode</c> (dev_set_promiscuity when the bridge adds/removes the port).</summary>
    public static Recognition TryPromiscuous(ReadOnlySpan<byte> message, in RecordContext ctx, RecogniserServices services)
    {
        if (!message.StartsWith("device "u8))
        {
            return Recognition.NoMatch;
        }
        var s = message[7..];
        long kind;
        if (s.StartsWith("vif"u8))
        {
            kind = Vif;
        }
        else if (s.StartsWith("tap"u8))
        {
            kind = Tap;
        }
        else
        {
            return Recognition.NoMatch;
        }
        s = s[3..];
        if (!LogBytes.TryParseDecimal(s, out long domid, out int d) || domid > int.MaxValue || d >= s.Length || s[d] != '.')
        {
            return Recognition.NoMatch;
        }
        s = s[(d + 1)..];
        if (!LogBytes.TryParseDecimal(s, out long index, out int n))
        {
            return Recognition.Malformed;
        }
        s = s[n..];
        long key = kind + (index & 0xFFFF_FFFF);
        if (s.StartsWith(" entered promiscuous mode"u8))
        {
            return DeviceUp((int)domid, key, kind == Vif ? "vif_promiscuous" : "tap_promiscuous", ctx, services);
        }
        if (s.StartsWith(" left promiscuous mode"u8))
        {
            return DeviceRemoved((int)domid, key, ctx, services);
        }
        return Recognition.Informational;
    }

    /// <summary>
    /// blkback lines. 2.6.32 blkback prints <c>blkback: ring-ref 8</c>, <c>event-channel 6</c>, <c>protocol 1 (…)</c>
    /// when it connects a ring — without a domid; later xen-blkback prints <c>backend/vbd/D/N: …</c>.
    /// </summary>
    public static Recognition TryBlkback(ReadOnlySpan<byte> message, in RecordContext ctx, RecogniserServices services)
    {
        bool classic = message.StartsWith("blkback: "u8);
        if (!classic && !message.StartsWith("xen-blkback:"u8))
        {
            return Recognition.NoMatch;
        }
        int backend = message.IndexOf("backend/vbd/"u8);
        if (backend >= 0)
        {
            var s = message[(backend + 12)..];
            if (LogBytes.TryParseDecimal(s, out long domid, out int d) && domid <= int.MaxValue && d < s.Length && s[d] == '/'
                && LogBytes.TryParseDecimal(s[(d + 1)..], out long index, out _))
            {
                return DeviceUp((int)domid, Vbd + (index & 0xFFFF_FFFF), "blkback_attach", ctx, services);
            }
            return Recognition.Informational;
        }
        var host = ctx.Host;
        if (classic && host.InitialisingDomid >= 0 && host.Domains.TryGetValue(host.InitialisingDomid, out var domain) && !domain.Running)
        {
            // 2.6.32 blkback names no domid; it connects the ring of the domain whose devices are initialising.
            return Start(host.InitialisingDomid, domain, "blkback_attach", ctx, services);
        }
        return Recognition.Informational;
    }

    /// <summary><c>frontend_changed: backend/vif/174/0: prepare for reconnect</c> (netback): the vif comes back, so no stop.</summary>
    public static Recognition TryReconnect(ReadOnlySpan<byte> message, in RecordContext ctx)
    {
        if (!message.StartsWith("frontend_changed: "u8))
        {
            return Recognition.NoMatch;
        }
        int at = message.IndexOf("backend/vif/"u8);
        if (at >= 0 && LogBytes.TryParseDecimal(message[(at + 12)..], out long domid, out _) && domid <= int.MaxValue
            && ctx.Host.Domains.TryGetValue((int)domid, out var domain))
        {
            CancelPendingStop(ctx.Host, domain);
        }
        return Recognition.Informational;
    }

    /// <summary>Confirms stops whose grace period has passed by <paramref name="now"/>'s uptime (or time).</summary>
    public static void ConfirmStops(in RecordContext now, RecogniserServices services, bool endOfInput)
    {
        var host = now.Host;
        if (host.PendingStops == 0)
        {
            return;
        }
        foreach (var (domid, domain) in host.Domains)
        {
            if (!domain.StopPending)
            {
                continue;
            }
            var since = domain.PendingSince;
            bool elapsed = endOfInput
                || (now.Uptime is double u && since.Uptime is double s0 && (u - s0 >= services.VmStopGraceSeconds || u < s0))
                || (now.Uptime is null && now.Time is DateTimeOffset t && since.Time is DateTimeOffset t0
                    && (t - t0).TotalSeconds >= services.VmStopGraceSeconds);
            if (elapsed)
            {
                domain.StopPending = false;
                domain.Running = false;
                host.PendingStops--;
                EmitStop(domid, "devices_closed", since, services);
            }
        }
    }

    /// <summary>A new boot: every domain of the previous one has stopped.</summary>
    public static void HostRebooted(in RecordContext ctx, RecogniserServices services)
    {
        var host = ctx.Host;
        foreach (var (domid, domain) in host.Domains)
        {
            if (domain.StopPending)
            {
                EmitStop(domid, "devices_closed", domain.PendingSince, services);
            }
            else if (domain.Running)
            {
                EmitStop(domid, "host_reboot", ctx, services);
            }
        }
        host.Domains.Clear();
        host.PendingStops = 0;
        host.InitialisingDomid = -1;
    }

    private static Recognition DeviceUp(int domid, long key, string evidence, in RecordContext ctx, RecogniserServices services)
    {
        var domain = Domain(ctx.Host, domid);
        domain.Devices[key] = true;
        CancelPendingStop(ctx.Host, domain);
        return domain.Running ? Recognition.Informational : Start(domid, domain, evidence, ctx, services);
    }

    private static Recognition Start(int domid, DomainState domain, string evidence, in RecordContext ctx, RecogniserServices services)
    {
        domain.Running = true;
        if (ctx.Host.InitialisingDomid == domid)
        {
            ctx.Host.InitialisingDomid = -1;
        }
        services.Outlet.Emit(new VmStarted
        {
            Host = ctx.HostName, Uptime = ctx.Uptime, Time = ctx.Time, SourceFile = ctx.Source, SourceLine = ctx.Line,
            Domid = domid, Evidence = evidence,
        });
        return Recognition.Event;
    }

    private static Recognition DeviceClosed(int domid, long key, in RecordContext ctx)
    {
        var domain = Domain(ctx.Host, domid);
        domain.Devices[key] = false;
        if (domain.Running && !domain.StopPending && domain.OpenDevices() == 0)
        {
            domain.StopPending = true;
            domain.PendingSince = ctx;
            ctx.Host.PendingStops++;
        }
        return Recognition.Informational;
    }

    private static Recognition DeviceRemoved(int domid, long key, in RecordContext ctx, RecogniserServices services)
    {
        var domain = Domain(ctx.Host, domid);
        domain.Devices[key] = false;
        if (!domain.Running || domain.OpenDevices() > 0)
        {
            return Recognition.Informational;
        }
        CancelPendingStop(ctx.Host, domain);
        domain.Running = false;
        EmitStop(domid, "vif_removed", ctx, services);
        return Recognition.Event;
    }

    private static void CancelPendingStop(HostLogMemory host, DomainState domain)
    {
        if (domain.StopPending)
        {
            domain.StopPending = false;
            host.PendingStops--;
        }
    }

    private static DomainState Domain(HostLogMemory host, int domid)
    {
        if (!host.Domains.TryGetValue(domid, out var domain))
        {
            domain = new DomainState();
            host.Domains[domid] = domain;
        }
        return domain;
    }

    private static void EmitStop(int domid, string evidence, in RecordContext at, RecogniserServices services)
    {
        services.Outlet.Emit(new VmStopped
        {
            Host = at.HostName, Uptime = at.Uptime, Time = at.Time, SourceFile = at.Source, SourceLine = at.Line,
            Domid = domid, Evidence = evidence,
        });
    }
}
