namespace FleetTwin.Ingest.Framing;

/// <summary>The shape of a record's prefix; records pasted onto one line are split on prefixes of the same family.</summary>
internal enum RecordFamily : byte
{
    /// <summary>No prefix: command output, a pasted message, or text we do not know.</summary>
    None,

    /// <summary>BSD syslog / RFC 3164 / journalctl short and short-precise: <c>Sep 17 05:05:06[.ffffff] host tag: msg</c>, optionally after <c>&lt;PRI&gt;</c>.</summary>
    Bsd,

    /// <summary>journalctl short-iso(-precise) or a forwarder's RFC 3339 stamp: <c>2019-09-17T05:05:06+0000 host tag: msg</c>.</summary>
    Iso,

    /// <summary>RFC 5424: <c>&lt;PRI&gt;1 TIMESTAMP HOST APP PROCID MSGID SD MSG</c>.</summary>
    Rfc5424,

    /// <summary>Kernel console / crash-dump dom0.log: <c>&lt;3&gt;[2777545.972710] msg</c> (or <c>&lt;3&gt;msg</c> as /proc/kmsg gives it).</summary>
    Console,

    /// <summary>Plain dmesg: <c>[2777545.972710] msg</c>.</summary>
    Dmesg,

    /// <summary>dmesg -T: <c>[Tue Sep 17 05:05:06 2019] msg</c>.</summary>
    DmesgHuman,

    /// <summary>journalctl -o json: one JSON object per line.</summary>
    JournalJson,

    /// <summary>journalctl separators: <c>-- Reboot --</c>, <c>-- Logs begin at … --</c>.</summary>
    JournalSeparator,
}
