using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace FleetTwin.Load;

/// <summary>
/// NDJSON posted to a running silo's HTTP door (<c>/ingest/ndjson</c>) at a target rate by concurrent senders, as a
/// fleet's Vector or Fluent Bit shippers post: records/s acknowledged (2xx) sustained, and the acknowledgement
/// latency of each request (p50/p99/max). Every record is distinct (its own host and uptime), so nothing is
/// recognised as a duplicate. Run it against a silo in cluster mode (the durable journal) and in embedded mode
/// (memory streams) to compare (docs/perf.md, "Durable ingest (issue 19)").
/// </summary>
internal static class HttpNdjsonLoad
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { DefaultValueFactory = _ => "http://127.0.0.1:8080", Description = "the silo's HTTP address" };
        var hosts = new Option<int>("--hosts") { DefaultValueFactory = _ => 1000, Description = "hosts in the synthetic fleet" };
        var rate = new Option<int>("--rate") { DefaultValueFactory = _ => 100_000, Description = "records per second to offer" };
        var seconds = new Option<int>("--seconds") { DefaultValueFactory = _ => 20, Description = "how long to send" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 1000, Description = "records per request" };
        var concurrency = new Option<int>("--concurrency") { DefaultValueFactory = _ => 16, Description = "requests in flight at most" };
        var command = new Command("http-ndjson", "Sustained NDJSON over HTTP into a running silo: records/s acknowledged, p99 acknowledgement latency")
        {
            url, hosts, rate, seconds, batch, concurrency,
        };
        command.SetAction(async (parse, ct) => await RunAsync(parse.GetValue(url)!, parse.GetValue(hosts), parse.GetValue(rate),
            TimeSpan.FromSeconds(parse.GetValue(seconds)), parse.GetValue(batch), parse.GetValue(concurrency), ct));
        return command;
    }

    private static async Task RunAsync(string url, int hosts, int rate, TimeSpan duration, int batch, int concurrency, CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
        var target = new Uri(url.TrimEnd('/') + "/ingest/ndjson");
        var prefix = $"ndjson{DateTime.UtcNow:HHmmss}";
        var requests = (long)(rate * duration.TotalSeconds / batch);
        var interval = TimeSpan.FromSeconds((double)batch / rate);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"http ndjson load: {target}, {hosts} hosts, {rate} records/s offered for {duration.TotalSeconds:0} s in requests of {batch} records, {concurrency} in flight"));
        long next = -1, sentRequests = 0, acknowledged = 0, busy = 0, unavailable = 0, failed = 0;
        var latencies = new List<double>[concurrency];
        var clock = Stopwatch.StartNew();

        async Task Sender(int worker)
        {
            var mine = latencies[worker] = [];
            var body = new StringBuilder(batch * 160);
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                // Offered for the duration only: a silo that falls behind is not handed the backlog afterwards.
                if (i >= requests || clock.Elapsed >= duration)
                    return;
                var due = interval * i - clock.Elapsed;
                if (due > TimeSpan.Zero)
                    await Task.Delay(due, ct);
                body.Clear();
                for (var r = 0; r < batch; r++)
                {
                    var n = i * batch + r;
                    var host = n % hosts;
                    var k = n / hosts; // the host's k-th record: its own uptime
                    body.Append("{\"message\":\"kernel: [").Append(100_000 + k).Append('.').Append((k * 7919 % 1_000_000).ToString("000000", CultureInfo.InvariantCulture))
                        .Append("] PCI-DMA: Out of SW-IOMMU space for 65536 bytes at device 0000:04:00.1\",\"host\":\"").Append(prefix).Append('-').Append(host).Append("\"}\n");
                }
                using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToString()));
                content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
                Interlocked.Increment(ref sentRequests);
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    using var answer = await http.PostAsync(target, content, ct);
                    var latency = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                    if (answer.IsSuccessStatusCode)
                    {
                        Interlocked.Add(ref acknowledged, batch);
                        mine.Add(latency);
                    }
                    else if (answer.StatusCode == HttpStatusCode.TooManyRequests)
                        Interlocked.Increment(ref busy);
                    else if (answer.StatusCode == HttpStatusCode.ServiceUnavailable)
                        Interlocked.Increment(ref unavailable);
                    else
                        Interlocked.Increment(ref failed);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(() => Sender(w), ct)));
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = latencies.Where(l => l is not null).SelectMany(l => l).Order().ToArray();
        double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"acknowledged {acknowledged} records of {sentRequests * (long)batch} sent in {elapsed:0.0} s: {acknowledged / elapsed:0} records/s sustained ({100.0 * acknowledged / (requests * (double)batch):0.0} % of offered)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"acknowledgement latency per request: p50 {Percentile(0.50):0.0} ms, p99 {Percentile(0.99):0.0} ms, max {Percentile(1):0.0} ms; answers 429: {busy}, 503: {unavailable}, other failures: {failed}"));
    }
}
