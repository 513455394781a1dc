using FleetTwin.Api.V1;
using FleetTwin.Cli.Offline;
using FleetTwin.Domain.Planning;
using Grpc.Core;

namespace FleetTwin.Api.Tests;

/// <summary>IngestService counts and limits, and PlanService against the same twin.</summary>
public class IngestAndPlanTests(KbSiloFixture kb) : IClassFixture<KbSiloFixture>
{
    [Fact]
    public async Task Ingesting_the_KB_logs_counts_every_line_and_applies_every_event_to_the_KB_host()
    {
        var kern = kb.Ingested[0];
        var lines = File.ReadAllLines(Golden.Path("kb-incident/kern.log")).Length;

        Assert.Equal(lines, kern.LinesAccepted);
        Assert.Equal(kern.LinesAccepted, kern.LinesRecognised + kern.LinesRejected + kern.LinesBlank);
        Assert.True(kern.Applied);
        Assert.Equal(kern.Events, kern.EventsByHost[KbSiloFixture.KbHost]);
        Assert.Equal("auto", kern.FormatHint);
    }

    [Fact]
    public async Task A_line_the_parser_does_not_know_is_counted_rejected_with_a_sample_never_dropped()
    {
        var answer = await kb.Silo.IngestLinesAsync(
            ["Sep 17 05:00:01 reject-host kernel: [ 100.000000] PCI-DMA: Out of SW-IOMMU space for 16384 bytes at device 0000:04:00.0", "%%% not a log line %%%", ""],
            source: "reject.log");

        Assert.Equal(3, answer.LinesAccepted);
        Assert.Equal(1, answer.LinesRejected);
        Assert.Equal(1, answer.LinesBlank);
        Assert.Equal(1, answer.EventsByHost["reject-host"]);
        var sample = Assert.Single(answer.RejectedSamples);
        Assert.Equal(("reject.log", 2L), (sample.Source, sample.Line));
    }

    [Fact]
    public async Task A_message_over_10000_lines_is_RESOURCE_EXHAUSTED_naming_lines()
    {
        var status = await Rpc.FailureOf(() => kb.Silo.IngestLinesAsync(Enumerable.Repeat("x", 10_001)));

        Assert.Equal(StatusCode.ResourceExhausted, status.StatusCode);
        Assert.StartsWith("lines: message 1 holds 10001 lines, at most 10000", status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_over_4_MiB_is_RESOURCE_EXHAUSTED()
    {
        var status = await Rpc.FailureOf(async () =>
        {
            using var call = kb.Silo.Ingest.Ingest();
            try
            {
                await call.RequestStream.WriteAsync(new IngestRequest { Lines = { Enumerable.Repeat(new string('x', 1 << 20), 5) } });
                await call.RequestStream.CompleteAsync();
            }
            catch (RpcException)
            {
                // The server may end the call while the message is still being written: its status is the call's.
            }
            await call.ResponseAsync;
        });

        Assert.Equal(StatusCode.ResourceExhausted, status.StatusCode);
    }

    [Fact]
    public async Task Bad_hints_are_INVALID_ARGUMENT_naming_the_field()
    {
        async Task<Status> Send(params IngestRequest[] messages)
        {
            return await Rpc.FailureOf(async () =>
            {
                using var call = kb.Silo.Ingest.Ingest();
                foreach (var m in messages)
                    await call.RequestStream.WriteAsync(m);
                await call.RequestStream.CompleteAsync();
                await call;
            });
        }

        var format = await Send(new IngestRequest { FormatHint = "xml" });
        var changed = await Send(new IngestRequest { HostHint = "a" }, new IngestRequest { HostHint = "b" });
        var year = await Send(new IngestRequest { Year = 14 });

        Assert.Equal(StatusCode.InvalidArgument, format.StatusCode);
        Assert.StartsWith("format_hint: 'xml' is not one of auto", format.Detail, StringComparison.Ordinal);
        Assert.StartsWith("host_hint: message 2 changes it", changed.Detail, StringComparison.Ordinal);
        Assert.StartsWith("year: 14", year.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_ingest_whose_client_stalls_past_its_deadline_is_DEADLINE_EXCEEDED()
    {
        var status = await Rpc.FailureOf(async () =>
        {
            using var call = kb.Silo.Ingest.Ingest(deadline: DateTime.UtcNow.AddMilliseconds(300));
            await call.RequestStream.WriteAsync(new IngestRequest { Lines = { "Sep 17 05:00:01 slow-host kernel: [ 1.0] hello" } });
            await call.ResponseAsync; // never completes the request stream: the deadline ends the call
        });

        Assert.Equal(StatusCode.DeadlineExceeded, status.StatusCode);
    }

    [Fact]
    public async Task ProposePlan_from_the_running_twin_is_the_plan_the_offline_verb_makes_from_the_same_files()
    {
        var offline = OfflineFleet.Read([Golden.Path("kb-incident/kern.log"), Golden.Path("kb-incident/dom0.log"), Golden.Path("kb-pool/kb-pool-transcript.txt")], KbSiloFixture.KbHost, 2014);
        var expected = RollingPlanner.Plan(offline.Inventory, KbSiloFixture.KbPool, offline.Predict());

        var plan = await kb.Silo.Plans.ProposePlanAsync(new ProposePlanRequest { Pool = KbSiloFixture.KbPool });

        Assert.Equal(PlanJson.Render(expected), plan.Json);
        Assert.Equal(PlanText.Render(expected), plan.Text);
        Assert.Equal(expected.Complete, plan.Complete);
        Assert.Contains(KbSiloFixture.KbHost, plan.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProposePlan_errors_name_the_field()
    {
        var unknown = await Rpc.FailureOf(() => kb.Silo.Plans.ProposePlanAsync(new ProposePlanRequest { Pool = "prod-9" }).ResponseAsync);
        var missing = await Rpc.FailureOf(() => kb.Silo.Plans.ProposePlanAsync(new ProposePlanRequest()).ResponseAsync);
        var maxDown = await Rpc.FailureOf(() => kb.Silo.Plans.ProposePlanAsync(new ProposePlanRequest { Pool = KbSiloFixture.KbPool, MaxDown = -1 }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("pool: unknown pool 'prod-9': no xe pool-list names it (pools read: bn2-3c16)", unknown.Detail);
        Assert.Equal((StatusCode.InvalidArgument, "pool: required"), (missing.StatusCode, missing.Detail));
        Assert.Equal(StatusCode.InvalidArgument, maxDown.StatusCode);
        Assert.StartsWith("max_down: -1", maxDown.Detail, StringComparison.Ordinal);
    }
}
