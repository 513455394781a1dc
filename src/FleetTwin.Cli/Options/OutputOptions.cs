using System.CommandLine;

namespace FleetTwin.Cli.Options;

/// <summary>The output options the verbs share.</summary>
internal static class OutputOptions
{
    /// <summary><c>--json</c> of the API verbs: the API's own JSON, never coloured or reflowed.</summary>
    public static Option<bool> Json() => new("--json") { Description = "Print JSON (for scripts) instead of a table" };
}
