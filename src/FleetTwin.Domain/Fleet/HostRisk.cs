using FleetTwin.Domain.Prediction;

namespace FleetTwin.Domain.Fleet;

/// <summary>Risk levels, lowest first.</summary>
public enum RiskLevel
{
    Unknown = 0,
    Ok = 1,
    Latent = 2,
    Warning = 3,
    Critical = 4,
}

/// <summary>A host's risk and the one-line reason an operator can check.</summary>
public sealed record RiskAssessment(RiskLevel Level, string Reason);

/// <summary>
/// A host's risk now, for the twin's grains and views: the <see cref="PanicPredictor"/> asked at the host's latest
/// uptime. Without a configuration it judges the host's own log only; with one (from the <see cref="FleetInventory"/>)
/// it adds the latent risk of the configuration and the NIC driver's share of oversized mappings.
/// </summary>
public static class HostRisk
{
    /// <summary>A failed mapping this close to the 32 KiB overflow limit means the next larger one panics.</summary>
    public const long NearOverflowBytes = 24 * 1024;

    public static RiskAssessment Assess(HostState host) => Assess(host, null);

    public static RiskAssessment Assess(HostState host, HostConfiguration? configuration)
    {
        ArgumentNullException.ThrowIfNull(host);
        var prediction = PanicPredictor.Assess(host, configuration);
        return new RiskAssessment(prediction.Level, prediction.Reason);
    }
}
