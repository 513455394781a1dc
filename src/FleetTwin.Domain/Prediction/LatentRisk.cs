using System.Globalization;
using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Fleet;

namespace FleetTwin.Domain.Prediction;

/// <summary>
/// Risk from configuration alone, before the host logs anything: how much of the bounce pool the RX rings hold all the
/// time. This is an analytic bound on the allocator model, not a run of <see cref="Demand.SwiotlbWorkloadRun"/>: a
/// fleet scan assesses thousands of hosts and the standing RX share is what separates the KB host (about two thirds of
/// its pool pinned by 9 KiB RX buffers, so the free runs left between them are too short for large TX maps) from a
/// safe one (none). Simulating each host for hours of traffic would cost seconds per host and depend on a traffic
/// mix we do not measure; the workload run stays the tool for what-if questions and for the synthetic incidents the
/// backtest scores this bound on.
/// </summary>
public static class LatentRisk
{
    /// <summary>
    /// Share of multi-page buffers whose machine frames are not contiguous, so they bounce. Calibration shared with
    /// <see cref="Demand.HostWorkload.MachineDiscontiguousFraction"/> (0.42): with it the KB host's bond pins about
    /// 63 % of a 64 MiB pool, and its RX maps kept succeeding while large TX maps failed, as in the incident.
    /// </summary>
    public const double MachineDiscontiguousFraction = 0.42;

    /// <summary>
    /// Standing RX share of the pool from which a host counts as latent. Calibration: the KB host (63 %) exhausted and
    /// panicked; with <c>swiotlb=128</c> the same bond pins 31 % and the docs call that a delay, not a fix; so a
    /// tenth of the pool pinned is already on the way there.
    /// </summary>
    public const double LatentShare = 0.10;

    /// <summary>Assesses one host's configuration.</summary>
    public static LatentAssessment Assess(HostConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var undecided = new List<string>();
        double standing = 0;
        var bouncing = new List<NicConfiguration>();
        foreach (var nic in config.Nics)
        {
            switch (nic.BouncesNow)
            {
                case null when nic.BouncesWithGroOff is null:
                    undecided.Add(string.Create(CultureInfo.InvariantCulture, $"{nic.Device}: MTU {nic.Mtu?.ToString(CultureInfo.InvariantCulture) ?? "unknown"} but no driver profile ({nic.Driver ?? "no ethtool -i"})"));
                    break;
                case null:
                    undecided.Add($"{nic.Device}: GRO state unknown (no ethtool -k, no other-config:ethtool-gro, release {config.Release ?? "unknown"})");
                    break;
                case true:
                    bouncing.Add(nic);
                    standing += StandingSlabs(nic);
                    break;
            }
        }
        var share = standing / config.Pool.Slabs;
        var level = bouncing.Count == 0
            ? (undecided.Count > 0 ? RiskLevel.Unknown : RiskLevel.Ok)
            : share >= LatentShare ? RiskLevel.Latent : RiskLevel.Ok;
        string reason;
        if (bouncing.Count > 0)
        {
            reason = string.Create(CultureInfo.InvariantCulture,
                $"{config.Summary()}: RX rings pin ~{share:P0} of the pool with {bouncing[0].Profile!.RxBufferBytes(bouncing[0].Mtu!.Value)}-byte buffers; large TX maps find no room as it fragments (KB incident at ~63 %)");
        }
        else if (undecided.Count > 0)
        {
            reason = "cannot assess configuration: " + string.Join("; ", undecided);
        }
        else
        {
            reason = config.Nics.Count == 0 ? "no NIC facts" : $"{config.Summary()}: no RX buffer bounces";
        }
        return new LatentAssessment(level, share, (int)Math.Round(standing), bouncing.Select(n => n.Device).ToArray(), undecided, reason);
    }

    /// <summary>
    /// Slabs one port's RX ring keeps in the pool: buffers x slabs each x the bouncing share. A mapping larger than a
    /// page starts page-aligned (do_map_single's stride of 2 slabs), so packed 5-slab buffers sit 6 slabs apart.
    /// </summary>
    public static double StandingSlabs(NicConfiguration nic)
    {
        ArgumentNullException.ThrowIfNull(nic);
        if (nic.Profile is null || nic.Mtu is null)
            return 0;
        var bytes = nic.Profile.RxBufferBytes(nic.Mtu.Value);
        var slabs = SwiotlbGeometry.SlabsFor(bytes);
        if (bytes > SwiotlbGeometry.PageBytes)
            slabs = (slabs + SwiotlbGeometry.PageStrideSlabs - 1) / SwiotlbGeometry.PageStrideSlabs * SwiotlbGeometry.PageStrideSlabs;
        return nic.Profile.RxBuffersPerPortDefault * slabs * MachineDiscontiguousFraction;
    }
}

/// <summary>The configuration-only verdict: level, standing RX share of the pool, which NICs bounce, what could not be decided.</summary>
public sealed record LatentAssessment(
    RiskLevel Level,
    double StandingRxShare,
    int StandingRxSlabs,
    IReadOnlyList<string> BouncingDevices,
    IReadOnlyList<string> Undecided,
    string Reason);
