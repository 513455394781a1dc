using System.Diagnostics;

namespace FleetTwin.FrontDoors.Tests;

/// <summary>
/// Real client programs (Debian packages). Missing locally: the test is skipped. With FLEETTWIN_REQUIRE_TOOLS=1
/// (set by .ci/run, which installs them) a missing tool fails the test instead.
/// </summary>
internal static class Tools
{
    public static bool Required => Environment.GetEnvironmentVariable("FLEETTWIN_REQUIRE_TOOLS") == "1";

    public static string Require(string name, string package)
    {
        var path = Find(name);
        if (path is not null)
            return path;
        var message = $"{name} is not installed (apt-get install -y {package})";
        if (Required)
            throw new InvalidOperationException(message + " and FLEETTWIN_REQUIRE_TOOLS=1");
        Skip.If(true, message);
        return name;
    }

    private static string? Find(string name)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
        return dirs.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
    }

    /// <summary>Runs a program to its end, feeding <paramref name="input"/> on stdin; fails with its stderr when it exits non-zero.</summary>
    public static async Task<string> RunAsync(string program, IEnumerable<string> arguments, string? input = null, double timeoutSeconds = 60)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
            await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', start.ArgumentList)} exited {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
