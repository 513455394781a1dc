using System.Diagnostics;
using System.Text;
using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Contracts;
using FleetTwin.Twin.Ingest;

namespace FleetTwin.Twin.Tests;

/// <summary>
/// A host's details (its view with NICs, bonds and bounce pool) are assembled once and kept, but never outlive a change:
/// a new batch or the bounce pool running demand makes the next query ask the NIC, bond and pool grains again.
/// </summary>
public class HostDetailsTests(TwinClusterFixture fixture) : IClassFixture<TwinClusterFixture>
{
    [Fact]
    public async Task Details_follow_new_NIC_facts_and_the_bounce_pool()
    {
        var host = "details-" + Guid.NewGuid().ToString("N")[..8];
        var grain = fixture.Cluster.Client.GetGrain<IHostGrain>(host);

        await Ingest(host, "eth4", "0000:04:00.0");
        var first = await grain.GetDetails();
        Assert.Equal(["eth4"], first.Nics.Select(n => n.Device));
        Assert.Equal("bnx2x", first.Nics[0].Driver);
        Assert.Equal(0, first.Swiotlb.PoolSlabs); // the twin does not run this host's bounce pool yet

        await Ingest(host, "eth5", "0000:04:00.1");
        var second = await grain.GetDetails();
        Assert.Equal(["eth4", "eth5"], second.Nics.Select(n => n.Device).Order(StringComparer.Ordinal));

        await fixture.Cluster.Client.GetGrain<ISwiotlbRegionGrain>(host).Boot(poolMiB: 64);
        // The pool tells the host one-way; the next query after that sees the booted pool (32,768 slabs of 2 KiB).
        var clock = Stopwatch.StartNew();
        HostDetails third;
        while ((third = await grain.GetDetails()).Swiotlb.PoolSlabs == 0 && clock.Elapsed < TimeSpan.FromSeconds(5))
            await Task.Delay(20);
        Assert.Equal(32_768, third.Swiotlb.PoolSlabs);
    }

    private async Task Ingest(string host, string device, string busId)
    {
        var text = $"[root@{host} ~]# ethtool -i {device}\ndriver: bnx2x\nversion: 1.78.17-0\nbus-info: {busId}\n";
        var ingestor = new TwinIngestor(fixture.Cluster.Client);
        await ingestor.IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), new LogParserOptions { SourceName = "details-test", Year = 2014 });
        await ingestor.WaitUntilAppliedAsync(TimeSpan.FromSeconds(10));
        // The host forwards NIC facts to the NIC grain inside the batch it applies, so they are there once applied.
    }
}
