using FleetTwin.Domain.Simulation;

namespace FleetTwin.Cli.Simulation;

/// <summary>The same two charts as <see cref="Charts"/>, as PNG files drawn by ScottPlot 5.</summary>
public static class PngCharts
{
    public static void Occupancy(string path, IReadOnlyList<HostOutcome> hosts, int sampleSeconds)
    {
        var plot = new ScottPlot.Plot();
        foreach (var h in hosts)
        {
            var xs = Enumerable.Range(1, h.Occupancy.Count).Select(i => i * sampleSeconds / 3600.0).ToArray();
            var ys = h.Occupancy.Select(o => (double)o * 100).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = $"{h.Name} ({h.Panics.Count} panics)";
        }
        plot.Title("SWIOTLB occupancy of the worst hosts");
        plot.XLabel("simulated hours");
        plot.YLabel("slabs in use (%)");
        plot.Axes.SetLimitsY(0, 100);
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 1000, 420);
    }

    public static void PanicsPerDay(string path, int[] without, int[]? with)
    {
        var plot = new ScottPlot.Plot();
        var bars = new List<ScottPlot.Bar>();
        for (var d = 0; d < without.Length; d++)
        {
            bars.Add(new ScottPlot.Bar { Position = d * 3 + 1, Value = without[d], FillColor = ScottPlot.Colors.Gray });
            if (with is not null)
                bars.Add(new ScottPlot.Bar { Position = d * 3 + 2, Value = with[d], FillColor = ScottPlot.Colors.SteelBlue });
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, without.Length).Select(d => d * 3 + 1.5)], [.. Enumerable.Range(1, without.Length).Select(d => $"day {d}")]);
        plot.Title(with is null ? "Panics per simulated day" : "Panics per day: without (grey) vs with (blue) the interventions");
        plot.YLabel("panics");
        plot.Axes.Margins(bottom: 0);
        plot.SavePng(path, 1000, 420);
    }
}
