using System.Text;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>
/// Boots and log-daemon starts. start_kernel() printk's the banner <c>Linux version %s (%s@%s) (%s) %s</c> first;
/// sysklogd 1.4.1 (XenServer 6.2's dom0) logs <c>klogd 1.4.1, log source = /proc/kmsg started.</c> and
/// <c>syslogd 1.4.1: restart.</c>; rsyslog logs <c>[origin software="rsyslogd" swVersion="…" …] start</c>;
/// syslog-ng logs <c>syslog-ng starting up; version='…'</c>; journalctl prints <c>-- Reboot --</c> between boots.
/// Either kind of line means the host's previous boot is over, so its domains are stopped.
/// </summary>
internal static class HostLifecycleRecogniser
{
    private static ReadOnlySpan<byte> LinuxVersion => "Linux version "u8;
    private static ReadOnlySpan<byte> KernelCommandLine => "Kernel command line: "u8;

    public static Recognition TryBoot(ReadOnlySpan<byte> message, in RecordContext ctx, RecogniserServices services)
    {
        if (!message.StartsWith(LinuxVersion))
        {
            return Recognition.NoMatch;
        }
        var rest = message[LinuxVersion.Length..];
        int end = LogBytes.TokenEnd(rest);
        if (end == 0)
        {
            return Recognition.Malformed;
        }
        string version = Encoding.UTF8.GetString(rest[..end]);
        var release = services.Releases.Find(version);
        VmLifecycleTracker.HostRebooted(ctx, services);
        services.Outlet.Emit(new KernelBoot
        {
            Host = ctx.HostName, Uptime = ctx.Uptime, Time = ctx.Time, SourceFile = ctx.Source, SourceLine = ctx.Line,
            KernelVersion = version, XenServerRelease = release?.Release, ReleaseConfirmed = release?.Confirmed ?? false,
        });
        return Recognition.Event;
    }

    public static Recognition TryLogDaemon(ReadOnlySpan<byte> message, in RecordContext ctx, RecogniserServices services)
    {
        string daemon;
        string? version = null;
        if (message.StartsWith("klogd "u8) || message.StartsWith("syslogd "u8))
        {
            if (message.IndexOf("started"u8) < 0 && message.IndexOf("restart"u8) < 0)
            {
                return Recognition.NoMatch;
            }
            int space = message.IndexOf((byte)' ');
            daemon = message[0] == 'k' ? "klogd" : "syslogd";
            var v = message[(space + 1)..];
            int end = v.IndexOfAny((byte)',', (byte)':', (byte)' ');
            v = end < 0 ? v : v[..end];
            version = v.IsEmpty || !LogBytes.IsDigit(v[0]) ? null : services.Names.Get(v);
        }
        else if (message.StartsWith("[origin software=\"rsyslogd\""u8))
        {
            if (!LogBytes.TrimEnd(message).EndsWith("] start"u8))
            {
                return Recognition.Informational;
            }
            daemon = "rsyslogd";
            version = QuotedAttribute(message, "swVersion=\""u8, services);
        }
        else if (message.StartsWith("syslog-ng starting up"u8))
        {
            daemon = "syslog-ng";
            version = QuotedAttribute(message, "version='"u8, services);
        }
        else
        {
            return Recognition.NoMatch;
        }
        EmitRestart(daemon, version, ctx, services);
        return Recognition.Event;
    }

    /// <summary>journalctl's <c>-- Reboot --</c> (and <c>-- Boot &lt;id&gt; --</c> in newer systemd) separate boots.</summary>
    public static Recognition TryJournalSeparator(ReadOnlySpan<byte> message, in RecordContext ctx, RecogniserServices services)
    {
        if (message.StartsWith("-- Reboot --"u8) || message.StartsWith("-- Boot "u8))
        {
            EmitRestart("journal", null, ctx, services);
            return Recognition.Event;
        }
        return Recognition.Informational;
    }

    public static Recognition TryCommandLine(ReadOnlySpan<byte> message, in RecordContext ctx, RecogniserServices services)
    {
        if (!message.StartsWith(KernelCommandLine))
        {
            return Recognition.NoMatch;
        }
        EmitCommandLine(LogBytes.Trim(message[KernelCommandLine.Length..]), ctx, services);
        return Recognition.Event;
    }

    /// <summary>A dom0 command line (from the boot log, /proc/cmdline or xen-cmdline): its swiotlb= option sizes the pool.</summary>
    public static void EmitCommandLine(ReadOnlySpan<byte> commandLine, in RecordContext ctx, RecogniserServices services)
    {
        string? swiotlb = null;
        int? size = null;
        var rest = commandLine;
        while (!rest.IsEmpty)
        {
            rest = LogBytes.TrimStart(rest);
            int end = LogBytes.TokenEnd(rest);
            var token = rest[..end];
            if (token.StartsWith("swiotlb="u8))
            {
                // The last occurrence wins, as the kernel's early_param parsing applies them in order.
                var value = token[8..];
                swiotlb = Encoding.UTF8.GetString(value);
                size = LogBytes.TryParseDecimal(value, out long n, out _) && n <= int.MaxValue ? (int)n : null;
            }
            rest = rest[end..];
        }
        services.Outlet.Emit(new Dom0CommandLine
        {
            Host = ctx.HostName, Uptime = ctx.Uptime, Time = ctx.Time, SourceFile = ctx.Source, SourceLine = ctx.Line,
            CommandLine = Encoding.UTF8.GetString(commandLine), Swiotlb = swiotlb, SwiotlbSize = size,
        });
    }

    private static void EmitRestart(string daemon, string? version, in RecordContext ctx, RecogniserServices services)
    {
        VmLifecycleTracker.HostRebooted(ctx, services);
        services.Outlet.Emit(new LogDaemonRestart
        {
            Host = ctx.HostName, Uptime = ctx.Uptime, Time = ctx.Time, SourceFile = ctx.Source, SourceLine = ctx.Line,
            Daemon = daemon, Version = version,
        });
    }

    private static string? QuotedAttribute(ReadOnlySpan<byte> message, ReadOnlySpan<byte> key, RecogniserServices services)
    {
        int at = message.IndexOf(key);
        if (at < 0)
        {
            return null;
        }
        var value = message[(at + key.Length)..];
        byte quote = key[^1];
        int end = value.IndexOf(quote);
        return end <= 0 ? null : services.Names.Get(value[..end]);
    }
}
