using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.Load;

/// <summary>
/// A fleet of dom0s forwarding kern.log over syslog TCP (octet-counted, as rsyslog does) to a running silo's front
/// door at a paced rate; measures records/s delivered and end-to-end lag (record sent -> host twin has applied it)
/// by polling a sample of host grains through the gateway.
/// </summary>
internal sealed class SyslogTcpLoad(IClusterClient client, int hosts, int connections, int rate, TimeSpan duration, string prefix)
{
    private const int ProbeHosts = 20;
    private readonly long[] _eventsSent = new long[hosts];
    private readonly List<(long Index, long SentAt)>[] _probeSends = [.. Enumerable.Range(0, ProbeHosts).Select(_ => new List<(long, long)>())];
    private readonly List<double> _lagsMs = [];
    private long _records;

    public string HostName(int h) => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{h:00000}");

    public async Task RunAsync(string server, int port, CancellationToken cancellationToken)
    {
        var baselines = await Task.WhenAll(Enumerable.Range(0, ProbeHosts).Select(p => client.GetGrain<IHostGrain>(HostName(p * (hosts / ProbeHosts))).GetProcessedEvents()));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var clock = Stopwatch.StartNew();
        var senders = Enumerable.Range(0, connections).Select(c => Task.Run(() => SendAsync(server, port, c, clock, stop.Token))).ToArray();
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
        var settle = Stopwatch.StartNew();
        long processed = 0;
        while (settle.Elapsed < TimeSpan.FromMinutes(3))
        {
            var counts = await Task.WhenAll(Enumerable.Range(0, hosts).Select(h => client.GetGrain<IHostGrain>(HostName(h)).GetProcessedEvents()));
            processed = counts.Sum();
            if (processed >= expected)
                break;
            await Task.Delay(200, CancellationToken.None);
        }
        await probe.ContinueWith(_ => { }, TaskScheduler.Default);
        _lagsMs.Sort();
        double Percentile(double p) => _lagsMs.Count == 0 ? double.NaN : _lagsMs[Math.Min(_lagsMs.Count - 1, (int)(p * _lagsMs.Count))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sent {sent} records ({expected} events) in {sendSeconds:0.0} s = {sent / sendSeconds:0} records/s (target {rate}); drained {settle.Elapsed.TotalSeconds:0.0} s later"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"twin applied {processed} of {expected} events ({(processed >= expected ? "nothing lost" : "MISSING " + (expected - processed))})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"end-to-end lag (sent -> host twin applied), {_lagsMs.Count} sampled events: p50 {Percentile(0.50):0} ms, p99 {Percentile(0.99):0} ms, max {Percentile(1):0} ms"));
    }

    private async Task SendAsync(string server, int port, int connection, Stopwatch clock, CancellationToken stop)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server, port, CancellationToken.None);
        var stream = tcp.GetStream();
        var myHosts = Enumerable.Range(0, hosts).Where(h => h % connections == connection).ToArray();
        var uptime = myHosts.Select(h => 1_000_000.0 + h).ToArray();
        var random = new Random(connection);
        var perConnection = (double)rate / connections;
        var buffer = new MemoryStream(1 << 20);
        long sentHere = 0;
        var next = 0;
        var probeEvery = hosts / ProbeHosts;
        while (!stop.IsCancellationRequested)
        {
            // Pace: as many records as this connection owes by now, in writes of at most 2,000.
            var due = (long)(clock.Elapsed.TotalSeconds * perConnection) - sentHere;
            if (due <= 0)
            {
                await Task.Delay(2, CancellationToken.None);
                continue;
            }
            due = Math.Min(due, 2000);
            buffer.SetLength(0);
            var probes = new List<(int Probe, long Index)>();
            for (var i = 0; i < due; i++)
            {
                var slot = next++ % myHosts.Length;
                var h = myHosts[slot];
                uptime[slot] += 0.001 + random.NextDouble() * 0.01;
                var exhaustion = random.Next(10) < 3;
                var message = exhaustion
                    ? string.Create(CultureInfo.InvariantCulture, $"PCI-DMA: Out of SW-IOMMU space for {random.Next(14_000, 32_000)} bytes at device 0000:04:00.{random.Next(2)}")
                    : string.Create(CultureInfo.InvariantCulture, $"nf_conntrack: table full, dropping packet. {random.Next(1000)}");
                var record = string.Create(CultureInfo.InvariantCulture, $"<11>Sep 17 05:05:06 {HostName(h)} kernel: [{uptime[slot]:0.000000}] {message}");
                var bytes = Encoding.ASCII.GetBytes(record);
                var length = Encoding.ASCII.GetBytes(bytes.Length.ToString(CultureInfo.InvariantCulture) + " ");
                buffer.Write(length);
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
            sentHere += due;
            Interlocked.Add(ref _records, due);
        }
        tcp.Client.Shutdown(SocketShutdown.Send);
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
