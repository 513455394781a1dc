using System.Reflection;
using FleetTwin.Api.Services;
using FleetTwin.Twin.Contracts;

namespace FleetTwin.Api.Tests;

/// <summary>
/// The API's copy of the host index (<see cref="HostDirectory"/>): reused for <see cref="HostDirectory.FreshFor"/>,
/// asked again at once after this silo applied an ingest (a client told "applied" reads its writes).
/// </summary>
public class HostDirectoryTests
{
    /// <summary>The host index grain as the directory sees it: counts the questions, answers the current summaries.</summary>
    internal sealed class CountingIndex : IHostIndexGrain
    {
        public int Asked;
        public long Version = 1;
        public HostSummary[] Hosts = [new() { Name = "h1", ExhaustionEvents = 1, Version = 1 }];

        public Task Update(HostSummary summary) => throw new NotSupportedException();

        public Task<HostIndexDelta> GetChanges(string? epoch, long sinceVersion)
        {
            Asked++;
            var since = epoch == "e1" ? sinceVersion : 0;
            return Task.FromResult(new HostIndexDelta("e1", Version, [.. Hosts.Where(h => h.Version > since)]));
        }
    }

    /// <summary>A grain factory whose every GetGrain is the one index (the directory asks for nothing else here).</summary>
    public class IndexFactory : DispatchProxy
    {
        internal CountingIndex Index = null!;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == "GetGrain" ? Index : throw new NotSupportedException(targetMethod?.Name);
    }

    private static (HostDirectory Directory, CountingIndex Index) Directory()
    {
        var index = new CountingIndex();
        var factory = DispatchProxy.Create<IGrainFactory, IndexFactory>();
        ((IndexFactory)(object)factory).Index = index;
        return (new HostDirectory(factory), index);
    }

    [Fact]
    public async Task A_snapshot_is_reused_while_fresh()
    {
        var (directory, index) = Directory();

        var first = await directory.CurrentAsync();
        var second = await directory.CurrentAsync();

        Assert.Same(first, second);
        Assert.Equal(1, index.Asked);
    }

    [Fact]
    public async Task After_an_invalidation_the_next_read_asks_the_index_and_sees_the_change()
    {
        var (directory, index) = Directory();
        Assert.Equal(1, (await directory.CurrentAsync()).ByName["h1"].ExhaustionEvents);

        index.Version = 2;
        index.Hosts = [new() { Name = "h1", ExhaustionEvents = 3, Version = 2, Revision = 2 }];
        directory.Invalidate();
        var after = await directory.CurrentAsync();

        Assert.Equal(2, index.Asked);
        Assert.Equal(3, after.ByName["h1"].ExhaustionEvents);
        Assert.Same(after, await directory.CurrentAsync()); // fresh again: reused
    }
}
