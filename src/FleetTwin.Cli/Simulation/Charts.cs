using System.Globalization;
using System.Net;
using System.Text;
using FleetTwin.Domain.Simulation;

namespace FleetTwin.Cli.Simulation;

/// <summary>
/// SVG charts written directly (no native graphics library to install): a line per worst host of SWIOTLB occupancy
/// over simulated time, and paired bars of panics per day without and with the interventions.
/// </summary>
public static class Charts
{
    private const int Width = 900, Height = 360, Left = 60, Right = 200, Top = 30, Bottom = 40;
    private static readonly string[] Colours = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

    public static string Occupancy(IReadOnlyList<HostOutcome> hosts, int sampleSeconds, double durationSeconds)
    {
        var svg = Begin("SWIOTLB occupancy (share of slabs in use) of the worst hosts");
        Axes(svg, $"simulated hours (0-{durationSeconds / 3600:0})", "slabs in use");
        for (var tick = 0; tick <= 4; tick++)
        {
            var y = Y(tick / 4.0);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 8}\" y=\"{y + 4:0.#}\" text-anchor=\"end\" font-size=\"11\">{tick * 25}%</text>");
        }
        for (var i = 0; i < hosts.Count; i++)
        {
            var h = hosts[i];
            var points = new StringBuilder();
            for (var s = 0; s < h.Occupancy.Count; s++)
            {
                var x = Left + (Width - Left - Right) * Math.Min(1, (s + 1) * sampleSeconds / durationSeconds);
                points.Append(CultureInfo.InvariantCulture, $"{x:0.#},{Y(h.Occupancy[s]):0.#} ");
            }
            var colour = Colours[i % Colours.Length];
            svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{points}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width - Right + 10}\" y=\"{Top + 16 * i + 10}\" font-size=\"11\" fill=\"{colour}\">{WebUtility.HtmlEncode(h.Name)} ({h.Panics.Count} panics)</text>");
        }
        return End(svg);
    }

    public static string PanicsPerDay(int[] without, int[]? with)
    {
        var svg = Begin("Panics per simulated day: without (grey) vs with (blue) the interventions");
        Axes(svg, "simulated day", "panics");
        var max = Math.Max(1, Math.Max(without.DefaultIfEmpty().Max(), with?.DefaultIfEmpty().Max() ?? 0));
        var slot = (Width - Left - Right) / (double)without.Length;
        for (var d = 0; d < without.Length; d++)
        {
            Bar(svg, Left + d * slot + slot * 0.1, slot * 0.38, without[d] / (double)max, "#999", without[d]);
            if (with is not null)
                Bar(svg, Left + d * slot + slot * 0.5, slot * 0.38, with[d] / (double)max, "#1f77b4", with[d]);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + (d + 0.5) * slot:0.#}\" y=\"{Height - Bottom + 15}\" text-anchor=\"middle\" font-size=\"11\">{d + 1}</text>");
        }
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 8}\" y=\"{Top + 4}\" text-anchor=\"end\" font-size=\"11\">{max}</text>");
        return End(svg);
    }

    private static void Bar(StringBuilder svg, double x, double width, double share, string colour, int value)
    {
        var y = Y(share);
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.#}\" y=\"{y:0.#}\" width=\"{width:0.#}\" height=\"{Height - Bottom - y:0.#}\" fill=\"{colour}\"><title>{value}</title></rect>");
    }

    private static double Y(double share) => Height - Bottom - (Height - Top - Bottom) * Math.Clamp(share, 0, 1);

    private static StringBuilder Begin(string title) =>
        new StringBuilder().Append(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/><text x=\"{Left}\" y=\"18\" font-size=\"14\">{WebUtility.HtmlEncode(title)}</text>");

    private static void Axes(StringBuilder svg, string x, string y)
    {
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Height - Bottom}\" x2=\"{Width - Right}\" y2=\"{Height - Bottom}\" stroke=\"black\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Height - Bottom}\" stroke=\"black\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 5}\" text-anchor=\"middle\" font-size=\"12\">{WebUtility.HtmlEncode(x)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"12\" y=\"{(Top + Height - Bottom) / 2}\" font-size=\"12\" transform=\"rotate(-90 12 {(Top + Height - Bottom) / 2})\" text-anchor=\"middle\">{WebUtility.HtmlEncode(y)}</text>");
    }

    private static string End(StringBuilder svg) => svg.Append("</svg>\n").ToString();
}
