using System.Globalization;
using FleetTwin.Domain.Allocation;

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
/// Evidence-only risk from the host's own log: what it has already logged. This is the floor the predictor
/// (configuration-based latent risk, trends, time to panic) builds on.
/// </summary>
public static class HostRisk
{
    /// <summary>A failed mapping this close to the 32 KiB overflow limit means the next larger one panics.</summary>
    public const long NearOverflowBytes = 24 * 1024;

    public static RiskAssessment Assess(HostState host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var swiotlbPanic = host.Panics.LastOrDefault(p => p.CauseBytes is not null || p.Message.StartsWith("DMA: Random memory", StringComparison.Ordinal));
        if (swiotlbPanic is not null)
        {
            return new RiskAssessment(RiskLevel.Critical, string.Create(CultureInfo.InvariantCulture,
                $"panicked: {swiotlbPanic.Message}{(swiotlbPanic.CauseBytes is { } b ? $" after a {b}-byte mapping at {swiotlbPanic.CauseDevice} found no room" : "")}; {host.ExhaustionEvents} exhaustion events logged"));
        }
        if (host.ExhaustionEvents > 0)
        {
            var level = host.LargestFailedMappingBytes >= NearOverflowBytes ? RiskLevel.Critical : RiskLevel.Warning;
            return new RiskAssessment(level, string.Create(CultureInfo.InvariantCulture,
                $"{host.ExhaustionEvents} SWIOTLB exhaustion events; largest failed mapping {host.LargestFailedMappingBytes} B, a failed one over {SwiotlbGeometry.OverflowBufferBytes} B panics"));
        }
        return host.AppliedEvents > 0
            ? new RiskAssessment(RiskLevel.Ok, "no SWIOTLB exhaustion logged")
            : new RiskAssessment(RiskLevel.Unknown, "nothing known yet");
    }
}
