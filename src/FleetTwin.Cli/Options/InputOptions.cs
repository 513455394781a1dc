using System.CommandLine;

namespace FleetTwin.Cli.Options;

/// <summary>
/// The options every verb that reads logs shares, so <c>--host</c> and <c>--year</c> mean the same everywhere
/// (as <c>parse</c> defines them).
/// </summary>
internal static class InputOptions
{
    public static Option<string?> Host() => new("--host")
    {
        Description = "Host name for records that carry none (crash-dump consoles, dmesg); a syslog header's host always wins.",
    };

    public static Option<int?> Year() => new("--year")
    {
        Description = "Year of the first syslog record (syslog prints none); default: the file's modification time.",
    };
}
