using System.Globalization;
using System.Net;
using System.Text;
using FleetTwin.Cli.Output;
using FleetTwin.Domain.Simulation;

namespace FleetTwin.Cli.Simulation;

/// <summary>
/// Writes a simulation's results: summary table (text), results.json, hosts.csv, pools.csv, per-host kern.log files
/// in the kernel's own text, SVG charts (occupancy of the worst hosts, panics per day with vs without the
/// interventions) and one report.html linking them.
/// </summary>
public static class SimulationReport
{
    public static readonly DateTimeOffset Start = new(2014, 9, 20, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The summary as summary.txt and report.html keep it: plain text.</summary>
    public static string SummaryTable(SimulationResult baseline, SimulationResult? withInterventions) =>
        SummaryTable(baseline, withInterventions, Terminal.Plain(TextWriter.Null));

    /// <summary>Per pool and for the fleet: hosts, panics, exhaustion records and hosts at risk, without and with the interventions.</summary>
    internal static string SummaryTable(SimulationResult baseline, SimulationResult? withInterventions, Terminal terminal)
    {
        var table = new TextTable("pool", "hosts", "run", "panics", "exhaustion", "at risk").AlignRight("hosts", "panics", "exhaustion", "at risk");
        foreach (var pool in baseline.Scenario.Pools)
        {
            Row(table, pool.Name, baseline, "no intervention");
            if (withInterventions is not null && withInterventions.Scenario.Interventions.Any(i => i.Pool == pool.Name))
                Row(table, pool.Name, withInterventions, "with interventions");
        }
        Row(table, "(fleet)", baseline, "no intervention");
        if (withInterventions is not null && withInterventions.Scenario.Interventions.Count > 0)
            Row(table, "(fleet)", withInterventions, "with interventions");
        var text = new StringBuilder(table.Render(terminal));
        if (withInterventions is not null)
        {
            foreach (var i in withInterventions.Scenario.Interventions)
            {
                var hosts = withInterventions.Hosts.Where(h => h.Interventions.Contains(i.Label)).ToList();
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"intervention '{i.Label}' at {i.AtSeconds / 3600:0.#} h on {i.Pool}: {hosts.Count} hosts; their panics {hosts.Sum(h => h.Panics.Count)} vs {baseline.Hosts.Where(b => hosts.Any(h => h.Name == b.Name)).Sum(b => b.Panics.Count)} without");
            }
        }
        return text.ToString();
    }

    private static void Row(TextTable table, string pool, SimulationResult run, string label)
    {
        var hosts = pool == "(fleet)" ? run.Hosts : run.Hosts.Where(h => h.Pool == pool).ToList();
        var panics = hosts.Sum(h => h.Panics.Count);
        table.Add(pool, TextTable.Number(hosts.Count), label, new Cell(TextTable.Number(panics), panics > 0 ? RiskStyle.Critical : RiskStyle.Ok),
            TextTable.Number(hosts.Sum(h => h.Exhaustions)), TextTable.Number(hosts.Count(h => h.AtRisk)));
    }

    public static void WriteAll(string dir, SimulationResult baseline, SimulationResult? withInterventions, string summary, int maxLogHosts = 500)
    {
        Directory.CreateDirectory(dir);
        var main = withInterventions ?? baseline;
        File.WriteAllText(Path.Combine(dir, "summary.txt"), summary);
        File.WriteAllText(Path.Combine(dir, "results.json"), Json(baseline, withInterventions));
        File.WriteAllText(Path.Combine(dir, "hosts.csv"), HostsCsv(baseline, withInterventions));
        File.WriteAllText(Path.Combine(dir, "panics-per-day.csv"), PanicsPerDayCsv(baseline, withInterventions));
        var logs = Path.Combine(dir, "logs");
        Directory.CreateDirectory(logs);
        var written = 0;
        foreach (var host in main.Hosts.Where(h => h.Records.Any(r => r.Kind is SimulatedRecordKind.OutOfSpace or SimulatedRecordKind.Panic))
                     .OrderByDescending(h => h.Panics.Count).ThenByDescending(h => h.Exhaustions).ThenBy(h => h.Name, StringComparer.Ordinal).Take(maxLogHosts))
        {
            using var writer = new StreamWriter(Path.Combine(logs, host.Name + ".kern.log"));
            KernLogWriter.Write(writer, host, Start);
            written++;
        }
        var worst = Worst(main, 8);
        File.WriteAllText(Path.Combine(dir, "occupancy-worst-hosts.svg"), Charts.Occupancy(worst, main.OccupancySampleSeconds, main.Scenario.DurationSeconds));
        File.WriteAllText(Path.Combine(dir, "panics-per-day.svg"), Charts.PanicsPerDay(baseline.PanicsPerDay(), withInterventions?.PanicsPerDay()));
        PngCharts.Occupancy(Path.Combine(dir, "occupancy-worst-hosts.png"), worst, main.OccupancySampleSeconds);
        PngCharts.PanicsPerDay(Path.Combine(dir, "panics-per-day.png"), baseline.PanicsPerDay(), withInterventions?.PanicsPerDay());
        File.WriteAllText(Path.Combine(dir, "report.html"), Html(baseline, withInterventions, summary, worst, written));
    }

    /// <summary>The hosts that fared worst: most panics, then most exhaustion records, then the highest occupancy.</summary>
    public static List<HostOutcome> Worst(SimulationResult run, int count) =>
        [.. run.Hosts.OrderByDescending(h => h.Panics.Count).ThenByDescending(h => h.Exhaustions)
            .ThenByDescending(h => h.Occupancy.Count > 0 ? h.Occupancy.Max() : 0).ThenBy(h => h.Name, StringComparer.Ordinal).Take(count)];

    /// <summary>results.json: written by the domain's writer, which also writes the live twin's what-if results.</summary>
    private static string Json(SimulationResult baseline, SimulationResult? with) => SimulationResultJson.Render(baseline, with);

    private static string HostsCsv(SimulationResult baseline, SimulationResult? with)
    {
        var csv = new StringBuilder("run,pool,host,panics,first_panic_seconds,exhaustion_events,vm_starts,at_risk,standing_rx_share,max_occupancy\n");
        foreach (var (label, run) in new[] { ("baseline", baseline), ("with_interventions", with) })
        {
            if (run is null)
                continue;
            foreach (var h in run.Hosts)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{label},{h.Pool},{h.Name},{h.Panics.Count},{(h.Panics.Count > 0 ? h.Panics[0].Time.ToString("0", CultureInfo.InvariantCulture) : "")},");
                csv.Append(CultureInfo.InvariantCulture, $"{h.Exhaustions},{h.VmStarts},{(h.AtRisk ? 1 : 0)},{h.StandingRxShare:0.###},{(h.Occupancy.Count > 0 ? h.Occupancy.Max() : 0):0.###}\n");
            }
        }
        return csv.ToString();
    }

    private static string PanicsPerDayCsv(SimulationResult baseline, SimulationResult? with)
    {
        var csv = new StringBuilder("day,panics_without_interventions,panics_with_interventions\n");
        var a = baseline.PanicsPerDay();
        var b = with?.PanicsPerDay();
        for (var d = 0; d < a.Length; d++)
            csv.Append(CultureInfo.InvariantCulture, $"{d + 1},{a[d]},{(b is null ? "" : b[d].ToString(CultureInfo.InvariantCulture))}\n");
        return csv.ToString();
    }

    private static string Html(SimulationResult baseline, SimulationResult? with, string summary, List<HostOutcome> worst, int logs)
    {
        var s = baseline.Scenario;
        var html = new StringBuilder();
        html.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>FleetTwin simulation: ").Append(WebUtility.HtmlEncode(s.Name)).Append("</title>");
        html.Append("<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}pre{background:#f4f4f4;padding:1em}img{max-width:100%;border:1px solid #ddd}</style></head><body>");
        html.Append("<h1>What if: ").Append(WebUtility.HtmlEncode(s.Name)).Append("</h1>");
        html.Append(CultureInfo.InvariantCulture, $"<p>{baseline.Hosts.Count} hosts, {s.DurationSeconds / 86400:0.##} simulated days, seed {s.Seed}, {s.Engine.ToString().ToLowerInvariant()} engine; ");
        html.Append(CultureInfo.InvariantCulture, $"{baseline.HostSecondsPerWallSecond:N0} simulated host-seconds per wall second.</p>");
        html.Append("<h2>Summary</h2><pre>").Append(WebUtility.HtmlEncode(summary)).Append("</pre>");
        html.Append("<h2>Panics per day, with vs without the interventions</h2><img src=\"panics-per-day.png\" alt=\"panics per day\"> (<a href=\"panics-per-day.svg\">SVG</a>)");
        html.Append("<h2>SWIOTLB occupancy of the worst hosts</h2><img src=\"occupancy-worst-hosts.png\" alt=\"occupancy\"> (<a href=\"occupancy-worst-hosts.svg\">SVG</a>)<ul>");
        foreach (var h in worst)
            html.Append(CultureInfo.InvariantCulture, $"<li>{WebUtility.HtmlEncode(h.Name)} ({WebUtility.HtmlEncode(h.Pool)}): {h.Panics.Count} panics, {h.Exhaustions} exhaustion records</li>");
        html.Append("</ul><h2>Files</h2><ul><li><a href=\"results.json\">results.json</a></li><li><a href=\"hosts.csv\">hosts.csv</a></li>");
        html.Append("<li><a href=\"panics-per-day.csv\">panics-per-day.csv</a></li><li><a href=\"summary.txt\">summary.txt</a></li>");
        html.Append(CultureInfo.InvariantCulture, $"<li><a href=\"logs/\">logs/</a>: {logs} kern.log files in the kernel's own text (read them with <code>fleettwin backtest</code>)</li></ul>");
        html.Append("</body></html>\n");
        return html.ToString();
    }
}
