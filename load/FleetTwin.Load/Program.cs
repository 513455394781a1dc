using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FleetTwin.Ingest.Reading;
using FleetTwin.Load;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Hosting;
using FleetTwin.Twin.Ingest;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// dotnet run -c Release --project load/FleetTwin.Load -- replay --hosts 1000 --lines 1000000
// dotnet run -c Release --project load/FleetTwin.Load -- idle-hosts --hosts 10000
// dotnet run -c Release --project load/FleetTwin.Load -- syslog-tcp --hosts 1000 --rate 100000 --seconds 30   (silo running)
// dotnet run -c Release --project load/FleetTwin.Load -- syslog-tls --hosts 1000 --rate 100000 --seconds 20 --ca ca.pem --cert dom0.pem --key dom0.key   (silo with FleetTwin:Tls)
// dotnet run -c Release --project load/FleetTwin.Load -- relp --hosts 1000 --rate 100000 --seconds 20 --connections 8 --window 20000   (silo running)
// dotnet run -c Release --project load/FleetTwin.Load -- http-ndjson --url http://127.0.0.1:8080 --hosts 1000 --rate 100000 --seconds 20   (silo running)
// dotnet run -c Release --project load/FleetTwin.Load -- api --endpoint http://127.0.0.1:5000 --hosts 10000 --rate 5000
// dotnet run -c Release --project load/FleetTwin.Load -- credentials --out /tmp/creds   (then api --endpoint https://127.0.0.1:5000 --ca /tmp/creds/ca.pem --token-file /tmp/creds/token.txt against a silo with /tmp/creds/silo.env)
var root = new RootCommand("FleetTwin load tools");

var hostsOption = new Option<int>("--hosts") { DefaultValueFactory = _ => 1000, Description = "hosts in the synthetic fleet" };
var linesOption = new Option<int>("--lines") { DefaultValueFactory = _ => 1_000_000, Description = "log lines to replay" };
var batchOption = new Option<int>("--batch") { DefaultValueFactory = _ => 512, Description = "events per stream batch" };
var replay = new Command("replay", "End-to-end replay of a synthetic fleet log into a single embedded silo") { hostsOption, linesOption, batchOption };
replay.SetAction(async (parse, ct) =>
{
    int hosts = parse.GetValue(hostsOption), lines = parse.GetValue(linesOption);
    var log = SyntheticFleetLog.Create(hosts, lines, seed: 1);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"synthetic log: {hosts} hosts, {lines} lines, {log.Length / 1024.0 / 1024.0:0.0} MiB"));
    using var twin = await InProcessTwin.StartAsync(ct);
    var ingestor = new TwinIngestor(twin.Client(), batchSize: parse.GetValue(batchOption));
    var gc = GcFigures.Now();
    var clock = Stopwatch.StartNew();
    var stats = await ingestor.IngestAsync(new MemoryStream(log), new LogParserOptions { SourceName = "synthetic", Year = 2014 }, cancellationToken: ct);
    var published = clock.Elapsed;
    await ingestor.WaitUntilAppliedAsync(TimeSpan.FromMinutes(10), ct);
    var applied = clock.Elapsed;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"events {stats.Events}, published in {published.TotalSeconds:0.00} s, all applied after {applied.TotalSeconds:0.00} s"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"end-to-end: {stats.LinesRead / applied.TotalSeconds:0} lines/s, {stats.Events / applied.TotalSeconds:0} events/s"));
    Console.WriteLine(GcFigures.Now().Since(gc, applied));
    await twin.StopAsync(CancellationToken.None);
});

var idle = new Command("idle-hosts", "Memory per idle host twin: activate N host grains with one event each, measure the managed heap") { hostsOption };
idle.SetAction(async (parse, ct) =>
{
    var hosts = parse.GetValue(hostsOption);
    using var twin = await InProcessTwin.StartAsync(ct);
    var client = twin.Client();
    // Warm up the silo's own structures with a few hosts first so they are not charged to the measured ones.
    await Activate(client, "warm", 100, ct);
    var before = Heap();
    await Activate(client, "idle", hosts, ct);
    var after = Heap();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{hosts} idle host twins (one log record each): managed heap +{(after - before) / 1024.0 / 1024.0:0.0} MiB = {(after - before) / (double)hosts / 1024.0:0.00} KiB per host"));
    await twin.StopAsync(CancellationToken.None);
});

var rateOption = new Option<int>("--rate") { DefaultValueFactory = _ => 100_000, Description = "records per second to offer" };
var secondsOption = new Option<int>("--seconds") { DefaultValueFactory = _ => 30, Description = "how long to send" };
var connectionsOption = new Option<int>("--connections") { DefaultValueFactory = _ => 50, Description = "TCP connections (each carries hosts h with h % connections == its index, as relays do)" };
var tcpPortOption = new Option<int>("--tcp-port") { DefaultValueFactory = _ => 5514, Description = "the silo's syslog TCP door" };
var gatewayOption = new Option<int>("--gateway-port") { DefaultValueFactory = _ => 30000, Description = "the silo's gateway (lag probes read host grains)" };
var syslog = new Command("syslog-tcp", "Sustained syslog over TCP from a simulated fleet into a running silo: records/s, end-to-end lag, loss") { hostsOption, rateOption, secondsOption, connectionsOption, tcpPortOption, gatewayOption };
syslog.SetAction((parse, ct) => SyslogLoadAsync(parse, parse.GetValue(tcpPortOption), tls: null, ct));

var tlsPortOption = new Option<int>("--tls-port") { DefaultValueFactory = _ => 6514, Description = "the silo's syslog-TLS door (RFC 5425)" };
LoadTls.CaOption.Required = true;
var syslogTls = new Command("syslog-tls", "As syslog-tcp, over TLS (RFC 5425) into the syslog-TLS door: records/s, end-to-end lag, loss")
    { hostsOption, rateOption, secondsOption, connectionsOption, tlsPortOption, gatewayOption, LoadTls.CaOption, LoadTls.CertificateOption, LoadTls.KeyOption, LoadTls.TargetHostOption };
syslogTls.SetAction((parse, ct) => SyslogLoadAsync(parse, parse.GetValue(tlsPortOption), LoadTls.From(parse), ct));

async Task SyslogLoadAsync(ParseResult parse, int port, LoadTls? tls, CancellationToken ct)
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.UseOrleansClient(c => c.AddFleetTwinClient(new TwinClusterOptions { GatewayPort = parse.GetValue(gatewayOption) }));
    using var host = builder.Build();
    await host.StartAsync(ct);
    var hosts = parse.GetValue(hostsOption);
    var load = new SyslogTcpLoad(host.Services.GetRequiredService<IClusterClient>(), hosts, parse.GetValue(connectionsOption), parse.GetValue(rateOption),
        TimeSpan.FromSeconds(parse.GetValue(secondsOption)), $"{(tls is null ? "load" : "tls")}{DateTime.UtcNow:HHmmss}", tls);
    Console.WriteLine($"syslog {(tls is null ? "tcp" : "tls")} load: {hosts} hosts over {parse.GetValue(connectionsOption)} connections, {parse.GetValue(rateOption)} records/s offered for {parse.GetValue(secondsOption)} s (30% exhaustion events)");
    await load.RunAsync("127.0.0.1", port, ct);
    await host.StopAsync(CancellationToken.None);
}

var relpPortOption = new Option<int>("--relp-port") { DefaultValueFactory = _ => 2514, Description = "the silo's RELP door" };
var windowOption = new Option<int>("--window") { DefaultValueFactory = _ => 20_000, Description = "txnrs each session keeps outstanding (omrelp's windowSize)" };
var relpConnectionsOption = new Option<int>("--connections") { DefaultValueFactory = _ => 8, Description = "RELP sessions (each carries hosts h with h % connections == its index, as relays do)" };
var relpCaOption = new Option<string?>("--ca") { Description = "speak TLS (omrelp tls=\"on\"); the CA (PEM) the silo's certificate must chain to" };
var relp = new Command("relp", "Sustained RELP from a simulated fleet into a running silo: records/s acknowledged, p99 acknowledgement latency, loss")
    { hostsOption, rateOption, secondsOption, relpConnectionsOption, windowOption, relpPortOption, gatewayOption, relpCaOption, LoadTls.CertificateOption, LoadTls.KeyOption, LoadTls.TargetHostOption };
relp.SetAction(async (parse, ct) =>
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.UseOrleansClient(c => c.AddFleetTwinClient(new TwinClusterOptions { GatewayPort = parse.GetValue(gatewayOption) }));
    using var host = builder.Build();
    await host.StartAsync(ct);
    int hosts = parse.GetValue(hostsOption), connections = parse.GetValue(relpConnectionsOption), window = parse.GetValue(windowOption);
    var load = new RelpLoad(host.Services.GetRequiredService<IClusterClient>(), hosts, connections, parse.GetValue(rateOption), window,
        TimeSpan.FromSeconds(parse.GetValue(secondsOption)), $"relp{DateTime.UtcNow:HHmmss}",
        parse.GetValue(relpCaOption) is { } relpCa ? new LoadTls(relpCa, parse.GetValue(LoadTls.CertificateOption), parse.GetValue(LoadTls.KeyOption), parse.GetValue(LoadTls.TargetHostOption)!) : null);
    Console.WriteLine($"relp load: {hosts} hosts over {connections} sessions (window {window}), {parse.GetValue(rateOption)} records/s offered for {parse.GetValue(secondsOption)} s (30% exhaustion events)");
    await load.RunAsync("127.0.0.1", parse.GetValue(relpPortOption), ct);
    await host.StopAsync(CancellationToken.None);
});

root.Subcommands.Add(replay);
root.Subcommands.Add(relp);
root.Subcommands.Add(syslog);
root.Subcommands.Add(syslogTls);
root.Subcommands.Add(idle);
root.Subcommands.Add(ApiLoad.Create());
root.Subcommands.Add(LoadCredentials.Create());
root.Subcommands.Add(HttpNdjsonLoad.Create());
root.Subcommands.Add(FleetTwin.Load.SchedulingJitter.Create());
return await root.Parse(args).InvokeAsync();

static long Heap()
{
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    return GC.GetTotalMemory(forceFullCollection: true);
}

static async Task Activate(IClusterClient client, string prefix, int hosts, CancellationToken ct)
{
    var lines = string.Join('\n', Enumerable.Range(0, hosts).Select(h =>
        string.Create(CultureInfo.InvariantCulture, $"Sep 17 05:00:53 {prefix}-{h:00000} kernel: [2777292.770268] device vif{h % 300 + 1}.0 entered promiscuous mode"))) + "\n";
    var ingestor = new TwinIngestor(client);
    await ingestor.IngestAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(lines)), new LogParserOptions { SourceName = prefix, Year = 2014 }, cancellationToken: ct);
    await ingestor.WaitUntilAppliedAsync(TimeSpan.FromMinutes(5), ct);
    // Every host answers a query once, as an idle but known host would.
    await Task.WhenAll(Enumerable.Range(0, hosts).Select(h => client.GetGrain<IHostGrain>($"{prefix}-{h:00000}").GetView()));
}
