using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Ingest;

namespace FleetTwin.Twin.Tests;

/// <summary>The KB incident replayed through the real ingest path (parser -> host streams -> grains).</summary>
public class KbIncidentReplayTests(TwinClusterFixture fixture) : IClassFixture<TwinClusterFixture>
{
    private const string KbHost = "bn2-3c16-ix-4104";

    /// <summary>
    /// The KB incident's two logs, replayed once per test under a host name of its own (the cluster is shared by the
    /// class: a second replay of the same host would find every record already applied, a duplicate).
    /// </summary>
    private async Task<HostView> ReplayKbIncident(string host)
    {
        var ingestor = new TwinIngestor(fixture.Cluster.Client, batchSize: 7);
        // kern.log first, then the crash console: they overlap for 17 exhaustion records and the VM start.
        foreach (var file in new[] { "kern.log", "dom0.log" })
        {
            var text = (await File.ReadAllTextAsync(Golden.KbIncident(file))).Replace(KbHost, host, StringComparison.Ordinal);
            await ingestor.IngestAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)), new LogParserOptions { SourceName = file, DefaultHost = host, Year = 2014 });
        }
        await ingestor.WaitUntilAppliedAsync(TimeSpan.FromSeconds(30));
        return await fixture.Cluster.Client.GetGrain<IHostGrain>(host).GetView();
    }

    private static string NewHost() => "kb-replay-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Replaying_both_logs_yields_the_host_on_XenServer_6_2_with_18_exhaustions_counted_once()
    {
        var host = await ReplayKbIncident(NewHost());

        Assert.Equal("6.2", host.XenServerRelease);
        Assert.Equal("2.6.32.43-0.4.1.xs1.8.0.853.170791xen", host.Kernel);
        Assert.Equal(18, host.ExhaustionEvents);
        Assert.Equal([new DeviceExhaustionView("0000:04:00.0", null, 3), new DeviceExhaustionView("0000:04:00.1", null, 15)], host.Devices);
        // dom0.log repeats 17 of kern.log's 17 exhaustion records (it adds the 18th) and VM 174's start: 18 duplicates.
        Assert.Equal(18, host.DuplicateRecords);
    }

    [Fact]
    public async Task The_one_panic_is_caused_by_a_33302_byte_to_device_mapping_via_bnx2x_start_xmit()
    {
        var host = await ReplayKbIncident(NewHost());

        var panic = Assert.Single(host.Panics);
        Assert.Equal("DMA: Random memory could be DMA read", panic.Message);
        Assert.Equal(33_302, panic.CauseBytes);
        Assert.Equal("0000:04:00.1", panic.CauseDevice);
        Assert.Equal("to-device", panic.CauseDirection);
        Assert.Equal("bnx2x_start_xmit", panic.Via);
        Assert.Equal("netback/2", panic.Comm);
        Assert.Equal(1196, panic.Pid);
        Assert.Equal("critical", host.Risk);
    }

    [Fact]
    public async Task VM_174_started_once_before_the_first_exhaustion()
    {
        var name = NewHost();
        var host = await ReplayKbIncident(name);

        var start = Assert.Single(host.VmStarts, v => v.Domid == 174);
        Assert.True(start.Uptime < host.FirstExhaustionUptime, $"VM 174 started at {start.Uptime}, first exhaustion at {host.FirstExhaustionUptime}");
        Assert.Equal(2777545.972710, host.FirstExhaustionUptime!.Value, 6);
        var hosts = await fixture.Cluster.Client.GetGrain<IFleetGrain>(TwinGrainKeys.Fleet).ListHosts();
        Assert.Contains(name, hosts);
    }
}
