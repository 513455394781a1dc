using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Ingest;

namespace FleetTwin.Silo;

/// <summary>
/// <c>--demo</c>: replays bundled sample data through the real ingest path once the silo is up, so a newcomer sees a
/// twin at once: the KB incident's host (panicked, critical) and a small synthetic pool with one host at risk.
/// </summary>
internal sealed class DemoSeed(IClusterClient client, IHostApplicationLifetime lifetime, ILogger<DemoSeed> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        using var _ = lifetime.ApplicationStarted.Register(started.SetResult);
        await started.Task.WaitAsync(stoppingToken);

        var ingestor = new TwinIngestor(client);
        var inputs = new (string Resource, LogParserOptions Options)[]
        {
            ("demo/kb-incident/kern.log", new LogParserOptions { SourceName = "kb-incident/kern.log", Year = 2014 }),
            ("demo/kb-incident/dom0.log", new LogParserOptions { SourceName = "kb-incident/dom0.log", DefaultHost = "bn2-3c16-ix-4104", Year = 2014 }),
            ("demo/synthetic-pool.txt", new LogParserOptions { SourceName = "synthetic-pool.txt", Year = 2026 }),
            ("demo/synthetic-pool-xe.txt", new LogParserOptions { SourceName = "synthetic-pool-xe.txt", Year = 2026 }),
            ("demo/synthetic-pool-b02-kern.log.txt", new LogParserOptions { SourceName = "synthetic-pool-b02-kern.log", Year = 2026 }),
        };
        foreach (var (resource, options) in inputs)
        {
            await using var stream = typeof(DemoSeed).Assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"demo data {resource} is missing from the silo assembly");
            var stats = await ingestor.IngestAsync(stream, options, cancellationToken: stoppingToken);
            logger.LogInformation("demo: {Source}: {Lines} lines, {Events} events", options.SourceName, stats.LinesRead, stats.Events);
        }
        await ingestor.WaitUntilAppliedAsync(TimeSpan.FromSeconds(30), stoppingToken);
        Console.WriteLine("demo data loaded: bn2-3c16-ix-4104 (the KB incident) and pool demo-pool-b (xs62-b01..b03). Try: fleettwin hosts");
    }
}
