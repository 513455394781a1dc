using System.Diagnostics;
using System.Globalization;
using System.Text;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.Load;

/// <summary>
/// A fleet of dom0s forwarding kern.log over syslog TCP (octet-counted, as rsyslog does), or over TLS (RFC 5425, as
/// rsyslog's omfwd with the gtls driver does) when <paramref name="tls"/> is given, to a running silo's front door at a
/// paced rate; measures records/s delivered and end-to-end lag (record sent -> host twin has applied it) by polling a
/// sample of host grains through the gateway. The fleet, records, connection and pacing are <see cref="SimulatedFleet"/>'s.
/// </summary>
internal sealed class SyslogTcpLoad(IClusterClient client, int hosts, int connections, int rate, TimeSpan duration, string prefix, LoadTls? tls = null)
{
    private const int ProbeHosts = 20;
    private readonly SimulatedFleet _fleet = new(hosts, connections, prefix);
    private readonly long[] _eventsSent = new long[hosts];
    private readonly List<(long Index, long SentAt)>[] _probeSends = [.. Enumerable.Range(0, ProbeHosts).Select(_ => new List<(long, long)>())];
    private readonly List<double> _lagsMs = [];
    private long _records;

    public string HostName(int h) => _fleet.HostName(h);

    public async Task RunAsync(string server, int port, CancellationToken cancellationToken)
    {
        var baselines = await Task.WhenAll(Enumerable.Range(0, ProbeHosts).Select(p => client.GetGrain<IHostGrain>(HostName(p * (hosts / ProbeHosts))).GetProcessedEvents()));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Connected (and TLS handshakes done) before the clock starts: the rate is the records', not the handshakes'.
        var streams = await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => LoadConnection.OpenAsync(server, port, tls, noDelay: false)));
        var clock = Stopwatch.StartNew();
        var senders = Enumerable.Range(0, connections).Select(c => Task.Run(() => SendAsync(streams[c], c, clock, stop.Token))).ToArray();
        var probe = Task.Run(() => ProbeAsync(baselines, stop.Token));
        var lastRecords = 0L;
        while (clock.Elapsed < duration)
        {
            await Task.Delay(1000, cancellationToken);
            var now = Interlocked.Read(ref _records);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {clock.Elapsed.TotalSeconds,5:0}s  {now - lastRecords,8} records/s sent"));
            lastRecords = now;
        }
        var sendSeconds = clock.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await Task.WhenAll(senders);
        var sent = Interlocked.Read(ref _records);
        // Drain: every host must end with every event it was sent (nothing lost).
        var expected = _eventsSent.Sum();
        var (processed, drained) = await _fleet.WaitAppliedAsync(client, expected);
        await probe.ContinueWith(_ => { }, TaskScheduler.Default);
        _lagsMs.Sort();
        double Percentile(double p) => _lagsMs.Count == 0 ? double.NaN : _lagsMs[Math.Min(_lagsMs.Count - 1, (int)(p * _lagsMs.Count))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sent {sent} records ({expected} events) in {sendSeconds:0.0} s = {sent / sendSeconds:0} records/s (target {rate}){(tls is null ? "" : " over TLS")}; drained {drained.TotalSeconds:0.0} s later"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"twin applied {processed} of {expected} events ({(processed >= expected ? "nothing lost" : "MISSING " + (expected - processed))})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"end-to-end lag (sent -> host twin applied), {_lagsMs.Count} sampled events: p50 {Percentile(0.50):0} ms, p99 {Percentile(0.99):0} ms, max {Percentile(1):0} ms"));
    }

    private async Task SendAsync(Stream stream, int connection, Stopwatch clock, CancellationToken stop)
    {
        await using var _ = stream;
        var records = _fleet.RecordsOf(connection);
        var buffer = new MemoryStream(1 << 20);
        var probeEvery = hosts / ProbeHosts;
        await LoadConnection.PaceAsync(clock, (double)rate / connections, () => long.MaxValue, async count =>
        {
            buffer.SetLength(0);
            var probes = new List<(int Probe, long Index)>();
            for (var i = 0; i < count; i++)
            {
                var bytes = Encoding.ASCII.GetBytes(records.Next(out var h, out var exhaustion));
                buffer.Write(Encoding.ASCII.GetBytes(bytes.Length.ToString(CultureInfo.InvariantCulture) + " "));
                buffer.Write(bytes);
                if (exhaustion)
                {
                    var index = Interlocked.Increment(ref _eventsSent[h]);
                    if (h % probeEvery == 0 && h / probeEvery < ProbeHosts)
                        probes.Add((h / probeEvery, index));
                }
            }
            await stream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), CancellationToken.None);
            var sentAt = Stopwatch.GetTimestamp();
            foreach (var (probe, index) in probes)
            {
                lock (_probeSends[probe])
                    _probeSends[probe].Add((index, sentAt));
            }
            Interlocked.Add(ref _records, count);
        }, stop);
        await LoadConnection.ShutdownAsync(stream);
    }

    private async Task ProbeAsync(long[] baselines, CancellationToken stop)
    {
        var seen = new long[ProbeHosts];
        var quietAfterStop = Stopwatch.StartNew();
        while (!stop.IsCancellationRequested || quietAfterStop.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (!stop.IsCancellationRequested)
                quietAfterStop.Restart();
            var counts = await Task.WhenAll(Enumerable.Range(0, ProbeHosts).Select(p => client.GetGrain<IHostGrain>(HostName(p * (hosts / ProbeHosts))).GetProcessedEvents()));
            var now = Stopwatch.GetTimestamp();
            var pending = false;
            for (var p = 0; p < ProbeHosts; p++)
            {
                var applied = counts[p] - baselines[p];
                lock (_probeSends[p])
                {
                    foreach (var (index, sentAt) in _probeSends[p])
                    {
                        if (index > seen[p] && index <= applied)
                            _lagsMs.Add(Stopwatch.GetElapsedTime(sentAt, now).TotalMilliseconds);
                    }
                    _probeSends[p].RemoveAll(s => s.Index <= applied);
                    pending |= _probeSends[p].Count > 0;
                }
                seen[p] = Math.Max(seen[p], applied);
            }
            if (stop.IsCancellationRequested && !pending)
                return;
            await Task.Delay(10, CancellationToken.None);
        }
    }
}
