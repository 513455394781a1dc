using FleetTwin.Domain.Allocation;

namespace FleetTwin.Domain.Demand;

/// <summary>
/// The bounce-pool demand of one dom0: its pool, its NIC ports and the traffic they carry. Used by the allocator demo
/// and, later, by what-if simulations.
/// </summary>
/// <param name="Pool">The dom0 pool size (<c>swiotlb=</c>).</param>
/// <param name="Ports">The NIC ports whose DMA goes through the pool.</param>
/// <param name="MachineDiscontiguousFraction">
/// Share of multi-page buffers whose machine frames are not contiguous, so they must bounce (swiotlb.md: "almost
/// always" for a single buffer, but a dom0 populated in large extents has many contiguous ones). A calibration, not a
/// measurement: at 0.42 a bnx2x bond at default rings and MTU 9000 keeps about 3,400 RX buffers (two thirds of a
/// 64 MiB pool) bounced, so RX maps keep succeeding while fragmentation starves the large TX maps, as in the KB
/// incident (its RX maps never failed, its large TX maps did). Issue 7's simulations calibrate it further.
/// </param>
/// <param name="TxPacketsPerSecondPerPort">Mean transmit rate of each port (storage traffic from guests).</param>
/// <param name="TxBurstFactor">Peak-to-mean ratio of transmit bursts (one burst a minute, lasting a few seconds).</param>
/// <param name="TxGrowthPerHour">
/// Fractional growth of the transmit rate per simulated hour (VMs starting, a backup window opening): the KB incident's
/// failures began minutes after a VM start and became more frequent until the panic.
/// </param>
/// <param name="SampledMappingsPerSecondPerPort">
/// How many real map/unmap pairs each simulated second runs per port for RX refills and TX: a sample of the packet
/// stream, enough to churn the pool the way the stream does without mapping every one of ~140k frames a second.
/// </param>
public sealed record HostWorkload(
    SwiotlbPoolSize Pool,
    IReadOnlyList<NicPort> Ports,
    double MachineDiscontiguousFraction = 0.42,
    double TxPacketsPerSecondPerPort = 20_000,
    double TxBurstFactor = 4,
    double TxGrowthPerHour = 0.0,
    int SampledMappingsPerSecondPerPort = 1_000);
