using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FleetTwin.Deployment.Tests;

namespace FleetTwin.Console.Tests;

/// <summary>
/// <c>fleettwin-silo --demo</c> as a newcomer starts it (embedded defaults, local ports), once for every test of the
/// collection: ready when the demo data is in the twin and the pool members' latent level has reached the host index.
/// Tests that ingest use host names of their own, so they do not disturb each other's expectations.
/// </summary>
public sealed class DemoSilo : IAsyncLifetime
{
    public const string KbHost = "bn2-3c16-ix-4104";
    public const string DemoPool = "demo-pool-b";

    private SiloProcess? _silo;

    internal SiloProcess Process => _silo ?? throw new InvalidOperationException("not started");
    public string BaseUrl => $"http://127.0.0.1:{Process.Http}";
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public async Task InitializeAsync()
    {
        _silo = await SiloProcess.StartAsync(new Dictionary<string, string?>(), "--demo");
        await _silo.WaitForOutputAsync("demo data loaded:");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var fleet = await GetJsonAsync("/api/fleet");
            var counts = fleet.RootElement.GetProperty("counts");
            if (counts.GetProperty("critical").GetInt32() == 2 && counts.GetProperty("latent").GetInt32() == 2)
                break;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the demo's levels never reached the index: " + fleet.RootElement.GetProperty("counts"));
            await Task.Delay(100);
        }
    }

    public async Task<JsonDocument> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(new Uri(BaseUrl + path));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        return JsonDocument.Parse(body);
    }

    /// <summary>
    /// Ingests one new host through the HTTP front door (NDJSON, as Vector or Fluent Bit send it): three SWIOTLB
    /// exhaustion records, so the twin raises an alert (unknown to warning or critical) for it.
    /// </summary>
    public async Task IngestExhaustedHostAsync(string host)
    {
        var records = new StringBuilder();
        for (var k = 0; k < 3; k++)
        {
            records.Append(JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["host"] = host,
                ["message"] = $"kernel: [{500_000 + k * 60}.000000] PCI-DMA: Out of SW-IOMMU space for {20_000 + k * 1000} bytes at device 0000:04:00.1",
            })).Append('\n');
        }
        using var content = new StringContent(records.ToString(), Encoding.UTF8, "application/x-ndjson");
        using var response = await Http.PostAsync(new Uri(BaseUrl + "/ingest/ndjson"), content);
        var answer = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"ingest of {host}: {(int)response.StatusCode} {answer}");
        using var accepted = JsonDocument.Parse(answer);
        Assert.Equal(3, accepted.RootElement.GetProperty("recognised").GetInt32());
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_silo is not null)
        {
            await _silo.StopAsync();
            await _silo.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DemoSiloCollection : ICollectionFixture<DemoSilo>
{
    public const string Name = "demo silo";
}
