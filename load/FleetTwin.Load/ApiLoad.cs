using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FleetTwin.Api.Client;
using FleetTwin.Api.V1;
using FleetTwin.Security;
using Grpc.Core;
using Grpc.Net.Client;

namespace FleetTwin.Load;

/// <summary>
/// <c>api</c>: drives GetHost and ListHosts at a set rate against a running silo's gRPC endpoint, after seeding a fleet
/// of synthetic hosts through IngestService (the real ingest path). Open loop: requests are issued on a fixed schedule
/// whatever the answers do, and latency is measured from each request's scheduled time, so a stall shows up in the
/// percentiles instead of slowing the generator down (no coordinated omission).
/// </summary>
internal static class ApiLoad
{
    public static Command Create()
    {
        var endpoint = new Option<string>("--endpoint") { DefaultValueFactory = _ => "http://127.0.0.1:5000", Description = "gRPC endpoint of the silo" };
        var hosts = new Option<int>("--hosts") { DefaultValueFactory = _ => 10_000, Description = "synthetic hosts to seed (skipped when the twin has them)" };
        var rate = new Option<int[]>("--rate") { DefaultValueFactory = _ => [5000], Description = "requests per second; several values run one after another", AllowMultipleArgumentsPerToken = true };
        var seconds = new Option<int>("--seconds") { DefaultValueFactory = _ => 15, Description = "seconds per rate" };
        var listShare = new Option<double>("--list-share") { DefaultValueFactory = _ => 0.5, Description = "share of ListHosts among requests (the rest GetHost)" };
        var findMax = new Option<bool>("--find-max") { Description = "raise the rate until p99 > 5 ms or the achieved rate falls under 97 % of the target" };
        var siloPid = new Option<int?>("--silo-pid") { Description = "process id of the silo: also report its CPU time per request (Linux /proc)" };
        var timeline = new Option<bool>("--timeline") { Description = "per 100 ms of each run, print how many requests took over 5 ms and how many were sent over 3 ms late (where a tail comes from)" };
        var ca = new Option<string?>("--ca") { Description = "an https endpoint's CA (PEM): the silo's certificate must chain to it (FleetTwin:Tls)" };
        var tokenFile = new Option<string?>("--token-file") { Description = "file holding a bearer token (JWT) sent with every call; roles read and ingest (the seed goes through IngestService)" };
        var command = new Command("api", "gRPC GetHost/ListHosts latency at a set rate against a twin of synthetic hosts") { endpoint, hosts, rate, seconds, listShare, findMax, siloPid, timeline, ca, tokenFile };
        command.SetAction(async (parse, ct) =>
        {
            // The CLI's channel (FleetTwin.Api.Client.TwinChannel): the same CA trust and bearer token an operator's client uses.
            var credentials = new ClientCredentialOptions
            {
                CaPath = parse.GetValue(ca),
                Token = parse.GetValue(tokenFile) is { } tokenPath ? File.ReadAllText(tokenPath).Trim() : null,
            };
            using var channel = TwinChannel.Open(parse.GetValue(endpoint)!, credentials);
            var twin = new TwinService.TwinServiceClient(channel);
            var names = await SeedAsync(channel, parse.GetValue(hosts), ct);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"twin: {names.Length} synthetic hosts; mix {parse.GetValue(listShare):P0} ListHosts (page of 50, rotating filters), rest GetHost (random host)"));
            // Warm up: every host asked once (its host, NIC and bounce-pool grains activated, as in a twin that has been
            // queried before), then JIT, connections and the silo's host-index cache at a moderate rate.
            var warm = Stopwatch.StartNew();
            await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct },
                async (name, token) => await twin.GetHostAsync(new GetHostRequest { Name = name }, cancellationToken: token));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warm-up: GetHost of every host once in {warm.Elapsed.TotalSeconds:0.0} s"));
            await RunAsync(twin, names, 2000, 5, parse.GetValue(listShare), false, ct);
            Console.WriteLine("target/s  achieved/s     p50 ms   p99 ms  p99.9 ms    max ms   errors  cpu µs/req (generator, silo)  call p50/p99 ms");
            var rates = parse.GetValue(findMax) ? Enumerable.Range(1, 40).Select(i => i * 1000).ToArray() : parse.GetValue(rate)!;
            // Every run's latencies by target rate: a rate run several times also gets one line over all its requests,
            // the figure an SRE's dashboard would show for the whole period (a run's p99 is its own 10 s window's).
            var runsByRate = new Dictionary<int, List<Result>>();
            foreach (var target in rates)
            {
                var (generatorBefore, siloBefore) = (Process.GetCurrentProcess().TotalProcessorTime, SiloCpu(parse.GetValue(siloPid)));
                var gc = GcFigures.Now();
                var r = await RunAsync(twin, names, target, parse.GetValue(seconds), parse.GetValue(listShare), parse.GetValue(timeline), ct);
                var requests = (double)target * parse.GetValue(seconds);
                var generatorCpu = (Process.GetCurrentProcess().TotalProcessorTime - generatorBefore).TotalMicroseconds / requests;
                var siloCpu = SiloCpu(parse.GetValue(siloPid)) - siloBefore;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{target,8} {r.Achieved,11:0} {r.P50,10:0.000} {r.P99,8:0.000} {r.P999,9:0.000} {r.Max,9:0.0} {r.Errors,8}  {generatorCpu,6:0} {(parse.GetValue(siloPid) is null ? "-" : (siloCpu * 1e6 / requests).ToString("0", CultureInfo.InvariantCulture)),6}  {r.ServiceP50,8:0.000} {r.ServiceP99,7:0.000}"));
                Console.WriteLine("          generator " + GcFigures.Now().Since(gc, TimeSpan.FromSeconds(parse.GetValue(seconds))));
                (runsByRate.TryGetValue(target, out var runs) ? runs : runsByRate[target] = []).Add(r);
                if (parse.GetValue(findMax) && (r.P99 > 5 || r.Achieved < target * 0.97 || r.Errors > 0))
                    break;
            }
            foreach (var (target, runs) in runsByRate.Where(pair => pair.Value.Count > 1))
            {
                var all = runs.SelectMany(run => run.SortedLatencies).ToArray();
                Array.Sort(all);
                var slowRuns = runs.Count(run => run.P99 >= 5);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"all {runs.Count} runs at {target}/s ({all.Length} requests): p50 {At(all, 0.50):0.000} ms, p99 {At(all, 0.99):0.000} ms, p99.9 {At(all, 0.999):0.000} ms, max {all[^1]:0.0} ms; runs with p99 >= 5 ms: {slowRuns}"));
            }
        });
        return command;
    }

    /// <summary>CPU seconds (user + system) the silo process has used, from /proc/PID/stat; 0 without a pid.</summary>
    private static double SiloCpu(int? pid)
    {
        if (pid is null)
            return 0;
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields 14 and 15 of proc(5) (utime, stime), counted after the command name: indexes 11 and 12 here.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <param name="ServiceP50">Latency from the moment the call was made (not its scheduled time): what the silo and the
    /// client stack cost, without the generator's own scheduling delay.</param>
    private sealed record Result(double Achieved, double P50, double P99, double P999, double Max, long Errors, double ServiceP50, double ServiceP99,
        double[] SortedLatencies);

    private static double At(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private static async Task<Result> RunAsync(TwinService.TwinServiceClient twin, string[] names, int rate, int seconds, double listShare, bool timeline, CancellationToken ct)
    {
        var total = rate * seconds;
        var latencies = new double[total];
        var service = new double[total];
        long errors = 0, completed = 0;
        var random = new Random(7);
        var filters = new[]
        {
            new ListHostsRequest { PageSize = 50, MinRisk = RiskLevel.Warning },
            new ListHostsRequest { PageSize = 50, Driver = "bnx2x", GroOff = true },
            new ListHostsRequest { PageSize = 50, Mtu = 9000 },
            new ListHostsRequest { PageSize = 50 },
        };
        var clock = Stopwatch.StartNew();
        // Completion is counted, not kept: holding every call's task until the end promoted them all and cost the
        // generator a gen1 collection every quarter second.
        var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ticksPerRequest = (double)Stopwatch.Frequency / rate;
        var start = Stopwatch.GetTimestamp();

        async Task Call(int index, long due, bool list, string name, ListHostsRequest filter)
        {
            var sent = Stopwatch.GetTimestamp();
            try
            {
                var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: ct);
                if (list)
                    await twin.ListHostsAsync(filter, options);
                else if ((await twin.GetHostAsync(new GetHostRequest { Name = name }, options)).Name != name)
                    throw new RpcException(new Status(StatusCode.DataLoss, $"GetHost {name}: the reply is about another host"));
            }
            catch (Exception e) when (e is RpcException or OperationCanceledException)
            {
                Interlocked.Increment(ref errors); // counted whatever went wrong, so the run's completion count adds up
            }
            var done = Stopwatch.GetTimestamp();
            latencies[index] = (done - due) * 1000.0 / Stopwatch.Frequency;
            service[index] = (done - sent) * 1000.0 / Stopwatch.Frequency;
            if (Interlocked.Increment(ref completed) == total)
                allDone.TrySetResult();
        }

        // The schedule runs on its own thread, sleeping until each request is due (PreciseSleep) and issuing it: a
        // timer whose ticks queue behind the replies on the thread pool added ~2 ms to the median, and a spinning
        // scheduler would take a core of the two from the silo. Latency counts from the scheduled time, so any
        // lateness of the scheduler is charged, not hidden.
        var scheduler = new Thread(() =>
        {
            for (var i = 0; i < total && !ct.IsCancellationRequested; i++)
            {
                var due = start + (long)(i * ticksPerRequest);
                PreciseSleep.Until(due);
                _ = Call(i, due, random.NextDouble() < listShare, names[random.Next(names.Length)], filters[i % filters.Length]);
            }
        }) { IsBackground = true, Priority = ThreadPriority.AboveNormal, Name = "api-load schedule" };
        scheduler.Start();
        await Task.Run(scheduler.Join, ct);
        if (!ct.IsCancellationRequested)
            await allDone.Task.WaitAsync(ct);
        var elapsed = clock.Elapsed.TotalSeconds;
        if (timeline)
        {
            // Per 100 ms of schedule: requests over 5 ms, and those the generator itself sent over 3 ms late (its
            // scheduling thread did not run: a GC of its own, or the machine did not schedule it).
            var perWindow = rate / 10;
            var line = new System.Text.StringBuilder(string.Create(CultureInfo.InvariantCulture,
                $"  run started {DateTime.UtcNow - clock.Elapsed:HH:mm:ss.fff} UTC; per 100 ms window: requests over 5 ms / sent over 3 ms late:"));
            var windows = (total + perWindow - 1) / perWindow;
            var slow = new int[windows];
            var sentLate = new int[windows];
            for (var i = 0; i < total; i++)
            {
                slow[i / perWindow] += latencies[i] > 5 ? 1 : 0;
                sentLate[i / perWindow] += latencies[i] - service[i] > 3 ? 1 : 0;
            }
            for (var w = 0; w < windows; w++)
            {
                if (slow[w] > 0)
                    line.Append(CultureInfo.InvariantCulture, $" [{w / 10.0:0.0}s]{slow[w]}/{sentLate[w]}");
            }
            Console.WriteLine(line);
        }
        Array.Sort(latencies);
        Array.Sort(service);
        return new Result(completed / elapsed, At(latencies, 0.50), At(latencies, 0.99), At(latencies, 0.999), latencies[^1], errors,
            At(service, 0.50), At(service, 0.99), latencies);
    }

    /// <summary>
    /// Seeds <paramref name="count"/> hosts (<c>load-00000</c>...) through IngestService: each host's ethtool output for a
    /// bnx2x bond pair (driver, bus id, GRO off) and, for one host in ten, SWIOTLB exhaustion records.
    /// </summary>
    private static async Task<string[]> SeedAsync(GrpcChannel channel, int count, CancellationToken ct)
    {
        var names = Enumerable.Range(0, count).Select(h => string.Create(CultureInfo.InvariantCulture, $"load-{h:00000}")).ToArray();
        var twin = new TwinService.TwinServiceClient(channel);
        var existing = await twin.ListHostsAsync(new ListHostsRequest { PageSize = 1 }, cancellationToken: ct);
        if (existing.TotalMatches >= count)
            return names;
        var clock = Stopwatch.StartNew();
        var ingest = new IngestService.IngestServiceClient(channel);
        using var call = ingest.Ingest(cancellationToken: ct);
        var message = new IngestRequest { SourceName = "synthetic-fleet", Year = 2014 };
        var random = new Random(1);
        foreach (var name in names)
        {
            foreach (var (dev, bus) in new[] { ("eth4", "0000:04:00.0"), ("eth5", "0000:04:00.1") })
            {
                message.Lines.Add($"[root@{name} ~]# ethtool -i {dev}");
                message.Lines.Add("driver: bnx2x");
                message.Lines.Add("version: 1.78.17-0");
                message.Lines.Add($"bus-info: {bus}");
                message.Lines.Add($"[root@{name} ~]# ethtool -k {dev}");
                message.Lines.Add($"Offload parameters for {dev}:");
                message.Lines.Add("generic-receive-offload: off");
            }
            if (random.Next(10) == 0)
            {
                for (var k = 0; k < 3; k++)
                    message.Lines.Add(string.Create(CultureInfo.InvariantCulture,
                        $"Sep 17 05:0{k}:00 {name} kernel: [{1_000_000 + k * 60}.000000] PCI-DMA: Out of SW-IOMMU space for {random.Next(14_000, 30_000)} bytes at device 0000:04:00.1"));
            }
            if (message.Lines.Count >= 5000)
            {
                await call.RequestStream.WriteAsync(message, ct);
                message = new IngestRequest();
            }
        }
        await call.RequestStream.WriteAsync(message, ct);
        await call.RequestStream.CompleteAsync();
        var answer = await call;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seeded {answer.EventsByHost.Count} hosts through IngestService: {answer.LinesAccepted} lines, {answer.Events} events, {answer.LinesRejected} rejected, applied in {clock.Elapsed.TotalSeconds:0.0} s"));
        return names;
    }
}

/// <summary>
/// Waits for a scheduled time without spinning: on Linux with libc's <c>usleep</c>, waking ~80 µs early and then in
/// 50 µs naps (a managed sleep lasts at least a millisecond, which made requests leave up to ~1.1 ms after their
/// scheduled time, in bursts); elsewhere in 1 ms sleeps.
/// </summary>
internal static class PreciseSleep
{
    public static void Until(long dueTimestamp)
    {
        while (true)
        {
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), dueTimestamp);
            if (remaining <= TimeSpan.Zero)
                return;
            if (OperatingSystem.IsLinux())
                _ = usleep((uint)Math.Max(50, remaining.TotalMicroseconds - 80));
            else
                Thread.Sleep(1);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = false)]
    private static extern int usleep(uint microseconds);
}
