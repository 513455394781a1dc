using System.Globalization;
using System.Text;

namespace FleetTwin.Deployment.Tests.Chaos;

/// <summary>
/// One way records reach a silo in the chaos test. A sender answers true only when the silo acknowledged the whole
/// batch (for HTTP a 2xx; for RELP every txnr's <c>rsp 200</c>; for the gRPC stream the batch's ack); anything else
/// (refused, reset, timed out, 5xx) is false and the batch is sent again to another silo. RELP (rsyslog omrelp) and
/// the bidirectional gRPC ingest plug in here.
/// </summary>
internal interface IChaosSender
{
    string Name { get; }

    Task<bool> SendAsync(SiloProcess silo, IReadOnlyList<ChaosRecord> batch, CancellationToken cancellationToken);
}

/// <summary>One exhaustion record of one host, at an uptime no other record of the host has.</summary>
internal readonly record struct ChaosRecord(string Host, int Index)
{
    public string Message => string.Create(CultureInfo.InvariantCulture,
        $"kernel: [{10_000 + Index}.{Index % 1_000_000:000000}] PCI-DMA: Out of SW-IOMMU space for 65536 bytes at device 0000:04:00.1");
}

/// <summary>NDJSON posted to <c>/ingest/ndjson</c> with an HttpClient, as Vector's http sink does.</summary>
internal sealed class HttpNdjsonSender(HttpClient http) : IChaosSender
{
    public string Name => "http-ndjson";

    public async Task<bool> SendAsync(SiloProcess silo, IReadOnlyList<ChaosRecord> batch, CancellationToken cancellationToken)
    {
        var body = new StringBuilder(batch.Count * 140);
        foreach (var record in batch)
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
