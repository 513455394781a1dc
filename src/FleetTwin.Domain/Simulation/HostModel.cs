using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Demand;
using FleetTwin.Domain.Drivers;

namespace FleetTwin.Domain.Simulation;

/// <summary>
/// One host's bounce-pool configuration as the simulation drives it: pool size and the NIC ports with the network
/// each one carries (a port's TX size mix is its network's when the scenario gives one, else its driver's).
/// </summary>
public sealed record HostModel(SwiotlbPoolSize Pool, IReadOnlyList<SimulatedPort> Ports)
{
    /// <summary>The workload the exact allocator runs for this configuration.</summary>
    public HostWorkload Workload(int sampledMappingsPerSecondPerPort) =>
        new(Pool, Ports.Select(p => p.Nic).ToList(), SampledMappingsPerSecondPerPort: sampledMappingsPerSecondPerPort);

    /// <summary>
    /// Share of the pool the RX rings pin all the time (the predictor's latent bound, docs/prediction.md): ring
    /// entries x page-strided slabs x the machine-discontiguous share.
    /// </summary>
    public double StandingRxShare
    {
        get
        {
            double slabs = 0;
            foreach (var p in Ports)
            {
                if (!p.Nic.RxBounces)
                    continue;
                var perBuffer = SwiotlbGeometry.SlabsFor(p.Nic.RxBufferBytes);
                perBuffer += perBuffer & 1; // one-page stride for mappings over a page
                slabs += p.Nic.RxBuffers * perBuffer * HostWorkloadDefaults.MachineDiscontiguousFraction;
            }
            return slabs / Pool.Slabs;
        }
    }

    /// <summary>A stable text key of everything the allocator's behaviour depends on (calibrations are cached by it).</summary>
    public string Key => $"{Pool.Slabs}|" + string.Join("|", Ports.Select(p =>
        $"{p.Nic.Driver.Driver},{p.Nic.Mtu},{p.Nic.GroOn},{p.Nic.RxBuffers},{p.Share:R},{p.Bursts.EverySeconds}/{p.Bursts.LengthSeconds}/{p.Bursts.Factor:R}," +
        string.Join(";", p.Nic.Driver.TxLinearBytesMix.Select(b => $"{b.MinBytes}-{b.MaxBytes}:{b.Weight:R}"))));
}

/// <summary>
/// One port in a simulated host: the NIC, the network it carries, its share of the host's transmit rate (for the
/// calibration's reference split) and the network's burst pattern.
/// </summary>
public sealed record SimulatedPort(NicPort Nic, int NetworkIndex, double Share, BurstSpec Bursts);

/// <summary>The calibrations shared with <see cref="HostWorkload"/>'s defaults.</summary>
public static class HostWorkloadDefaults
{
    /// <summary>HostWorkload's machine-discontiguous share (a calibration; see its documentation).</summary>
    public const double MachineDiscontiguousFraction = 0.42;

    /// <summary>
    /// Sampled map/unmap pairs per simulated second per port in the exact engine: the same sampling the allocator
    /// demo's tests and the synthetic incidents use (a calibration of how fast the sampled stream churns the pool).
    /// </summary>
    public const int SampledMappingsPerSecondPerPort = 400;
}
