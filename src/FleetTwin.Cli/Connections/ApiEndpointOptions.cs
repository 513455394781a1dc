using System.CommandLine;
using FleetTwin.Security;

namespace FleetTwin.Cli.Connections;

/// <summary>Where an API verb connects and what it presents there.</summary>
internal sealed record ApiConnection(string Endpoint, ClientCredentialOptions Credentials);

/// <summary>
/// The options every API verb takes: <c>--endpoint</c>, <c>--token</c>, <c>--ca</c>, <c>--cert</c>/<c>--key</c>. Their
/// defaults come from the environment: <c>FLEETTWIN_ENDPOINT</c>, <c>FLEETTWIN_TOKEN</c>, and the silo's own
/// configuration section (<c>FleetTwin__Client__CaPath</c>, ...; see <see cref="ClientCredentialOptions"/>).
/// </summary>
internal sealed class ApiEndpointOptions
{
    public Option<string> Endpoint { get; } = new("--endpoint")
    {
        Description = "gRPC endpoint of the running silo, http:// or https:// (default: FLEETTWIN_ENDPOINT or " + ApiClient.DefaultEndpoint + ")",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FLEETTWIN_ENDPOINT") is { Length: > 0 } e ? e : ApiClient.DefaultEndpoint,
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = "Bearer token (JWT) for a silo that requires one; sent over https:// only (default: FLEETTWIN_TOKEN)",
    };

    public Option<string?> Ca { get; } = new("--ca") { Description = "PEM file of the CA the silo's certificate must chain to (default: the system's roots)" };

    public Option<string?> Cert { get; } = new("--cert") { Description = "PEM client certificate for mTLS (with --key)" };

    public Option<string?> Key { get; } = new("--key") { Description = "PEM private key of --cert" };

    public IEnumerable<Option> All => [Endpoint, Token, Ca, Cert, Key];

    public ApiConnection Read(ParseResult parse)
    {
        var configured = ClientConfiguration.Credentials();
        var credentials = new ClientCredentialOptions
        {
            Token = parse.GetValue(Token) ?? (Environment.GetEnvironmentVariable("FLEETTWIN_TOKEN") is { Length: > 0 } token ? token : configured.Token),
            CaPath = parse.GetValue(Ca) ?? configured.CaPath,
            CertificatePath = parse.GetValue(Cert) ?? configured.CertificatePath,
            KeyPath = parse.GetValue(Key) ?? configured.KeyPath,
        };
        return new ApiConnection(parse.GetValue(Endpoint)!, credentials);
    }
}

internal static class ApiEndpointOptionsExtensions
{
    /// <summary>Lets a command's collection initializer take the endpoint options as one item.</summary>
    public static void Add(this Command command, ApiEndpointOptions options)
    {
        foreach (var option in options.All)
            command.Options.Add(option);
    }
}
