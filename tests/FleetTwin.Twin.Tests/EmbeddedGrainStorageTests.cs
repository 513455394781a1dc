using FleetTwin.Twin.Grains;
using FleetTwin.Twin.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace FleetTwin.Twin.Tests;

/// <summary>The embedded twin's in-process grain storage keeps copies, not live objects, and refuses stale writes.</summary>
public sealed class EmbeddedGrainStorageTests
{
    private static readonly GrainId Host = GrainId.Create("host", "bn2-3c16-ix-4104");

    private static EmbeddedGrainStorage Storage()
    {
        var services = new ServiceCollection().AddSerializer().AddTwinSerialization().BuildServiceProvider();
        return new EmbeddedGrainStorage(services.GetRequiredService<IGrainStorageSerializer>());
    }

    [Fact]
    public async Task A_written_state_reads_back_as_a_copy()
    {
        var storage = Storage();
        var written = new GrainState<HostGrainState>(new HostGrainState());
        var host = written.State!.Host;
        host.Name = "bn2-3c16-ix-4104";
        host.ExhaustionEvents = 18;
        await storage.WriteStateAsync("host", Host, written);
        host.ExhaustionEvents = 99; // changed after the write: the stored copy must not follow

        var read = new GrainState<HostGrainState>(new HostGrainState());
        await storage.ReadStateAsync("host", Host, read);

        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal(18, read.State!.Host.ExhaustionEvents);
    }

    [Fact]
    public async Task A_write_with_a_stale_version_is_refused()
    {
        var storage = Storage();
        var first = new GrainState<HostGrainState>(new HostGrainState());
        await storage.WriteStateAsync("host", Host, first);
        var stale = new GrainState<HostGrainState>(new HostGrainState()); // never read: expects no record
        await storage.WriteStateAsync("host", Host, first);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("host", Host, stale));
    }

    [Fact]
    public async Task A_cleared_state_is_gone()
    {
        var storage = Storage();
        var state = new GrainState<HostGrainState>(new HostGrainState());
        await storage.WriteStateAsync("host", Host, state);
        await storage.ClearStateAsync("host", Host, state);

        var read = new GrainState<HostGrainState>(new HostGrainState());
        await storage.ReadStateAsync("host", Host, read);
        Assert.False(read.RecordExists);
        Assert.Null(state.ETag);
    }
}
