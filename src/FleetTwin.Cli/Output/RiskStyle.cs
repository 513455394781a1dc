using FleetTwin.Api.V1;
using Spectre.Console;

namespace FleetTwin.Cli.Output;

/// <summary>
/// The colour of each risk level, as the fleet dashboards operators know colour them (Grafana's traffic-light
/// thresholds: green, yellow, orange, red): red for critical (the KB incident's signature, or panicked), orange for
/// warning, yellow for latent, green for ok, grey for unknown. Only on a terminal (<see cref="Terminal"/>).
/// </summary>
internal static class RiskStyle
{
    public static readonly Style Critical = new(Color.Red, decoration: Decoration.Bold);
    public static readonly Style Warning = new(Color.DarkOrange);
    public static readonly Style Latent = new(Color.Yellow);
    public static readonly Style Ok = new(Color.Green);
    public static readonly Style Unknown = new(Color.Grey);

    /// <summary>The style of a level as the API names it.</summary>
    public static Style Of(RiskLevel level) => level switch
    {
        RiskLevel.Critical => Critical,
        RiskLevel.Warning => Warning,
        RiskLevel.Latent => Latent,
        RiskLevel.Ok => Ok,
        _ => Unknown,
    };

    /// <summary>The style of a level as the grains and the text output name it ("critical", "Critical", "ok"...).</summary>
    public static Style Of(string? level) => level?.ToLowerInvariant() switch
    {
        "critical" => Critical,
        "warning" => Warning,
        "latent" => Latent,
        "ok" => Ok,
        _ => Unknown,
    };

    /// <summary>The level as the CLI prints it: lower case, "-" for a level the twin did not say.</summary>
    public static string Name(RiskLevel level) => level switch
    {
        RiskLevel.Unspecified => "-",
        _ => level.ToString().ToLowerInvariant(),
    };
}
