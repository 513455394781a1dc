using System.Diagnostics;

namespace FleetTwin.Deployment.Tests;

/// <summary>
/// Finds the repository and runs the external tools these checks need (kubectl for kustomize, node/npm for the schema
/// validator). A missing tool skips the test locally, and fails it when FLEETTWIN_REQUIRE_TOOLS=1 (set by .ci/run,
/// which installs them), so CI never passes by skipping.
/// </summary>
internal static class Tooling
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string K8s(string relative = "") => Path.Combine(RepositoryRoot, "k8s", relative);

    public static string RequireTool(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
                return candidate;
        }
        if (Environment.GetEnvironmentVariable("FLEETTWIN_REQUIRE_TOOLS") == "1")
            throw new InvalidOperationException($"FLEETTWIN_REQUIRE_TOOLS=1 but '{name}' is not on PATH");
        Skip.If(true, $"'{name}' is not installed");
        return name;
    }

    public static (int ExitCode, string Stdout, string Stderr) Run(string tool, string arguments, string workingDirectory, string? stdin = null, int timeoutSeconds = 240)
    {
        var start = new ProcessStartInfo(RequireTool(tool), arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {arguments} did not finish within {timeoutSeconds} s");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// Runs the fleettwin CLI built next to the tests (<c>dotnet fleettwin.dll ARGS</c>) with extra environment
    /// variables; a run over 120 s is killed and reported as exit -1 with "timed out" in its stderr.
    /// </summary>
    public static (int Code, string Stdout, string Stderr) Fleettwin(string arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "fleettwin.dll")}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            return (-1, stdout.Result, "timed out: " + stderr.Result);
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>kubectl kustomize of a directory under k8s/.</summary>
    public static string Render(string relative)
    {
        var (code, stdout, stderr) = Run("kubectl", $"kustomize {K8s(relative)}", RepositoryRoot);
        Assert.True(code == 0, $"kubectl kustomize k8s/{relative} failed: {stderr}");
        return stdout;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FleetTwin.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"FleetTwin.sln not found above {AppContext.BaseDirectory}");
    }
}
