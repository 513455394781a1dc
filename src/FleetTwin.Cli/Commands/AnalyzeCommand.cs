using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using FleetTwin.Cli.Options;
using FleetTwin.Cli.Output;
using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Hosting;
using FleetTwin.Twin.Ingest;

namespace FleetTwin.Cli.Commands;

/// <summary>
/// <c>fleettwin analyze FILE... [--host NAME] [--year YYYY] [--json]</c>: starts a private in-process twin (the real
/// silo configuration and grains, not a test host), replays the files into it and prints the twin's view per host.
/// </summary>
public static class AnalyzeCommand
{
    public static Command Create() => Create(Console.Out, Console.Error);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Argument<string[]>("FILE") { Description = "Log or command-output files; '-' reads standard input", Arity = ArgumentArity.OneOrMore };
        var host = InputOptions.Host();
        var year = InputOptions.Year();
        var json = new Option<bool>("--json") { Description = "Print the twin's view as JSON" };
        var command = new Command("analyze", "Replay files into an in-process twin and print what it learned per host")
        {
            files, host, year, json,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(files)!, parse.GetValue(host), parse.GetValue(year), parse.GetValue(json), stdout, stderr, cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(IReadOnlyList<string> files, string? host, int? year, bool json, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        using var twin = await InProcessTwin.StartAsync(cancellationToken);
        try
        {
            var client = twin.Client();
            var ingestor = new TwinIngestor(client);
            var report = await ingestor.IngestFilesAsync(files, new LogParserOptions { DefaultHost = host, Year = year }, cancellationToken: cancellationToken);
            await ingestor.WaitUntilAppliedAsync(TimeSpan.FromMinutes(5), cancellationToken);

            var hosts = new List<(HostView Host, NicView[] Nics, BondView[] Bonds)>();
            foreach (var name in await client.GetGrain<IFleetGrain>(TwinGrainKeys.Fleet).ListHosts())
            {
                var view = await client.GetGrain<IHostGrain>(name).GetView();
                var nics = await Task.WhenAll(view.Nics.Select(n => client.GetGrain<INicGrain>(TwinGrainKeys.Nic(name, n.Device)).GetView()));
                var bonds = (await Task.WhenAll(view.Bonds.Select(b => client.GetGrain<IBondGrain>(TwinGrainKeys.Bond(name, b)).GetView()))).OfType<BondView>().ToArray();
                hosts.Add((view, nics, bonds));
            }
            if (json)
                WriteJson(stdout, hosts);
            else
                WriteText(stdout, Terminal.For(stdout), hosts);
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"analyze: {report.Files.Sum(f => f.LinesRead)} lines, {report.EventsByHost.Values.Sum()} events, {hosts.Count} hosts"));
            if (report.EventsWithoutHost > 0)
                stderr.WriteLine($"analyze: {report.EventsWithoutHost} events named no host and were left out; pass --host NAME");
            return 0;
        }
        catch (LogSourceException error)
        {
            stderr.WriteLine($"fleettwin analyze: {error.Message}");
            return 2;
        }
        finally
        {
            await twin.StopAsync(CancellationToken.None);
        }
    }

    private static void WriteText(TextWriter o, Terminal terminal, List<(HostView Host, NicView[] Nics, BondView[] Bonds)> hosts)
    {
        foreach (var (h, nics, bonds) in hosts)
        {
            o.WriteLine($"host {h.Name}{(h.Pool is null ? "" : $" (pool {h.Pool})")}");
            o.WriteLine($"  release   XenServer {h.XenServerRelease ?? "unknown"}, kernel {h.Kernel ?? "unknown"}, {h.Boots} boot(s) logged");
            o.WriteLine($"  risk      {terminal.Styled(h.Risk, RiskStyle.Of(h.Risk))}: {h.RiskReason}");
            foreach (var n in nics)
                o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  nic       {n.Device} {n.BusId ?? "?"} driver {n.Driver ?? "?"} MTU {n.Mtu?.ToString(CultureInfo.InvariantCulture) ?? "?"} GRO {(n.Gro is null ? "?" : n.Gro.Value ? "on" : "off")}{(n.BondSlaveOf is null ? "" : $" member of bond {n.BondSlaveOf}")}"));
            foreach (var b in bonds)
                o.WriteLine($"  bond      {b.Uuid} master PIF {b.MasterPif ?? "?"} members {string.Join(", ", b.MemberPifs)}");
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  swiotlb   {h.ExhaustionEvents} exhaustion events, largest failed mapping {h.LargestFailedMappingBytes} B"));
            foreach (var d in h.Devices)
                o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"            {d.BusId}{(d.Device is null ? "" : $" ({d.Device})")}: {d.ExhaustionEvents}"));
            foreach (var p in h.Panics)
                o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {terminal.Styled("panic", RiskStyle.Critical)}     at uptime {p.Uptime:0.000000}: {p.Message}; cause: {p.Cause}; {p.Comm} pid {p.Pid}"));
            foreach (var v in h.VmStarts)
                o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  vm start  domain {v.Domid} at uptime {v.Uptime:0.000000}"));
            o.WriteLine();
        }
    }

    private static void WriteJson(TextWriter o, List<(HostView Host, NicView[] Nics, BondView[] Bonds)> hosts)
    {
        var document = new AnalyzeJson(hosts.Select(x => new AnalyzeHostJson(
            x.Host.Name, x.Host.Pool, x.Host.XenServerRelease, x.Host.Kernel, x.Host.Boots, x.Host.ExhaustionEvents,
            x.Host.LargestFailedMappingBytes,
            x.Host.Devices.Select(d => new AnalyzeDeviceJson(d.BusId, d.Device, d.ExhaustionEvents)).ToArray(),
            x.Host.Panics.Select(p => new AnalyzePanicJson(p.Uptime, p.Time, p.Message, p.Comm, p.Pid, p.Trace, p.CauseBytes, p.CauseDevice, p.CauseDirection, p.Via, p.Cause)).ToArray(),
            x.Host.VmStarts.Select(v => new AnalyzeVmStartJson(v.Domid, v.Uptime, v.Time)).ToArray(),
            x.Nics.Select(n => new AnalyzeNicJson(n.Device, n.BusId, n.Driver, n.Mtu, n.Gro, n.PifUuid, n.BondSlaveOf, n.BondMasterOf)).ToArray(),
            x.Bonds.Select(b => new AnalyzeBondJson(b.Uuid, b.MasterPif, b.MemberPifs, b.Mode)).ToArray(),
            x.Host.Risk, x.Host.RiskReason, x.Host.DuplicateRecords)).ToArray());
        o.WriteLine(JsonSerializer.Serialize(document, AnalyzeJsonContext.Default.AnalyzeJson));
    }
}

internal sealed record AnalyzeJson(AnalyzeHostJson[] Hosts);

internal sealed record AnalyzeHostJson(
    string Name, string? Pool, [property: JsonPropertyName("xenserver_release")] string? XenServerRelease, string? Kernel, int Boots,
    long ExhaustionEvents, long LargestFailedMappingBytes, AnalyzeDeviceJson[] Devices, AnalyzePanicJson[] Panics,
    AnalyzeVmStartJson[] VmStarts, AnalyzeNicJson[] Nics, AnalyzeBondJson[] Bonds, string Risk, string? RiskReason, long DuplicateRecords);

internal sealed record AnalyzeDeviceJson(string BusId, string? Device, long ExhaustionEvents);

internal sealed record AnalyzePanicJson(double? Uptime, DateTimeOffset? Time, string Message, string? Comm, int? Pid, string[] Trace,
    long? CauseBytes, string? CauseDevice, string? CauseDirection, string? Via, string Cause);

internal sealed record AnalyzeVmStartJson(int Domid, double? Uptime, DateTimeOffset? Time);

internal sealed record AnalyzeNicJson(string Device, string? BusId, string? Driver, int? Mtu, bool? Gro, string? PifUuid, string? BondSlaveOf, string? BondMasterOf);

internal sealed record AnalyzeBondJson(string Uuid, string? MasterPif, string[] MemberPifs, string? Mode);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AnalyzeJson))]
internal sealed partial class AnalyzeJsonContext : JsonSerializerContext;
