using System.Text;

namespace FleetTwin.Deployment.Tests.Chaos;

/// <summary>
/// NDJSON posted to <c>/ingest/ndjson</c> with an HttpClient, as Vector's http sink does: <paramref name="workers"/>
/// posts in flight, each batch to a random live silo and posted again (to another silo) until one answers 2xx.
/// </summary>
internal sealed class HttpNdjsonSender(HttpClient http, int workers) : IChaosSender
{
    public string Name => "http-ndjson";

    public Task RunAsync(ChaosWork work, CancellationToken cancellationToken) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            while (work.TryTake(out var batch))
            {
                await work.WaitDueAsync(batch, cancellationToken);
                SiloProcess? failed = null;
                while (true)
                {
                    var target = work.PickSilo(avoid: failed);
                    if (target is not null)
                    {
                        work.Attempted();
                        if (await PostAsync(target, batch, cancellationToken))
                            break;
                    }
                    failed = target;
                    await Task.Delay(100, cancellationToken);
                }
                work.Acknowledge(batch);
            }
        }, cancellationToken)));

    private async Task<bool> PostAsync(SiloProcess silo, ChaosBatch batch, CancellationToken cancellationToken)
    {
        var body = new StringBuilder(batch.Records.Length * 140);
        foreach (var record in batch.Records)
            body.Append("{\"message\":\"").Append(record.Message).Append("\",\"host\":\"").Append(record.Host).Append("\"}\n");
        try
        {
            using var content = new StringContent(body.ToString(), Encoding.UTF8, "application/x-ndjson");
            using var answer = await http.PostAsync(new Uri($"http://127.0.0.1:{silo.Http}/ingest/ndjson"), content, cancellationToken);
            return answer.IsSuccessStatusCode;
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
