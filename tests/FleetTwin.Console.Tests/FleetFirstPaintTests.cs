using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using FleetTwin.Api.V1;
using FleetTwin.Deployment.Tests;
using Grpc.Net.Client;
using OpenQA.Selenium;
using Xunit.Abstractions;

namespace FleetTwin.Console.Tests;

/// <summary>
/// The fleet page of a twin of 10,000 hosts, as the browser measures it (the issue's target: first paint under 1 s on
/// this machine). Reported, not asserted (timings on a shared machine are figures, not specifications): printed and
/// written to TestResults/console-first-paint.txt; docs/perf.md records them. What is asserted is that the page shows
/// the riskiest hosts of all 10,000 and pages on the server (50 rows, not 10,000).
/// </summary>
public sealed class FleetFirstPaintTests(ITestOutputHelper output)
{
    public const int Hosts = 10_000;

    [SkippableFact]
    public async Task Fleet_page_of_10000_hosts_paints_its_first_page_and_the_timings_are_reported()
    {
        using var browser = Browser.Start();
        await using var silo = await SiloProcess.StartAsync(new Dictionary<string, string?>());
        var root = $"http://127.0.0.1:{silo.Http}";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };

        // 10,000 hosts through the gRPC IngestService front door, as the load tool seeds them: each host's ethtool -i
        // of a bnx2x NIC and, for one host in ten, three SWIOTLB exhaustion records on it.
        var seeding = Stopwatch.StartNew();
        using (var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{silo.Grpc}"))
        {
            var ingest = new IngestService.IngestServiceClient(channel);
            using var call = ingest.Ingest(deadline: DateTime.UtcNow.AddMinutes(2));
            var message = new IngestRequest { SourceName = "console-first-paint", Year = 2014 };
            var random = new Random(22);
            for (var i = 0; i < Hosts; i++)
            {
                var host = string.Create(CultureInfo.InvariantCulture, $"perf-{i:00000}");
                // One NIC's driver is enough for the host to be in the index (and keeps seeding to one NIC grain a host).
                message.Lines.Add($"[root@{host} ~]# ethtool -i eth4");
                message.Lines.Add("driver: bnx2x");
                message.Lines.Add("bus-info: 0000:04:00.1");
                if (i % 10 == 0)
                {
                    for (var k = 0; k < 3; k++)
                        message.Lines.Add(string.Create(CultureInfo.InvariantCulture,
                            $"Sep 17 05:0{k}:00 {host} kernel: [{1_000_000 + k * 60}.000000] PCI-DMA: Out of SW-IOMMU space for {random.Next(14_000, 30_000)} bytes at device 0000:04:00.1"));
                }
                if (message.Lines.Count >= 5000)
                {
                    await call.RequestStream.WriteAsync(message);
                    message = new IngestRequest();
                }
            }
            await call.RequestStream.WriteAsync(message);
            await call.RequestStream.CompleteAsync();
            var answer = await call;
            Assert.Equal(Hosts, answer.EventsByHost.Count);
        }
        int known;
        while ((known = (await http.GetFromJsonAsync<JsonElement>(new Uri(root + "/api/fleet?pageSize=1"))).GetProperty("hosts").GetInt32()) < Hosts)
        {
            Assert.True(seeding.Elapsed < TimeSpan.FromSeconds(120), $"only {known} of {Hosts} hosts reached the index in 120 s");
            await Task.Delay(250);
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seeded {Hosts} hosts through IngestService in {seeding.Elapsed.TotalSeconds:0.0} s"));

        // One visit to warm the silo's JIT and this snapshot's memoised sort (what any earlier visitor would have done),
        // then the measured one in a fresh tab state.
        browser.Driver.Navigate().GoToUrl(root + "/");
        browser.Until(d => d.FindElements(By.CssSelector("tr[data-host]")).Count == 50, TimeSpan.FromSeconds(30), "the first page of 50 rows");
        browser.Driver.Navigate().GoToUrl("about:blank");
        browser.Driver.Navigate().GoToUrl(root + "/");
        browser.Until(d => d.FindElements(By.CssSelector("tr[data-host]")).Count == 50, TimeSpan.FromSeconds(30), "the first page of 50 rows");
        browser.Until(d => browser.Script("return window.fleetTwinConsole.timings.fleetRenderedMs ?? null;"), TimeSpan.FromSeconds(10), "the page's own render mark");
        var timings = (IReadOnlyDictionary<string, object>)browser.Script("""
            const nav = performance.getEntriesByType('navigation')[0];
            const paint = Object.fromEntries(performance.getEntriesByType('paint').map(p => [p.name, p.startTime]));
            const api = performance.getEntriesByType('resource').filter(r => r.name.includes('/api/fleet')).map(r => r.duration);
            return {
              responseEnd: nav.responseEnd, domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
              firstContentfulPaint: paint['first-contentful-paint'] ?? -1,
              fleetTableRendered: window.fleetTwinConsole.timings.fleetRenderedMs,
              apiFleetRequest: api.length ? api[api.length - 1] : -1,
            };
            """)!;
        string Ms(string key) => Convert.ToDouble(timings[key], CultureInfo.InvariantCulture).ToString("0", CultureInfo.InvariantCulture);
        var report = $"fleet page, {Hosts} hosts (ms from navigation start): HTML response {Ms("responseEnd")}, DOMContentLoaded {Ms("domContentLoaded")}, " +
            $"first contentful paint {Ms("firstContentfulPaint")}, table of the first 50 rows rendered {Ms("fleetTableRendered")}; /api/fleet request {Ms("apiFleetRequest")}";
        output.WriteLine(report);
        System.Console.WriteLine(report);
        var directory = Path.Combine(AppContext.BaseDirectory, "TestResults");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "console-first-paint.txt"), report + "\n");
        browser.Screenshot("fleet-10000-hosts");

        // Server-side paging: 50 rows of 10,000, the riskiest first, the counts of all.
        Assert.Contains($"{Hosts:N0} hosts", browser.Text(), StringComparison.Ordinal);
        Assert.Contains("page 1 of 200", browser.Text(), StringComparison.Ordinal);
        var first = browser.Driver.FindElement(By.CssSelector("tr[data-host] [data-risk]")).GetAttribute("data-risk");
        Assert.True(first is "critical" or "warning", $"the first row is {first}, not the riskiest");
        browser.AssertNoConsoleErrors("fleet (10,000 hosts)");
    }
}
