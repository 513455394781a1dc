using System.CommandLine;
using System.Globalization;
using FleetTwin.Api.V1;
using FleetTwin.Cli.Connections;
using FleetTwin.Cli.Options;
using FleetTwin.Cli.Output;
using Google.Protobuf;

namespace FleetTwin.Cli.Commands;

/// <summary>
/// <c>fleettwin hosts [--pool P] [--risk warning] [--driver bnx2x] [--gro-off] [--mtu 9000] [--release 6.2] [--json]</c>:
/// the twin's hosts from a running silo, every page of them.
/// </summary>
public static class HostsCommand
{
    public static Command Create() => Create(Console.Out, Console.Error);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var pool = new Option<string?>("--pool") { Description = "Only this pool's hosts" };
        var risk = new Option<string?>("--risk") { Description = "Risk at least: unknown, ok, latent, warning, critical" };
        risk.AcceptOnlyFromAmong("unknown", "ok", "latent", "warning", "critical");
        var driver = new Option<string?>("--driver") { Description = "Hosts with a NIC of this driver (bnx2x)" };
        var groOff = new Option<bool>("--gro-off") { Description = "Hosts with a NIC whose GRO is off" };
        var mtu = new Option<int?>("--mtu") { Description = "Hosts with a NIC of this MTU" };
        var release = new Option<string?>("--release") { Description = "XenServer release (6.2)" };
        var json = OutputOptions.Json();
        var endpoint = ApiClient.EndpointOption();
        var command = new Command("hosts", "List the running twin's hosts (filters combine)") { pool, risk, driver, groOff, mtu, release, json, endpoint };
        command.SetAction((parse, ct) => ApiClient.RunAsync("hosts", endpoint.Read(parse), stderr, async channel =>
        {
            var client = new TwinService.TwinServiceClient(channel);
            var request = new ListHostsRequest
            {
                Pool = parse.GetValue(pool) ?? "",
                MinRisk = RiskOf(parse.GetValue(risk)),
                Driver = parse.GetValue(driver) ?? "",
                Mtu = parse.GetValue(mtu) ?? 0,
                Release = parse.GetValue(release) ?? "",
                PageSize = 1000,
            };
            if (parse.GetValue(groOff))
                request.GroOff = true;
            var hosts = new List<HostSummary>();
            do
            {
                var page = await client.ListHostsAsync(request, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: ct);
                hosts.AddRange(page.Hosts);
                request.PageToken = page.NextPageToken;
            }
            while (request.PageToken.Length > 0);

            if (parse.GetValue(json))
            {
                stdout.WriteLine("[" + string.Join(",\n ", hosts.Select(h => JsonFormatter.Default.Format(h))) + "]");
                return 0;
            }
            Table(hosts).Write(Terminal.For(stdout));
            stderr.WriteLine(Counts(hosts));
            return 0;
        }));
        return command;
    }

    internal static RiskLevel RiskOf(string? level) => level switch
    {
        null => RiskLevel.Unspecified,
        "unknown" => RiskLevel.Unknown,
        "ok" => RiskLevel.Ok,
        "latent" => RiskLevel.Latent,
        "warning" => RiskLevel.Warning,
        "critical" => RiskLevel.Critical,
        _ => throw new ArgumentException($"--risk '{level}': expected unknown, ok, latent, warning or critical"),
    };

    /// <summary>One row per host, its risk level in the level's colour on a terminal.</summary>
    internal static TextTable Table(IEnumerable<HostSummary> hosts)
    {
        var table = new TextTable("HOST", "POOL", "RISK", "RELEASE", "DRIVERS", "GRO", "MTU", "EXHAUSTIONS", "PANICS").AlignRight("EXHAUSTIONS", "PANICS");
        foreach (var h in hosts)
            table.Add(h.Name, TextTable.Or(h.Pool), new Cell(RiskStyle.Name(h.Risk), RiskStyle.Of(h.Risk)), TextTable.Or(h.XenserverRelease),
                h.Drivers.Count == 0 ? "-" : string.Join(",", h.Drivers), h.GroOff ? "off" : "-",
                h.Mtus.Count == 0 ? "-" : string.Join(",", h.Mtus.Select(m => m.ToString(CultureInfo.InvariantCulture))),
                TextTable.Number(h.ExhaustionEvents), TextTable.Number(h.Panics));
        return table;
    }

    /// <summary>"5 hosts: 1 critical, 1 warning, 3 ok": the header count of a fleet view, worst level first.</summary>
    internal static string Counts(IReadOnlyCollection<HostSummary> hosts)
    {
        var levels = hosts.GroupBy(h => h.Risk).OrderByDescending(g => (int)g.Key)
            .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Count()} {RiskStyle.Name(g.Key)}"));
        return string.Create(CultureInfo.InvariantCulture, $"{hosts.Count} hosts") + (hosts.Count == 0 ? "" : ": " + string.Join(", ", levels));
    }
}
