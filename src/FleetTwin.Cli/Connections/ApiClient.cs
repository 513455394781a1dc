using System.CommandLine;
using FleetTwin.Api.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace FleetTwin.Cli.Connections;

/// <summary>How the CLI's API verbs reach a running silo's gRPC endpoint, and how they report its errors (one line).</summary>
internal static class ApiClient
{
    public const string DefaultEndpoint = "http://127.0.0.1:5000";

    /// <summary>--endpoint and the credentials for it (--token, --ca, --cert, --key).</summary>
    public static ApiEndpointOptions EndpointOption() => new();

    /// <summary>A channel to the connection's endpoint; throws <see cref="ArgumentException"/> for an address that is not http(s)://host:port or unusable credentials.</summary>
    public static GrpcChannel Open(ApiConnection connection) => FleetTwin.Api.Client.TwinChannel.Open(connection.Endpoint, connection.Credentials);

    /// <summary>Runs an API verb: errors become one line on stderr and exit code 2 (bad input), 3 (not found) or 1.</summary>
    public static async Task<int> RunAsync(string verb, ApiConnection connection, TextWriter stderr, Func<GrpcChannel, Task<int>> action)
    {
        var endpoint = connection.Endpoint;
        try
        {
            using var channel = Open(connection);
            return await action(channel);
        }
        catch (ArgumentException error)
        {
            stderr.WriteLine($"fleettwin {verb}: {error.Message}");
            return 2;
        }
        catch (RpcException error)
        {
            stderr.WriteLine($"fleettwin {verb}: {Describe(error, endpoint)}");
            return error.StatusCode switch
            {
                StatusCode.InvalidArgument or StatusCode.ResourceExhausted => 2,
                StatusCode.NotFound => 3,
                _ => 1,
            };
        }
    }

    public static string Describe(RpcException error, string endpoint) => error.StatusCode switch
    {
        StatusCode.Unavailable => $"cannot reach the twin at {endpoint}: {error.Status.Detail} (start one with: dotnet run --project src/FleetTwin.Silo)",
        StatusCode.DeadlineExceeded => $"the twin at {endpoint} did not answer in time: {error.Status.Detail}",
        StatusCode.Unauthenticated => $"the twin at {endpoint} wants credentials: {error.Status.Detail} (--token or FLEETTWIN_TOKEN, or --cert/--key)",
        StatusCode.PermissionDenied => $"the twin at {endpoint} refused: {error.Status.Detail}",
        _ => $"{error.Status.Detail} ({error.StatusCode})",
    };
}
