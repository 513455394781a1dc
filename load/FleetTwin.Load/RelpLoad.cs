using System.Diagnostics;
using System.Globalization;
using System.Text;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.Load;

/// <summary>
/// A fleet of dom0s forwarding kern.log over RELP (librelp doc/relp.md, as rsyslog's omrelp does) to a running silo's
/// RELP door: each connection opens a session and keeps up to a window of txnrs outstanding, paced to the offered
/// rate. Measures records/s acknowledged (<c>rsp 200</c>), the acknowledgement latency (frame written -> its
/// <c>rsp</c> read) and, through the gateway, that every acknowledged exhaustion was applied by its host twin.
/// </summary>
internal sealed class RelpLoad(IClusterClient client, int hosts, int connections, int rate, int window, TimeSpan duration, string prefix, LoadTls? tls = null)
{
    private const string Open = "relp_version=0\nrelp_software=FleetTwin.Load\ncommands=syslog";
    private readonly SimulatedFleet _fleet = new(hosts, connections, prefix);
    private readonly long[] _eventsSent = new long[hosts];
    private readonly List<double>[] _latencies = [.. Enumerable.Range(0, connections).Select(_ => new List<double>(1 << 16))];
    private long _sent;
    private long _acknowledged;
    private long _refused;

    public string HostName(int h) => _fleet.HostName(h);

    public async Task RunAsync(string server, int port, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var streams = await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => LoadConnection.OpenAsync(server, port, tls, noDelay: true)));
        var clock = Stopwatch.StartNew();
        var sessions = Enumerable.Range(0, connections).Select(c => Task.Run(() => SessionAsync(streams[c], c, clock, stop.Token))).ToArray();
        var last = 0L;
        while (clock.Elapsed < duration)
        {
            await Task.Delay(1000, cancellationToken);
            var now = Interlocked.Read(ref _acknowledged);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {clock.Elapsed.TotalSeconds,5:0}s  {now - last,8} records/s acknowledged, {Interlocked.Read(ref _sent) - now,6} outstanding"));
            last = now;
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var ackedInTime = Interlocked.Read(ref _acknowledged);
        await stop.CancelAsync();
        await Task.WhenAll(sessions);
        var acknowledged = Interlocked.Read(ref _acknowledged);
        var latencies = _latencies.SelectMany(l => l).ToArray();
        Array.Sort(latencies);
        double Percentile(double p) => latencies.Length == 0 ? double.NaN : latencies[Math.Min(latencies.Length - 1, (int)(p * latencies.Length))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"acknowledged {ackedInTime} records in {seconds:0.0} s = {ackedInTime / seconds:0} records/s (offered {rate}); {acknowledged} in all after the last answers, {Interlocked.Read(ref _refused)} refused (rsp 500)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"acknowledgement latency (frame written -> rsp read), {latencies.Length} records: p50 {Percentile(0.50):0.0} ms, p99 {Percentile(0.99):0.0} ms, max {Percentile(1):0.0} ms"));

        // Acknowledged means handed over: every acknowledged exhaustion must reach its host twin.
        var expected = _eventsSent.Sum();
        var (processed, drained) = await _fleet.WaitAppliedAsync(client, expected);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"twin applied {processed} of {expected} acknowledged events ({(processed >= expected ? "nothing lost" : "MISSING " + (expected - processed))}), {drained.TotalSeconds:0.0} s after the last answer"));
    }

    private async Task SessionAsync(Stream stream, int connection, Stopwatch clock, CancellationToken stop)
    {
        await using var _ = stream;
        var openFrame = Encoding.ASCII.GetBytes($"1 open {Open.Length} {Open}\n");
        await stream.WriteAsync(openFrame, CancellationToken.None);
        // Sent-at of each outstanding txnr (answers come in txnr order), and whether it carried an exhaustion of which host.
        var sentAt = new long[window + 1];
        var exhaustionHost = new int[window + 1];
        long nextTxnr = 2, answered = 1;
        var reader = Task.Run(() => ReadAnswersAsync(stream, connection, sentAt, exhaustionHost, () => nextTxnr, v => Volatile.Write(ref answered, v)));
        var records = _fleet.RecordsOf(connection);
        var buffer = new MemoryStream(1 << 20);
        await LoadConnection.PaceAsync(clock, (double)rate / connections, () => window - (nextTxnr - 1 - Volatile.Read(ref answered)), async count =>
        {
            buffer.SetLength(0);
            var now = Stopwatch.GetTimestamp();
            for (var i = 0; i < count; i++)
            {
                var record = records.Next(out var h, out var exhaustion);
                var txnr = nextTxnr + i;
                buffer.Write(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{txnr} syslog {record.Length} {record}\n")));
                sentAt[txnr % sentAt.Length] = now;
                exhaustionHost[txnr % sentAt.Length] = exhaustion ? h : -1;
            }
            await stream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), CancellationToken.None);
            Volatile.Write(ref nextTxnr, nextTxnr + count);
            Interlocked.Add(ref _sent, count);
        }, stop);
        // Wait for the answers owed, then close the session as omrelp does.
        var drain = Stopwatch.StartNew();
        while (Volatile.Read(ref answered) < nextTxnr - 1 && drain.Elapsed < TimeSpan.FromMinutes(1) && !reader.IsCompleted)
            await Task.Delay(5, CancellationToken.None);
        var close = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{nextTxnr} close 0\n"));
        await stream.WriteAsync(close, CancellationToken.None);
        await reader.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>Reads <c>TXNR SP rsp SP DATALEN [SP DATA] LF</c> frames; each answered txnr frees a window slot.</summary>
    private async Task ReadAnswersAsync(Stream stream, int connection, long[] sentAt, int[] exhaustionHost, Func<long> sentUpTo, Action<long> answeredUpTo)
    {
        var buffer = new byte[256 * 1024];
        var length = 0;
        var latencies = _latencies[connection];
        while (true)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), CancellationToken.None);
            if (read == 0)
                return;
            length += read;
            var now = Stopwatch.GetTimestamp();
            var start = 0;
            while (TryFrame(buffer.AsSpan(start, length - start), out var txnr, out var command, out var data, out var consumed))
            {
                start += consumed;
                if (command == "serverclose")
                    return;
                if (txnr == 1 || txnr >= sentUpTo())
                    continue; // the open's and the close's answers
                if (data.StartsWith("200", StringComparison.Ordinal))
                {
                    var slot = txnr % sentAt.Length;
                    lock (latencies)
                        latencies.Add(Stopwatch.GetElapsedTime(sentAt[slot], now).TotalMilliseconds);
                    if (exhaustionHost[slot] >= 0)
                        Interlocked.Increment(ref _eventsSent[exhaustionHost[slot]]);
                    Interlocked.Increment(ref _acknowledged);
                }
                else if (command == "rsp" && txnr < sentUpTo())
                {
                    Interlocked.Increment(ref _refused);
                }
                answeredUpTo(txnr);
            }
            buffer.AsSpan(start, length - start).CopyTo(buffer);
            length -= start;
        }
    }

    private static bool TryFrame(ReadOnlySpan<byte> input, out long txnr, out string command, out string data, out int consumed)
    {
        txnr = 0;
        command = data = "";
        consumed = 0;
        var sp1 = input.IndexOf((byte)' ');
        if (sp1 < 0)
            return false;
        var sp2 = input[(sp1 + 1)..].IndexOf((byte)' ');
        if (sp2 < 0)
            return false;
        sp2 += sp1 + 1;
        var rest = input[(sp2 + 1)..];
        var end = rest.IndexOfAny((byte)' ', (byte)'\n');
        if (end < 0)
            return false;
        var dataLength = int.Parse(rest[..end], CultureInfo.InvariantCulture);
        var frame = sp2 + 1 + end + (dataLength > 0 ? 1 + dataLength : 0) + 1;
        if (input.Length < frame)
            return false;
        txnr = long.Parse(input[..sp1], CultureInfo.InvariantCulture);
        command = Encoding.ASCII.GetString(input[(sp1 + 1)..sp2]);
        data = dataLength > 0 ? Encoding.ASCII.GetString(rest.Slice(end + 1, Math.Min(dataLength, 16))) : "";
        consumed = frame;
        return true;
    }
}
