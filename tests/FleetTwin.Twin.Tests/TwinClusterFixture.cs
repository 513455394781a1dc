using FleetTwin.Twin.Hosting;
using Orleans.TestingHost;

namespace FleetTwin.Twin.Tests;

/// <summary>One embedded-mode test cluster (memory storage and streams) shared by a test class, as Orleans' own tests do.</summary>
public sealed class TwinClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(initialSilosCount: 1);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.AddFleetTwinGrains(new TwinClusterOptions());
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
