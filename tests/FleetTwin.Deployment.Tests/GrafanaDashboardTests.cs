using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FleetTwin.Security;
using FleetTwin.Tests.Shared;
using YamlDotNet.RepresentationModel;

namespace FleetTwin.Deployment.Tests;

/// <summary>
/// k8s/grafana/fleettwin-dashboard.json: it parses as a Grafana dashboard, every PromQL expression in it names only
/// series a running silo really exports on /metrics (read from a demo silo that has ingested, rejected and refused
/// something, so its counters exist), every FleetTwin metric the silo exports has a panel, and both kustomizations
/// render it as a ConfigMap with its file provider.
/// </summary>
public partial class GrafanaDashboardTests
{
    private static string DashboardPath => Tooling.K8s("grafana/fleettwin-dashboard.json");

    /// <summary>Every expression of the dashboard: the panels' targets (rows included) and the query variables.</summary>
    private static List<(string Where, string Expr)> Expressions(JsonElement dashboard)
    {
        var found = new List<(string, string)>();
        void Panels(JsonElement panels)
        {
            foreach (var panel in panels.EnumerateArray())
            {
                if (panel.TryGetProperty("targets", out var targets))
                {
                    foreach (var target in targets.EnumerateArray())
                        found.Add(($"panel '{panel.GetProperty("title").GetString()}' {target.GetProperty("refId").GetString()}", target.GetProperty("expr").GetString()!));
                }
                if (panel.TryGetProperty("panels", out var nested))
                    Panels(nested);
            }
        }
        Panels(dashboard.GetProperty("panels"));
        foreach (var variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            // Grafana's label_values(SELECTOR, LABEL) is not PromQL: its selector is (Grafana, "Prometheus template variables").
            if (variable.GetProperty("type").GetString() == "query")
                found.Add(($"variable ${variable.GetProperty("name").GetString()}", LabelValues().Replace(variable.GetProperty("definition").GetString()!, "$1")));
        }
        return found;
    }

    /// <summary>
    /// The series names a PromQL expression selects: identifiers left once strings, label matchers <c>{...}</c>,
    /// ranges <c>[...]</c>, grouping clauses <c>by (...)</c> and Grafana variables are taken out, that are neither a
    /// function call nor a keyword (Prometheus "Querying basics" and "Operators").
    /// </summary>
    internal static HashSet<string> SeriesIn(string expr)
    {
        var text = Strings().Replace(expr, " ");
        text = Matchers().Replace(text, " ");
        text = Ranges().Replace(text, " ");
        text = Grouping().Replace(text, " ");
        text = Variables().Replace(text, " ");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in Identifier().Matches(text))
        {
            var rest = text[(m.Index + m.Length)..].TrimStart();
            if (rest.StartsWith('(') || Keywords.Contains(m.Value))
                continue;
            names.Add(m.Value);
        }
        return names;
    }

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal) { "and", "or", "unless", "bool", "offset", "inf", "nan" };

    [GeneratedRegex(@"^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$")]
    private static partial Regex LabelValues();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")]
    private static partial Regex Variables();

    [GeneratedRegex(@"(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*")]
    private static partial Regex Identifier();

    [Fact]
    public void The_series_reader_takes_functions_groupings_matchers_and_variables_out()
    {
        Assert.Equal(["fleettwin_stream_lag_milliseconds_bucket"],
            SeriesIn("histogram_quantile(0.99, sum by (le) (rate(fleettwin_stream_lag_milliseconds_bucket{instance=~\"$instance\"}[$__rate_interval])))"));
        Assert.Equal(["a_total", "b"], SeriesIn("sum without (door) (a_total{reason=\"x y\"}) / on (pod) b offset 5m and bool 1").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_dashboard_is_a_Grafana_dashboard_whose_panels_ask_the_datasource_variable_and_do_not_overlap()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var root = json.RootElement;
        Assert.Equal("fleettwin-overview", root.GetProperty("uid").GetString());
        Assert.True(root.GetProperty("schemaVersion").GetInt32() >= 36);
        var panels = root.GetProperty("panels").EnumerateArray().ToList();
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        var cells = new HashSet<(int X, int Y)>();
        foreach (var panel in panels)
        {
            var grid = panel.GetProperty("gridPos");
            int x = grid.GetProperty("x").GetInt32(), y = grid.GetProperty("y").GetInt32(), w = grid.GetProperty("w").GetInt32(), h = grid.GetProperty("h").GetInt32();
            Assert.True(x >= 0 && w > 0 && x + w <= 24, $"panel {panel.GetProperty("title")} is outside Grafana's 24 columns");
            for (var i = x; i < x + w; i++)
            {
                for (var j = y; j < y + h; j++)
                    Assert.True(cells.Add((i, j)), $"panel {panel.GetProperty("title")} overlaps another at {i},{j}");
            }
            if (panel.GetProperty("type").GetString() != "row")
                Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
        }
        // Imported or provisioned, the dashboard asks which Prometheus to use instead of naming one.
        Assert.Contains(root.GetProperty("templating").GetProperty("list").EnumerateArray(),
            v => v.GetProperty("name").GetString() == "datasource" && v.GetProperty("type").GetString() == "datasource" && v.GetProperty("query").GetString() == "prometheus");
    }

    [SkippableTheory]
    [MemberData(nameof(ManifestTests.Kustomizations), MemberType = typeof(ManifestTests))]
    public void Both_kustomizations_render_the_dashboard_ConfigMap_and_its_provider(string kustomization)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(Tooling.Render(kustomization)));
        var configMaps = stream.Documents.Select(d => (YamlMappingNode)d.RootNode)
            .Where(o => ((YamlScalarNode)o["kind"]).Value == "ConfigMap")
            .ToDictionary(o => ((YamlScalarNode)((YamlMappingNode)o["metadata"])["name"]).Value!);

        var dashboard = configMaps["fleettwin-grafana-dashboard"];
        Assert.Equal(File.ReadAllText(DashboardPath), ((YamlScalarNode)((YamlMappingNode)dashboard["data"])["fleettwin-dashboard.json"]).Value);
        Assert.Equal("1", ((YamlScalarNode)((YamlMappingNode)((YamlMappingNode)dashboard["metadata"])["labels"])["grafana_dashboard"]).Value);
        Assert.Equal("fleettwin", ((YamlScalarNode)((YamlMappingNode)dashboard["metadata"])["namespace"]).Value);

        var provider = new YamlStream();
        provider.Load(new StringReader(((YamlScalarNode)((YamlMappingNode)configMaps["fleettwin-grafana-provider"]["data"])["fleettwin-dashboards.yaml"]).Value!));
        var first = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)provider.Documents[0].RootNode)["providers"]).Children[0];
        Assert.Equal("file", ((YamlScalarNode)first["type"]).Value);
        Assert.Equal("/var/lib/grafana/dashboards/fleettwin", ((YamlScalarNode)((YamlMappingNode)first["options"])["path"]).Value);
    }

    [Fact(Timeout = 240_000)]
    public async Task Every_expression_names_only_series_a_running_silo_exports_and_every_FleetTwin_metric_has_a_panel()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var expressions = Expressions(json.RootElement);
        var asked = expressions.SelectMany(e => SeriesIn(e.Expr).Select(name => (e.Where, Name: name))).ToList();
        // What the issue asks the dashboard to show, by the series that carry it.
        foreach (var needed in new[] { "fleettwin_hosts", "fleettwin_swiotlb_exhaustions_total", "fleettwin_panics_total", "fleettwin_events_ingested_total",
                     "fleettwin_stream_lag_milliseconds_bucket", "fleettwin_frontdoor_rejected_total", "fleettwin_door_refusals_total" })
            Assert.Contains(asked, a => a.Name == needed);

        // A demo silo with doors that want credentials, so a refusal can be counted; then one accepted, one
        // rejected and one refused request at the HTTP door: the counters exist once something was counted.
        using var credentials = new TestCredentials();
        var environment = credentials.SiloSettings().ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
        await using var silo = await SiloProcess.StartAsync(environment, "--demo");
        await silo.WaitForOutputAsync("demo data loaded:");
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate is not null && credentials.IssuedByTestCa(certificate) };
        using var http = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{silo.Http}"), Timeout = TimeSpan.FromSeconds(30) };
        var ingestToken = credentials.Token(TimeSpan.FromMinutes(10), DoorRoles.Ingest);
        var readToken = credentials.Token(TimeSpan.FromMinutes(10), DoorRoles.Read);
        async Task<HttpStatusCode> Post(string body, string? token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/ingest/ndjson") { Content = new StringContent(body, Encoding.UTF8, "application/x-ndjson") };
            if (token is not null)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }
        var record = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["message"] = "kernel: [ 100.000000] PCI-DMA: Out of SW-IOMMU space for 16384 bytes at device 0000:04:00.0",
            ["host"] = "grafana-host",
            ["timestamp"] = "2014-09-17T05:00:01Z",
        });
        Assert.Equal(HttpStatusCode.OK, await Post(record + "\n", ingestToken));
        Assert.Equal(HttpStatusCode.BadRequest, await Post("{not json\n", ingestToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await Post(record + "\n", token: null));

        // The series on /metrics (Prometheus text format: a sample line starts with its name), read until every
        // asked one is there: observable gauges and histograms reach the exporter on its next collection.
        HashSet<string> exported = [];
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", readToken);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            exported = (await response.Content.ReadAsStringAsync()).Split('\n')
                .Where(l => l.Length > 0 && l[0] != '#')
                .Select(l => l[..l.IndexOfAny([' ', '{'])])
                .ToHashSet(StringComparer.Ordinal);
            if (asked.All(a => exported.Contains(a.Name)) || clock.Elapsed > TimeSpan.FromSeconds(30))
                break;
            await Task.Delay(500);
        }
        var unknown = asked.Where(a => !exported.Contains(a.Name)).Select(a => $"{a.Where}: {a.Name}").Distinct().ToList();
        Assert.True(unknown.Count == 0, "the dashboard asks for series the silo does not export:\n" + string.Join("\n", unknown)
            + "\nexported: " + string.Join(", ", exported.Where(n => n.StartsWith("fleettwin_", StringComparison.Ordinal)).Order(StringComparer.Ordinal)));

        // The other way round: a FleetTwin metric the silo exports and no panel shows (a histogram by its _bucket series).
        static string Family(string name) => Regex.Replace(name, "_(bucket|sum|count)$", "");
        var shown = asked.Select(a => Family(a.Name)).ToHashSet(StringComparer.Ordinal);
        var missing = exported.Where(n => n.StartsWith("fleettwin_", StringComparison.Ordinal)).Select(Family).Distinct().Where(f => !shown.Contains(f)).ToList();
        Assert.True(missing.Count == 0, "no panel shows: " + string.Join(", ", missing));
    }
}
