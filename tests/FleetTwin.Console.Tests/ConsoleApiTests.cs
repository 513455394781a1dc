using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace FleetTwin.Console.Tests;

/// <summary>The console's JSON and Server-Sent-Events endpoints (docs/console.md) with a plain HTTP client.</summary>
[Collection(DemoSiloCollection.Name)]
public class ConsoleApiTests(DemoSilo demo)
{
    [Fact]
    public async Task Fleet_lists_the_riskiest_hosts_first_with_counts_per_level_pools_and_drivers()
    {
        using var fleet = await demo.GetJsonAsync("/api/fleet");
        var root = fleet.RootElement;
        var rows = root.GetProperty("rows").EnumerateArray().ToList();
        Assert.True(root.GetProperty("hosts").GetInt32() >= 4);
        Assert.Contains(DemoSilo.DemoPool, root.GetProperty("pools").EnumerateArray().Select(p => p.GetString()));
        Assert.Contains("bnx2x", root.GetProperty("drivers").EnumerateArray().Select(p => p.GetString()));
        // Riskiest first: levels never rise down the list; the KB host (panicked: P = 1) heads the critical ones.
        var order = new[] { "critical", "warning", "latent", "ok", "unknown" };
        var levels = rows.Select(r => Array.IndexOf(order, r.GetProperty("risk").GetString())).ToList();
        Assert.Equal(levels.Order(), levels);
        var kb = rows.Single(r => r.GetProperty("name").GetString() == DemoSilo.KbHost);
        Assert.Equal("critical", kb.GetProperty("risk").GetString());
        Assert.Equal(1.0, kb.GetProperty("panicProbability").GetDouble());
        Assert.Equal(18, kb.GetProperty("exhaustionEvents").GetInt64());
        var b02 = rows.Single(r => r.GetProperty("name").GetString() == "xs62-b02");
        Assert.Equal(DemoSilo.DemoPool, b02.GetProperty("pool").GetString());
        Assert.True(b02.GetProperty("exhaustionRatePerHour").GetDouble() > 0);
        Assert.True(b02.GetProperty("groOff").GetBoolean());
        Assert.Contains(9000, b02.GetProperty("mtus").EnumerateArray().Select(m => m.GetInt32()));
        Assert.Equal("6.2", b02.GetProperty("release").GetString());
        var counts = root.GetProperty("counts");
        Assert.Equal(root.GetProperty("matching").GetInt32(), order.Sum(l => counts.GetProperty(l).GetInt32()));
    }

    [Fact]
    public async Task Fleet_filters_by_pool_level_and_driver_and_pages_on_the_server()
    {
        using var pool = await demo.GetJsonAsync($"/api/fleet?pool={DemoSilo.DemoPool}");
        Assert.Equal(["xs62-b02", "xs62-b01", "xs62-b03"], pool.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.Equal(1, pool.RootElement.GetProperty("counts").GetProperty("critical").GetInt32());

        using var latent = await demo.GetJsonAsync($"/api/fleet?pool={DemoSilo.DemoPool}&level=latent");
        Assert.Equal(["xs62-b01", "xs62-b03"], latent.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("name").GetString()));

        using var driver = await demo.GetJsonAsync("/api/fleet?driver=bnx2x");
        Assert.All(driver.RootElement.GetProperty("rows").EnumerateArray(), r => Assert.Contains("bnx2x", r.GetProperty("drivers").EnumerateArray().Select(d => d.GetString())));
        Assert.DoesNotContain(DemoSilo.KbHost, driver.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("name").GetString()));

        using var second = await demo.GetJsonAsync($"/api/fleet?pool={DemoSilo.DemoPool}&pageSize=1&page=2");
        Assert.Equal((2, 1, 3, 3), (second.RootElement.GetProperty("page").GetInt32(), second.RootElement.GetProperty("pageSize").GetInt32(),
            second.RootElement.GetProperty("pages").GetInt32(), second.RootElement.GetProperty("matching").GetInt32()));
        Assert.Equal("xs62-b01", second.RootElement.GetProperty("rows")[0].GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("/api/fleet?level=purple", HttpStatusCode.BadRequest, "level: 'purple' is not a risk level")]
    [InlineData("/api/fleet?pageSize=0", HttpStatusCode.BadRequest, "pageSize: 0: must be 1..500")]
    [InlineData("/api/fleet?page=0", HttpStatusCode.BadRequest, "page: 0: pages are numbered from 1")]
    [InlineData("/api/hosts/no-such-host", HttpStatusCode.NotFound, "name: no host 'no-such-host' in the twin")]
    [InlineData("/api/pools/no-such-pool", HttpStatusCode.NotFound, "pool: unknown pool 'no-such-pool'")]
    [InlineData("/api/alerts?limit=0", HttpStatusCode.BadRequest, "limit: 0: must be 1..1000")]
    public async Task Bad_requests_answer_an_error_naming_the_parameter(string path, HttpStatusCode status, string error)
    {
        using var response = await demo.Http.GetAsync(new Uri(demo.BaseUrl + path));
        Assert.Equal(status, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith(error, body.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_shows_its_reason_failures_against_the_32_KiB_line_NICs_bonds_panics_VM_starts_and_alerts()
    {
        using var kb = await demo.GetJsonAsync($"/api/hosts/{DemoSilo.KbHost}");
        var h = kb.RootElement;
        Assert.Equal("critical", h.GetProperty("risk").GetString());
        Assert.Contains("33302-byte mapping", h.GetProperty("riskReason").GetString(), StringComparison.Ordinal);
        Assert.Equal(32768, h.GetProperty("overflowBytes").GetInt64());
        var failures = h.GetProperty("failures").EnumerateArray().ToList();
        Assert.Equal(18, failures.Count);
        Assert.All(failures, f => Assert.True(f.GetProperty("bytes").GetInt64() > 0 && f.GetProperty("uptime").GetDouble() > 2_777_000));
        var panic = Assert.Single(h.GetProperty("panics").EnumerateArray());
        Assert.StartsWith("33302-byte", panic.GetProperty("cause").GetString(), StringComparison.Ordinal);
        Assert.NotEmpty(panic.GetProperty("trace").EnumerateArray());
        Assert.Equal(1, h.GetProperty("vmStartEvents").GetInt64());
        Assert.Contains(h.GetProperty("alerts").EnumerateArray(), a => a.GetProperty("kind").GetString() == "panic");

        using var b02 = await demo.GetJsonAsync("/api/hosts/xs62-b02");
        var nics = b02.RootElement.GetProperty("nics").EnumerateArray().ToList();
        Assert.Contains(nics, n => n.GetProperty("device").GetString() == "eth4" && n.GetProperty("driver").GetString() == "bnx2x" && n.GetProperty("mtu").GetInt32() == 9000);
        Assert.NotEmpty(b02.RootElement.GetProperty("bonds").EnumerateArray());
        Assert.Contains(b02.RootElement.GetProperty("alerts").EnumerateArray(), a => a.GetProperty("risk").GetString() == "critical");
    }

    [Fact]
    public async Task Pool_shows_its_hosts_and_the_rolling_plan_with_waves_ETA_and_the_planners_Gantt()
    {
        using var pool = await demo.GetJsonAsync($"/api/pools/{DemoSilo.DemoPool}");
        var p = pool.RootElement;
        Assert.Equal(3, p.GetProperty("hosts").GetArrayLength());
        var plan = p.GetProperty("plan");
        Assert.Equal("xs62-b01", plan.GetProperty("master").GetString());
        Assert.Equal(3, plan.GetProperty("timeline").GetProperty("waves").GetArrayLength());
        Assert.True(plan.GetProperty("timeline").GetProperty("total_seconds").GetDouble() > 0);
        Assert.Contains("<svg", p.GetProperty("planHtml").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("Rolling GRO plan for pool demo-pool-b", p.GetProperty("planText").GetString(), StringComparison.Ordinal);
        Assert.Equal(["gro", "mtu", "swiotlb"], p.GetProperty("whatIfSettings").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task What_if_streams_progress_then_baseline_and_change_side_by_side_as_server_sent_events()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"{demo.BaseUrl}/api/pools/{DemoSilo.DemoPool}/whatif"))
        {
            Content = new StringContent("""{"hours":0.25,"changes":[{"setting":"gro","value":"on"}]}""", Encoding.UTF8, "application/json"),
        };
        using var response = await demo.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = await ReadEventsAsync(response, until: e => e.Type is "result" or "error", TimeSpan.FromSeconds(60));
        Assert.StartsWith("scenario built: pool demo-pool-b", JsonDocument.Parse(events[0].Data).RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.All(events.SkipLast(1), e => Assert.Equal("progress", e.Type));
        var result = events[^1];
        Assert.Equal("result", result.Type);
        using var final = JsonDocument.Parse(result.Data);
        var r = final.RootElement.GetProperty("result");
        Assert.Equal(3, r.GetProperty("baseline").GetProperty("hosts").GetArrayLength());
        Assert.Equal(3, r.GetProperty("what_if").GetProperty("hosts").GetArrayLength());
        Assert.Equal(100, final.RootElement.GetProperty("percent").GetInt32());
    }

    [Fact]
    public async Task What_if_with_a_bad_change_answers_400_naming_the_field_before_any_event()
    {
        using var content = new StringContent("""{"hours":0.25,"changes":[{"setting":"speed","value":"10"}]}""", Encoding.UTF8, "application/json");
        using var response = await demo.Http.PostAsync(new Uri($"{demo.BaseUrl}/api/pools/{DemoSilo.DemoPool}/whatif"), content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("changes[0].setting: 'speed' is not a setting", body.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);

        using var hours = new StringContent("""{"hours":500}""", Encoding.UTF8, "application/json");
        using var tooLong = await demo.Http.PostAsync(new Uri($"{demo.BaseUrl}/api/pools/{DemoSilo.DemoPool}/whatif"), hours);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("hours: 500 is out of range", await tooLong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alerts_lists_the_latest_newest_first_and_by_host()
    {
        using var all = await demo.GetJsonAsync("/api/alerts?limit=50");
        var alerts = all.RootElement.GetProperty("alerts").EnumerateArray().ToList();
        Assert.Contains(alerts, a => a.GetProperty("host").GetString() == DemoSilo.KbHost && a.GetProperty("kind").GetString() == "panic");
        var sequences = alerts.Select(a => a.GetProperty("sequence").GetInt64()).ToList();
        Assert.Equal(sequences.OrderDescending(), sequences);
        using var b02 = await demo.GetJsonAsync("/api/alerts?host=xs62-b02");
        Assert.All(b02.RootElement.GetProperty("alerts").EnumerateArray(), a => Assert.Equal("xs62-b02", a.GetProperty("host").GetString()));
        Assert.NotEmpty(b02.RootElement.GetProperty("alerts").EnumerateArray());
    }

    [Fact]
    public async Task Events_stream_the_fleet_state_at_once_then_an_alert_and_a_new_version_after_an_ingest()
    {
        using var response = await demo.Http.GetAsync(new Uri(demo.BaseUrl + "/api/events"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream);
        var first = await NextEventAsync(reader, TimeSpan.FromSeconds(10));
        Assert.Equal("fleet", first.Type);
        var version = JsonDocument.Parse(first.Data).RootElement.GetProperty("version").GetInt64();

        const string host = "sse-test-host";
        await demo.IngestExhaustedHostAsync(host);
        var clock = Stopwatch.StartNew();
        var (alert, newer) = (false, false);
        while (!(alert && newer))
        {
            var e = await NextEventAsync(reader, TimeSpan.FromSeconds(10) - clock.Elapsed);
            if (e.Type == "alert" && JsonDocument.Parse(e.Data).RootElement.GetProperty("host").GetString() == host)
                alert = true;
            if (e.Type == "fleet" && JsonDocument.Parse(e.Data).RootElement.GetProperty("version").GetInt64() > version)
                newer = true;
        }
    }

    [Fact]
    public async Task Console_pages_and_assets_are_served_with_the_vendored_uPlot_and_its_licence_and_the_Orleans_Dashboard()
    {
        foreach (var page in new[] { "/", $"/hosts/{DemoSilo.KbHost}", $"/pools/{DemoSilo.DemoPool}", "/alerts" })
        {
            using var response = await demo.Http.GetAsync(new Uri(demo.BaseUrl + page));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("/console/app.js", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        var uplot = await demo.Http.GetStringAsync(new Uri(demo.BaseUrl + "/console/vendor/uplot/uPlot.iife.min.js"));
        Assert.StartsWith("/*! https://github.com/leeoniya/uPlot (v1.6.32) */", uplot, StringComparison.Ordinal);
        Assert.Contains("The MIT License", await demo.Http.GetStringAsync(new Uri(demo.BaseUrl + "/console/vendor/uplot/LICENSE")), StringComparison.Ordinal);

        // Revalidation: the ETag answers 304.
        using var first = await demo.Http.GetAsync(new Uri(demo.BaseUrl + "/console/app.js"));
        using var again = new HttpRequestMessage(HttpMethod.Get, new Uri(demo.BaseUrl + "/console/app.js"));
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var notModified = await demo.Http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        using var missing = await demo.Http.GetAsync(new Uri(demo.BaseUrl + "/console/nothing.js"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        var dashboard = await demo.Http.GetStringAsync(new Uri(demo.BaseUrl + "/orleans/"));
        Assert.Contains("<title>Orleans Dashboard</title>", dashboard, StringComparison.Ordinal);
    }

    internal sealed record ServerSentEvent(string Type, string Data);

    internal static async Task<List<ServerSentEvent>> ReadEventsAsync(HttpResponseMessage response, Func<ServerSentEvent, bool> until, TimeSpan timeout)
    {
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream);
        var events = new List<ServerSentEvent>();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var e = await NextEventAsync(reader, timeout - clock.Elapsed);
            events.Add(e);
            if (until(e))
                return events;
        }
    }

    /// <summary>The next event of a text/event-stream (the WHATWG HTML "server-sent events" format: event and data lines, a blank line ends it).</summary>
    internal static async Task<ServerSentEvent> NextEventAsync(StreamReader reader, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout > TimeSpan.Zero ? timeout : TimeSpan.FromMilliseconds(1));
        string type = "message", data = "";
        while (true)
        {
            var line = await reader.ReadLineAsync(cancel.Token) ?? throw new Xunit.Sdk.XunitException("the event stream ended");
            if (line.Length == 0)
            {
                if (data.Length > 0)
                    return new ServerSentEvent(type, data);
                continue;
            }
            if (line.StartsWith("event:", StringComparison.Ordinal))
                type = line[6..].Trim();
            else if (line.StartsWith("data:", StringComparison.Ordinal))
                data += line[5..].TrimStart();
        }
    }
}
