using FleetTwin.Ingest.Reading;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Recognisers;

/// <summary>The command a transcript's prompt ran, as far as the twin reads its output.</summary>
internal enum PromptedCommand : byte
{
    /// <summary>No prompt yet, an empty one, or the transcript's command ended (a log record came after it).</summary>
    None,

    /// <summary>A command whose output the twin does not read.</summary>
    Other,

    /// <summary><c>ethtool -k eth4</c>: offload features.</summary>
    EthtoolFeatures,

    /// <summary><c>ethtool -i eth4</c>: driver, version, firmware, bus id.</summary>
    EthtoolDriver,

    /// <summary><c>xe pif-list params=all</c> and other xe verbs: records.</summary>
    Xe,

    /// <summary><c>ip link</c> / <c>ip addr</c>: one line per interface.</summary>
    IpLink,

    /// <summary><c>cat /proc/cmdline</c> or <c>xen-cmdline</c>: dom0's command line.</summary>
    KernelCommandLine,

    /// <summary><c>lspci</c> (any of <c>-nn</c>, <c>-D</c>, <c>-k</c>, <c>-v</c>, <c>-s</c>): one line per PCI device, indented details below.</summary>
    Lspci,
}

/// <summary>The xe class a record belongs to: told by the prompt's verb, or by the record's own fields.</summary>
internal enum XeClass : byte { Unknown, Pif, Bond, Host, Pool, Patch, Update, Vm }

/// <summary>
/// The last shell prompt of a transcript: <c>[root@xs62-a01 ~]# ethtool -i eth4</c> names the host of the output
/// below it, the command, and for ethtool the interface. The host stays until the next prompt; the command ends
/// with the output (<see cref="EndCommand"/>).
/// </summary>
internal sealed class ShellPrompt(Utf8StringCache names)
{
    /// <summary>The prompt's host (it wins over --host); null before the first prompt or when it named none.</summary>
    public string? Host { get; private set; }

    public PromptedCommand Command { get; private set; }

    /// <summary>The class an xe verb names (<c>pif-list</c> → Pif); Unknown for other commands and unmodelled verbs.</summary>
    public XeClass XeClass { get; private set; }

    /// <summary>The prompt named an xe verb (so an Unknown class means one the twin does not model, not one it could not tell).</summary>
    public bool XeVerbKnown { get; private set; }

    /// <summary>The interface ethtool was asked about (<c>eth4</c>), when the command named one.</summary>
    public string? EthtoolDevice { get; private set; }

    /// <summary>The command's output is one the twin reads, so bare lines go to command output first.</summary>
    public bool ExpectsOutput => Command is PromptedCommand.EthtoolFeatures or PromptedCommand.EthtoolDriver
        or PromptedCommand.Xe or PromptedCommand.IpLink or PromptedCommand.KernelCommandLine or PromptedCommand.Lspci;

    /// <summary>Takes the host and command of a parsed prompt line.</summary>
    public void Take(ReadOnlySpan<byte> host, ReadOnlySpan<byte> command)
    {
        Host = host.IsEmpty ? null : names.Get(host);
        ParseCommand(command);
    }

    /// <summary>The output is over (a log record came after it); the prompt's host stays.</summary>
    public void EndCommand()
    {
        Command = PromptedCommand.None;
        XeClass = XeClass.Unknown;
        EthtoolDevice = null;
    }

    /// <summary><c>[user@host dir]# cmd</c> (XenServer's bash PS1) or <c>user@host:dir# cmd</c> (Debian-style).</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> host, out ReadOnlySpan<byte> command)
    {
        host = command = default;
        int marker;
        if (line.Length > 3 && line[0] == '[')
        {
            int close = line.IndexOf("]# "u8);
            if (close < 0)
            {
                close = line.IndexOf("]$ "u8);
            }
            if (close < 0)
            {
                return false;
            }
            var inside = line[1..close];
            int at = inside.IndexOf((byte)'@');
            if (at <= 0)
            {
                return false;
            }
            var rest = inside[(at + 1)..];
            host = rest[..LogBytes.TokenEnd(rest)];
            marker = close + 3;
        }
        else
        {
            int at = line.IndexOf((byte)'@');
            int colon = line.IndexOf((byte)':');
            if (at <= 0 || colon <= at + 1 || line[..at].IndexOf((byte)' ') >= 0 || line[at..colon].IndexOf((byte)' ') >= 0)
            {
                return false;
            }
            int end = line[colon..].IndexOfAny("# "u8);
            var afterColon = line[colon..];
            int sign = afterColon.IndexOf("# "u8);
            if (sign < 0)
            {
                sign = afterColon.IndexOf("$ "u8);
            }
            if (sign < 0 || end < 0 || afterColon[..sign].IndexOf((byte)' ') >= 0)
            {
                return false;
            }
            host = line[(at + 1)..colon];
            marker = colon + sign + 2;
        }
        command = LogBytes.Trim(line[marker..]);
        return true;
    }

    private void ParseCommand(ReadOnlySpan<byte> command)
    {
        XeVerbKnown = false;
        Command = command.IsEmpty ? PromptedCommand.None : PromptedCommand.Other;
        XeClass = XeClass.Unknown;
        EthtoolDevice = null;
        var first = Token(ref command);
        if (first.SequenceEqual("xe"u8))
        {
            Command = PromptedCommand.Xe;
            var verb = Token(ref command);
            XeVerbKnown = !verb.IsEmpty;
            XeClass = verb.StartsWith("pif-"u8) ? XeClass.Pif
                : verb.StartsWith("bond-"u8) ? XeClass.Bond
                : verb.StartsWith("host-"u8) ? XeClass.Host
                : verb.StartsWith("pool-"u8) ? XeClass.Pool
                : verb.StartsWith("patch-"u8) ? XeClass.Patch
                : verb.StartsWith("update-"u8) ? XeClass.Update
                : verb.StartsWith("vm-"u8) ? XeClass.Vm
                : XeClass.Unknown;
        }
        else if (first.SequenceEqual("ethtool"u8))
        {
            var mode = PromptedCommand.Other;
            ReadOnlySpan<byte> last = default;
            while (!command.IsEmpty)
            {
                var token = Token(ref command);
                if (token.SequenceEqual("-k"u8) || token.SequenceEqual("--show-features"u8) || token.SequenceEqual("--show-offload"u8))
                {
                    mode = PromptedCommand.EthtoolFeatures;
                }
                else if (token.SequenceEqual("-i"u8) || token.SequenceEqual("--driver"u8))
                {
                    mode = PromptedCommand.EthtoolDriver;
                }
                else if (!token.IsEmpty && token[0] != '-' && token[0] != '|')
                {
                    last = token;
                }
                else if (!token.IsEmpty && token[0] == '|')
                {
                    break;
                }
            }
            Command = mode;
            EthtoolDevice = last.IsEmpty ? null : names.Get(last);
        }
        else if (first.SequenceEqual("ip"u8))
        {
            while (!command.IsEmpty)
            {
                var token = Token(ref command);
                if (token.SequenceEqual("link"u8) || token.SequenceEqual("l"u8) || token.SequenceEqual("addr"u8) || token.SequenceEqual("a"u8))
                {
                    Command = PromptedCommand.IpLink;
                    break;
                }
            }
        }
        else if (first.SequenceEqual("lspci"u8) || first.EndsWith("/lspci"u8))
        {
            Command = PromptedCommand.Lspci;
        }
        else if ((first.SequenceEqual("cat"u8) && command.IndexOf("/proc/cmdline"u8) >= 0) || first.EndsWith("xen-cmdline"u8))
        {
            Command = PromptedCommand.KernelCommandLine;
        }
    }

    private static ReadOnlySpan<byte> Token(scoped ref ReadOnlySpan<byte> s)
    {
        s = LogBytes.TrimStart(s);
        int end = LogBytes.TokenEnd(s);
        var token = s[..end];
        s = s[end..];
        return token;
    }
}
