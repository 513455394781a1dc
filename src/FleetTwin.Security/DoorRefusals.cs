using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using FleetTwin.Twin.Telemetry;
using Microsoft.Extensions.Logging;

namespace FleetTwin.Security;

/// <summary>Why a door refused a caller (metric tag <c>reason</c>).</summary>
public static class RefusalReason
{
    /// <summary>No token and no client certificate.</summary>
    public const string NoCredentials = "no_credentials";
    /// <summary>A token that is malformed, badly signed, or for another issuer or audience.</summary>
    public const string InvalidToken = "invalid_token";
    public const string ExpiredToken = "expired_token";
    /// <summary>A client certificate that does not chain to the configured CA (or is expired).</summary>
    public const string UntrustedCertificate = "untrusted_certificate";
    /// <summary>Authenticated, but without the role the door needs (403 / PERMISSION_DENIED).</summary>
    public const string WrongRole = "wrong_role";
    /// <summary>A TLS handshake that failed for another reason (a client that does not speak TLS, a protocol mismatch, a timeout).</summary>
    public const string TlsHandshake = "tls_handshake";
}

/// <summary>
/// Counts every refusal (<c>fleettwin_door_refusals_total{door,reason}</c>) and logs it at most once per source address
/// per minute: a misconfigured shipper retrying every second must not flood the log. Never logs credentials.
/// </summary>
public sealed class DoorRefusals : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _refusals;
    private readonly ILogger<DoorRefusals> _logger;
    private readonly SourceLogThrottle _logThrottle = SourceLogThrottle.PerMinute();
    private readonly ConcurrentDictionary<(string Door, string Reason), long> _counts = new();

    public DoorRefusals(ILogger<DoorRefusals> logger, IMeterFactory? meterFactory = null)
    {
        _logger = logger;
        _meter = meterFactory?.Create(TwinMetrics.MeterName) ?? new Meter(TwinMetrics.MeterName);
        _refusals = _meter.CreateCounter<long>("fleettwin.door.refusals", "{request}", "Callers a door refused, by door and reason");
    }

    public void Count(string door, string reason, IPAddress? source)
    {
        _refusals.Add(1, new KeyValuePair<string, object?>("door", door), new KeyValuePair<string, object?>("reason", reason));
        _counts.AddOrUpdate((door, reason), 1, static (_, n) => n + 1);
        var address = source ?? IPAddress.None;
        if (_logThrottle.ShouldLog(address))
            _logger.LogWarning("door {Door} refused {Source}: {Reason} (further refusals of this source are counted, not logged, for a minute)", door, address, reason);
    }

    /// <summary>Refusals so far at <paramref name="door"/> for <paramref name="reason"/> (what /metrics shows, for tests and the CLI).</summary>
    public long CountOf(string door, string reason) => _counts.GetValueOrDefault((door, reason));

    public void Dispose() => _meter.Dispose();
}
