using System.Diagnostics;

namespace FleetTwin.Cli.Tests.Support;

/// <summary>
/// The fleettwin binary built beside the tests (<c>dotnet fleettwin.dll ARGS</c>) as a separate process: on pipes (what
/// a script or a log sees), or on a pseudo-terminal made by util-linux <c>script</c> (Debian's bsdutils), what an
/// operator's terminal sees. A missing <c>script</c> skips the terminal tests locally and fails them with
/// FLEETTWIN_REQUIRE_TOOLS=1 (set by .ci/run, which installs it).
/// </summary>
internal static class CliProcess
{
    /// <summary>
    /// The CLI's own build output (bin/CONFIGURATION/TFM of src/FleetTwin.Cli, built before the tests as their
    /// dependency), not the copy beside the tests: this project also takes ASP.NET Core's shared framework (for the
    /// in-process silo), so the copy's neighbours are not the assemblies its own deps.json and runtimeconfig name.
    /// </summary>
    private static string Binary { get; } = FindBinary();

    private static string FindBinary()
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = tfm.Parent!.Name;
        for (var dir = tfm; dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FleetTwin.sln")))
                return Path.Combine(dir.FullName, "src", "FleetTwin.Cli", "bin", configuration, tfm.Name, "fleettwin.dll");
        }
        throw new InvalidOperationException("FleetTwin.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>stdout and stderr on pipes.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> OnPipesAsync(IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(Binary);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        return await RunAsync(start, environment);
    }

    /// <summary>stdout and stderr on one pseudo-terminal (their bytes interleaved, lines ending CR LF as a tty makes them).</summary>
    public static async Task<(int Exit, string Terminal)> OnTerminalAsync(IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        var script = Require("script", "bsdutils");
        var command = string.Join(' ', new[] { "dotnet", Binary }.Concat(arguments).Select(Quote));
        // -q: no "Script started" lines; -e: the command's exit code; -c: the command; /dev/null: no typescript file.
        var start = new ProcessStartInfo(script) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in new[] { "-q", "-e", "-c", command, "/dev/null" })
            start.ArgumentList.Add(argument);
        var (exit, stdout, _) = await RunAsync(start, environment);
        return (exit, stdout);
    }

    private static async Task<(int, string, string)> RunAsync(ProcessStartInfo start, IReadOnlyDictionary<string, string?> environment)
    {
        // The tests' own environment must not decide: no inherited NO_COLOR or TERM unless the test gives one.
        start.Environment.Remove("NO_COLOR");
        start.Environment.Remove("TERM");
        foreach (var (name, value) in environment)
        {
            if (value is null)
                start.Environment.Remove(name);
            else
                start.Environment[name] = value;
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish within 120 s");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string Quote(string argument) => "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string Require(string name, string package)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/bin", "/bin"]);
        if (dirs.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists) is { } path)
            return path;
        var message = $"{name} is not installed (apt-get install -y {package})";
        if (Environment.GetEnvironmentVariable("FLEETTWIN_REQUIRE_TOOLS") == "1")
            throw new InvalidOperationException(message + " and FLEETTWIN_REQUIRE_TOOLS=1");
        Skip.If(true, message);
        return name;
    }
}
