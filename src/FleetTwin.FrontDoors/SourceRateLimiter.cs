using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Options;

namespace FleetTwin.FrontDoors;

/// <summary>
/// Records per second per source address (token bucket, one second of burst). A runaway sender cannot starve the
/// others: TCP readers wait for tokens, UDP drops, HTTP answers 429.
/// </summary>
public sealed class SourceRateLimiter(IOptions<FrontDoorOptions> options)
{
    private readonly int _rate = options.Value.MaxRecordsPerSecondPerSource;
    private readonly ConcurrentDictionary<IPAddress, Bucket> _buckets = new();

    public bool Enabled => _rate > 0;

    /// <summary>Takes <paramref name="records"/> tokens; returns how long the caller must wait before sending them (zero: go).</summary>
    public TimeSpan Take(IPAddress? source, int records)
    {
        if (_rate <= 0 || source is null)
            return TimeSpan.Zero;
        if (_buckets.Count > 65_536)
            _buckets.Clear();
        var bucket = _buckets.GetOrAdd(source, _ => new Bucket(_rate));
        lock (bucket)
        {
            var now = Stopwatch.GetTimestamp();
            bucket.Tokens = Math.Min(_rate, bucket.Tokens + Stopwatch.GetElapsedTime(bucket.Last, now).TotalSeconds * _rate);
            bucket.Last = now;
            bucket.Tokens -= records;
            return bucket.Tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-bucket.Tokens / _rate);
        }
    }

    /// <summary>
    /// Takes the tokens only if they are there now (UDP and HTTP, which cannot wait). A full bucket takes any one
    /// request, even one larger than a second's worth, and the source then waits off the debt (as TCP's
    /// <see cref="Take"/> does): otherwise a shipper whose batch exceeds the rate would be told to retry for ever.
    /// </summary>
    public bool TryTake(IPAddress? source, int records)
    {
        if (_rate <= 0 || source is null)
            return true;
        var bucket = _buckets.GetOrAdd(source, _ => new Bucket(_rate));
        lock (bucket)
        {
            var now = Stopwatch.GetTimestamp();
            bucket.Tokens = Math.Min(_rate, bucket.Tokens + Stopwatch.GetElapsedTime(bucket.Last, now).TotalSeconds * _rate);
            bucket.Last = now;
            if (bucket.Tokens < Math.Min(records, _rate))
                return false;
            bucket.Tokens -= records;
            return true;
        }
    }

    private sealed class Bucket(int rate)
    {
        public double Tokens = rate;
        public long Last = Stopwatch.GetTimestamp();
    }
}
