using System.Globalization;
using System.Text;
using System.Text.Json;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>curl posting what Vector's and Fluent Bit's HTTP outputs send (NDJSON) and plain text lines.</summary>
public sealed class HttpDoorTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fleettwin-http-").FullName;

    private static string[] Post(string url, string file, string contentType) =>
        ["-sS", "--fail-with-body", "-H", $"Content-Type: {contentType}", "--data-binary", "@" + file, url];

    [SkippableFact]
    public async Task NDJSON_of_both_KB_logs_with_message_host_and_timestamp_fields_gives_18_exhaustions_and_the_panic()
    {
        var curl = Tools.Require("curl", "curl");
        await using var silo = await LiveSilo.StartAsync();
        // kern.log as a shipper's syslog source sends it (header split into fields); the console as whole lines.
        var lines = File.ReadAllLines(Golden.KbIncident("kern.log")).Select((line, i) => JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["message"] = line[(line.IndexOf(" kernel: ", StringComparison.Ordinal) + 9)..],
            ["host"] = Golden.KbHost,
            ["timestamp"] = "2014-09-17T05:00:53Z",
        })).Concat(File.ReadAllLines(Golden.KbIncident("dom0.log")).Select(line => JsonSerializer.Serialize(new Dictionary<string, string> { ["message"] = line, ["host"] = Golden.KbHost })));
        var file = Path.Combine(_directory, "kb.ndjson");
        File.WriteAllLines(file, lines);

        var answer = await Tools.RunAsync(curl, Post($"{silo.Http}/ingest/ndjson", file, "application/x-ndjson"));

        Assert.Equal("""{"accepted":121,"recognised":120,"unrecognised":1,"malformed":0}""", answer.Trim());
        var host = await silo.HostWhen(Golden.KbHost, h => h.Panics.Length > 0 && h.ExhaustionEvents >= 18);
        Assert.Equal(18, host.ExhaustionEvents);
        Assert.Equal([new DeviceExhaustionView("0000:04:00.0", null, 3), new DeviceExhaustionView("0000:04:00.1", null, 15)], host.Devices);
        Assert.Equal(33_302, Assert.Single(host.Panics).CauseBytes);
    }

    [SkippableFact]
    public async Task NDJSON_whose_message_keeps_the_syslog_tag_yields_the_exhaustion_and_the_answer_counts_what_was_not_read()
    {
        var curl = Tools.Require("curl", "curl");
        await using var silo = await LiveSilo.StartAsync();
        // Several syslog parsers put the MSG with its tag into "message" (what follows the host in RFC 3164).
        var file = Path.Combine(_directory, "tagged.ndjson");
        File.WriteAllLines(file,
        [
            """{"message":"kernel: [300000.000000] PCI-DMA: Out of SW-IOMMU space for 16384 bytes at device 0000:04:00.1","host":"tagged-host"}""",
            """{"message":"kernel: [300001.000000] nf_conntrack: table full, dropping packet","host":"tagged-host"}""",
        ]);

        var answer = await Tools.RunAsync(curl, Post($"{silo.Http}/ingest/ndjson", file, "application/x-ndjson"));

        Assert.Equal("""{"accepted":2,"recognised":1,"unrecognised":1,"malformed":0}""", answer.Trim());
        var host = await silo.HostWhen("tagged-host", h => h.ExhaustionEvents >= 1);
        Assert.Equal([new DeviceExhaustionView("0000:04:00.1", null, 1)], host.Devices);
    }

    [SkippableFact]
    public async Task NDJSON_field_names_are_configurable_as_Fluent_Bit_sends_log_and_date()
    {
        var curl = Tools.Require("curl", "curl");
        await using var silo = await LiveSilo.StartAsync(new Dictionary<string, string?>
        {
            ["FleetTwin:FrontDoors:MessageField"] = "log",
            ["FleetTwin:FrontDoors:HostField"] = "hostname",
            ["FleetTwin:FrontDoors:TimestampField"] = "date",
        });
        var file = Path.Combine(_directory, "fluent-bit.ndjson");
        File.WriteAllLines(file, Golden.KernLogMessages().Select(m => JsonSerializer.Serialize(new Dictionary<string, object> { ["date"] = 1410930053.25, ["log"] = m, ["hostname"] = "fb-host-1" })));

        await Tools.RunAsync(curl, Post($"{silo.Http}/ingest/ndjson", file, "application/json"));

        var host = await silo.HostWhen("fb-host-1", h => h.ExhaustionEvents >= 17);
        Assert.Equal(17, host.ExhaustionEvents);
    }

    [SkippableFact]
    public async Task Plain_text_console_lines_with_a_host_parameter_give_18_exhaustions_and_the_panic()
    {
        var curl = Tools.Require("curl", "curl");
        await using var silo = await LiveSilo.StartAsync();

        var answer = await Tools.RunAsync(curl, Post($"{silo.Http}/ingest/text?host={Golden.KbHost}", Golden.KbIncident("dom0.log"), "text/plain"));

        Assert.Equal("""{"accepted":84,"recognised":84,"unrecognised":0,"malformed":0}""", answer.Trim());
        var host = await silo.HostWhen(Golden.KbHost, h => h.Panics.Length > 0);
        Assert.Equal(18, host.ExhaustionEvents);
        Assert.Equal("DMA: Random memory could be DMA read", Assert.Single(host.Panics).Message);
    }

    [SkippableFact]
    public async Task A_burst_larger_than_the_twin_accepts_gets_429s_and_after_curls_retries_nothing_is_lost()
    {
        var curl = Tools.Require("curl", "curl");
        // The twin takes at most 1,500 unpublished records (ten requests); 40 clients post 150 each at once. It stays behind
        // (the gate holds the first hand-over) until the burst has been answered 429 at least once, so the push-back
        // is certain whatever the timing, then catches up while curl retries.
        var gate = new TwinGate();
        await using var silo = await LiveSilo.StartAsync(new Dictionary<string, string?> { ["FleetTwin:FrontDoors:MaxUnpublishedRecords"] = "1500" }, gate);
        const int Clients = 40, PerClient = 150;
        var arguments = new List<string> { "-sS", "-Z", "--parallel-immediate", "--parallel-max", "40" };
        for (var c = 0; c < Clients; c++)
        {
            var file = Path.Combine(_directory, $"burst-{c}.ndjson");
            File.WriteAllLines(file, Enumerable.Range(0, PerClient).Select(i => JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["message"] = string.Create(CultureInfo.InvariantCulture, $"[{1000 + i}.000000] PCI-DMA: Out of SW-IOMMU space for {16384 + i} bytes at device 0000:04:00.{i % 2}"),
                ["host"] = $"burst-{c:00}",
            })));
            if (c > 0)
                arguments.Add("--next");
            arguments.AddRange(["--retry", "100", "--retry-delay", "1", "--retry-all-errors", "--data-binary", "@" + file, $"{silo.Http}/ingest/ndjson"]);
        }

        var burst = Tools.RunAsync(curl, arguments, timeoutSeconds: 120);
        await Await.Until("a 429 for the burst", () => silo.Metrics.RejectedCount(Door.HttpNdjson, RejectReason.TwinBusy) > 0);
        gate.Open();
        await burst;

        // Each 429 turns a whole request away: the count is a multiple of its 150 records.
        Assert.Equal(0, silo.Metrics.RejectedCount(Door.HttpNdjson, RejectReason.TwinBusy) % PerClient);
        Assert.Equal(Clients * PerClient, silo.Metrics.AcceptedCount(Door.HttpNdjson));
        for (var c = 0; c < Clients; c++)
        {
            var host = await silo.HostWhen($"burst-{c:00}", h => h.ExhaustionEvents >= PerClient);
            Assert.Equal(PerClient, host.ExhaustionEvents);
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
