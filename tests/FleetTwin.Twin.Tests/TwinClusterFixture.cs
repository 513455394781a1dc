using FleetTwin.Twin.Hosting;
using Orleans.TestingHost;

namespace FleetTwin.Twin.Tests;

/// <summary>One embedded-mode test cluster (memory storage and streams) shared by a test class, as Orleans' own tests do.</summary>
public sealed class TwinClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await TwinTestCluster.DeployAsync<SiloConfigurator>();

    public Task DisposeAsync() => TwinTestCluster.StopAsync(Cluster);

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.AddFleetTwinGrains(new TwinClusterOptions());
    }
}

/// <summary>A one-silo embedded test cluster with the twin's grains as <typeparamref name="TSilo"/> configures them, and a client with its streams.</summary>
internal static class TwinTestCluster
{
    public static async Task<TestCluster> DeployAsync<TSilo>() where TSilo : ISiloConfigurator, new()
    {
        var builder = new TestClusterBuilder(initialSilosCount: 1);
        builder.AddSiloBuilderConfigurator<TSilo>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    public static async Task StopAsync(TestCluster cluster)
    {
        await cluster.StopAllSilosAsync();
        await cluster.DisposeAsync();
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.AddFleetTwinClientStreams();
    }
}

internal static class Golden
{
    public static string KbIncident(string file) => Path.Combine(AppContext.BaseDirectory, "Golden", "kb-incident", file);
}
