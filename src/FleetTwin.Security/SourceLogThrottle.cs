using System.Collections.Concurrent;
using System.Net;

namespace FleetTwin.Security;

/// <summary>
/// Logs a door's refusals at most once per source address per interval (a minute): a misconfigured shipper or a
/// scanner retries many times a second, and every refusal is already counted in /metrics. Thread-safe; the doors call
/// it from every connection.
/// </summary>
public sealed class SourceLogThrottle(TimeSpan interval)
{
    /// <summary>Sources remembered before the ones quiet for an interval are forgotten (bounds the memory a scan costs).</summary>
    private const int MaxSources = 100_000;

    private readonly long _intervalMs = (long)interval.TotalMilliseconds;
    private readonly ConcurrentDictionary<IPAddress, long> _lastLogged = new();

    /// <summary>The throttle the doors use: once per source per minute.</summary>
    public static SourceLogThrottle PerMinute() => new(TimeSpan.FromMinutes(1));

    /// <summary>True when <paramref name="source"/> (none: one shared entry) was not logged within the interval; the caller then logs.</summary>
    public bool ShouldLog(IPAddress? source)
    {
        var now = Environment.TickCount64;
        var logged = false;
        _lastLogged.AddOrUpdate(source ?? IPAddress.None, _ => { logged = true; return now; }, (_, last) =>
        {
            if (now - last < _intervalMs)
                return last;
            logged = true;
            return now;
        });
        if (logged && _lastLogged.Count > MaxSources)
        {
            foreach (var (address, last) in _lastLogged)
            {
                if (now - last >= _intervalMs)
                    _lastLogged.TryRemove(address, out _);
            }
        }
        return logged;
    }
}
