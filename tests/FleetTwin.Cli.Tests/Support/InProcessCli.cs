using System.CommandLine;

namespace FleetTwin.Cli.Tests.Support;

/// <summary>Runs fleettwin verbs in-process, as the CLI's root command would, with their output captured.</summary>
internal static class InProcessCli
{
    /// <summary>Builds a root command of <paramref name="verbs"/> (each given the captured writers) and invokes <paramref name="args"/>.</summary>
    public static (int Exit, string Stdout, string Stderr) Run(Func<TextWriter, TextWriter, Command>[] verbs, string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var root = new RootCommand();
        foreach (var verb in verbs)
            root.Subcommands.Add(verb(stdout, stderr));
        var exit = root.Parse(args).Invoke();
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
