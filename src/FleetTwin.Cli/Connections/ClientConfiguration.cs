using FleetTwin.Security;
using FleetTwin.Twin.Hosting;
using Microsoft.Extensions.Configuration;

namespace FleetTwin.Cli.Connections;

/// <summary>
/// The CLI's view of section <c>FleetTwin</c> from the environment (<c>FleetTwin__ClusterId</c>, <c>FleetTwin__Client__Token</c>,
/// ...): the same binding the silo uses, so a client joins the cluster the silos formed and presents what is configured.
/// </summary>
internal static class ClientConfiguration
{
    private static IConfigurationSection Section() =>
        new ConfigurationBuilder().AddEnvironmentVariables().Build().GetSection(TwinClusterOptions.Section);

    public static TwinClusterOptions Cluster() => Section().Get<TwinClusterOptions>() ?? new TwinClusterOptions();

    public static ClientCredentialOptions Credentials() => Section().GetSection(nameof(FleetTwinEndpointOptions.Client)).Get<ClientCredentialOptions>() ?? new ClientCredentialOptions();
}
