using System.CommandLine;
using System.Globalization;
using System.Text;
using FleetTwin.Api.V1;
using FleetTwin.Cli.Connections;
using FleetTwin.Cli.Options;
using FleetTwin.Cli.Output;
using Google.Protobuf;

namespace FleetTwin.Cli.Commands;

/// <summary><c>fleettwin host NAME [--json]</c>: everything the running twin knows about one host.</summary>
public static class HostCommand
{
    public static Command Create() => Create(Console.Out, Console.Error);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var name = new Argument<string>("NAME") { Description = "Host name as its syslog header prints it" };
        var json = OutputOptions.Json();
        var endpoint = ApiClient.EndpointOption();
        var command = new Command("host", "Show one host of the running twin: NICs, bonds, bounce pool, risk, panics") { name, json, endpoint };
        command.SetAction((parse, ct) => ApiClient.RunAsync("host", endpoint.Read(parse), stderr, async channel =>
        {
            var client = new TwinService.TwinServiceClient(channel);
            var host = await client.GetHostAsync(new GetHostRequest { Name = parse.GetValue(name)! }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: ct);
            stdout.Write(parse.GetValue(json) ? JsonFormatter.Default.Format(host) + "\n" : Render(host, Terminal.For(stdout)));
            return 0;
        }));
        return command;
    }

    /// <summary>The host as lines of "label value", its risk in the level's colour and its NICs as a table on a terminal.</summary>
    internal static string Render(Host h, Terminal terminal)
    {
        var inv = CultureInfo.InvariantCulture;
        var t = new StringBuilder();
        t.Append(inv, $"host      {h.Name}\n");
        t.Append(inv, $"pool      {TextTable.Or(h.Pool)}\n");
        t.Append(inv, $"release   {TextTable.Or(h.XenserverRelease)}  kernel {TextTable.Or(h.Kernel)}  boots {h.Boots}\n");
        t.Append(inv, $"risk      {terminal.Styled(RiskStyle.Name(h.Risk), RiskStyle.Of(h.Risk))}: {h.RiskReason}\n");
        t.Append(inv, $"swiotlb   {(h.HasSwiotlbMib ? h.SwiotlbMib + " MiB" : "default (64 MiB unless the command line says otherwise)")}\n");
        t.Append(inv, $"exhaustion {h.ExhaustionEvents} records, largest failed mapping {h.LargestFailedMappingBytes} bytes, first at uptime {(h.HasFirstExhaustionUptime ? TextTable.Number(h.FirstExhaustionUptime) : "-")}\n");
        foreach (var d in h.Devices)
            t.Append(inv, $"  {d.BusId} {TextTable.Or(d.Device)}: {d.ExhaustionEvents}\n");
        if (h.Nics.Count > 0)
        {
            t.Append("NICs\n");
            var nics = new TextTable("DEVICE", "BUS", "DRIVER", "MTU", "GRO", "BOND").AlignRight("MTU");
            foreach (var n in h.Nics)
                nics.Add(n.Device, TextTable.Or(n.BusId), TextTable.Or(n.Driver),
                    n.HasMtu ? n.Mtu.ToString(inv) : "-", n.HasGro ? (n.Gro ? "on" : "off") : TextTable.Or(n.GroOverride),
                    n.BondSlaveOf.Length > 0 ? "member" : n.BondMasterOf.Length > 0 ? "bond" : "-");
            t.Append(nics.Render(terminal, indent: 2));
        }
        foreach (var b in h.Bonds)
            t.Append(inv, $"bond      {b.Uuid} mode {TextTable.Or(b.Mode)}, members {string.Join(", ", b.MemberPifs)}\n");
        if (h.Swiotlb is { } s)
            t.Append(inv, $"bounce pool {s.SlabsInUse}/{s.PoolSlabs} slabs in use (high water {s.HighWaterSlabs}), {s.Mappings} mappings, largest free run {s.LargestFreeRun}, fragmentation {s.Fragmentation:0.00}{(s.Panicked ? ", PANICKED" : "")}\n");
        foreach (var p in h.Panics)
            t.Append(inv, $"{terminal.Styled("panic", RiskStyle.Critical)}     at uptime {(p.HasUptime ? TextTable.Number(p.Uptime) : "?")}: {p.Message} ({p.Cause})\n");
        t.Append(inv, $"events    {h.AppliedEvents} applied, {h.DuplicateRecords} duplicates; {h.VmStarts} VM starts, {h.ResidentVms} resident VMs\n");
        return t.ToString();
    }
}
