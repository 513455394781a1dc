using Grpc.Core;

namespace FleetTwin.Api.Tests;

/// <summary>Where the golden inputs are, and the repository root.</summary>
public static class Golden
{
    public static string Path(string relative) => System.IO.Path.Combine(AppContext.BaseDirectory, "Golden", relative);

    /// <summary>The repository root (the folder holding FleetTwin.sln).</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "FleetTwin.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("FleetTwin.sln not found above " + AppContext.BaseDirectory);
    }
}

public static class Rpc
{
    /// <summary>The status of a call that must fail.</summary>
    public static async Task<Status> FailureOf(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        return error.Status;
    }
}
