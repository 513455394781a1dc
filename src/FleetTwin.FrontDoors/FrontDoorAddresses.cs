namespace FleetTwin.FrontDoors;

/// <summary>Where each door listens once started (ports of 0 resolved), e.g. <c>syslog tcp 127.0.0.1:5514</c>.</summary>
public sealed class FrontDoorAddresses
{
    public System.Net.IPEndPoint? SyslogUdp { get; internal set; }

    public System.Net.IPEndPoint? SyslogTcp { get; internal set; }

    /// <summary>Syslog over TLS (RFC 5425); null when closed or without <c>FleetTwin:Tls</c>.</summary>
    public System.Net.IPEndPoint? SyslogTls { get; internal set; }

    /// <summary>The syslog-TLS door requires client certificates (FleetTwin:Tls:ClientCaPath).</summary>
    public bool SyslogTlsClientCertificates { get; internal set; }

    public System.Net.IPEndPoint? Relp { get; internal set; }

    /// <summary>The RELP door speaks TLS (FleetTwin:Tls).</summary>
    public bool RelpTls { get; internal set; }

    /// <summary>HTTP path prefix on the silo's HTTP server (null: HTTP doors closed).</summary>
    public string? HttpPathPrefix { get; internal set; }

    public IEnumerable<string> Describe(IEnumerable<string> httpAddresses)
    {
        if (SyslogUdp is { } udp)
            yield return $"syslog udp {udp}";
        if (SyslogTcp is { } tcp)
            yield return $"syslog tcp {tcp}  (RFC 6587 octet-counting or LF framing)";
        if (SyslogTls is { } tls)
            yield return $"syslog tls {tls}  (RFC 5425, rsyslog omfwd StreamDriver=\"gtls\"; client certificates {(SyslogTlsClientCertificates ? "required" : "not asked for")})";
        if (Relp is { } relp)
            yield return $"relp       {relp}  (rsyslog omrelp{(RelpTls ? " tls=\"on\"" : "")}: acknowledged once handed over)";
        if (HttpPathPrefix is { } prefix)
        {
            foreach (var address in httpAddresses)
            {
                yield return $"http ndjson {address.TrimEnd('/')}{prefix}/ndjson";
                yield return $"http text   {address.TrimEnd('/')}{prefix}/text?host=<host>";
            }
        }
    }
}
