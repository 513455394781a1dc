using FleetTwin.Domain.Allocation;

namespace FleetTwin.Domain.Simulation;

/// <summary>One map or unmap a host's drivers ask of its bounce pool; <see cref="Tag"/> names the mapping for its unmap.</summary>
public readonly record struct DemandOperation(bool Unmap, int Tag, int Port, int Bytes, DmaDirection Direction, double Uptime);

/// <summary>
/// A host's bounce-pool demand as a stream of operations, independent of their outcome, so the same stream can be run
/// by a local <see cref="SwiotlbRegion"/> (<see cref="DemandReplay"/>) or sent in batches to the twin's SWIOTLB region
/// grain. The arrival processes are <see cref="Demand.SwiotlbWorkloadRun"/>'s: each simulated second, per port, a
/// sample of RX refills (the oldest posted buffer is consumed and a new one posted: FIFO) and TX skbs whose linear
/// part spans pages, completed FIFO once more are in flight than the rate x completion time (Little's law). A failed
/// map still gets a tag (the kernel hands the driver the overflow buffer), and its unmap is a no-op.
/// </summary>
public sealed class MappingDemandGenerator
{
    private readonly HostModel _host;
    private readonly Random _random;
    private readonly int[][] _rx;
    private readonly int[] _rxHead;
    private readonly Queue<int>[] _tx;
    private int _nextTag = 1;
    private int _inSecond;

    public MappingDemandGenerator(HostModel host, int seed)
    {
        _host = host;
        _random = new Random(seed);
        _rx = new int[host.Ports.Count][];
        _rxHead = new int[host.Ports.Count];
        _tx = new Queue<int>[host.Ports.Count];
        for (var p = 0; p < _tx.Length; p++)
        {
            _rx[p] = [];
            _tx[p] = new Queue<int>();
        }
    }

    public HostModel Host => _host;

    /// <summary>Simulated seconds since boot.</summary>
    public long Uptime { get; private set; }

    /// <summary>The RX rings posted at boot (buffers whose frames are machine-discontiguous are bounced).</summary>
    public void Boot(List<DemandOperation> into)
    {
        Uptime = 0;
        for (var p = 0; p < _rx.Length; p++)
        {
            var nic = _host.Ports[p].Nic;
            _rx[p] = new int[nic.RxBounces ? nic.RxBuffers : 0];
            _rxHead[p] = 0;
            _tx[p].Clear();
            for (var slot = 0; slot < _rx[p].Length; slot++)
                _rx[p][slot] = PostRx(p, into);
        }
    }

    /// <summary>One simulated second at the given per-port transmit rates (bursts included).</summary>
    public void Second(ReadOnlySpan<double> txPacketsPerSecondPerPort, List<DemandOperation> into)
    {
        Uptime++;
        _inSecond = 0;
        for (var p = 0; p < _rx.Length; p++)
        {
            var nic = _host.Ports[p].Nic;
            var inFlight = Math.Max(1, (int)(txPacketsPerSecondPerPort[p] * nic.Driver.TxCompletionMicroseconds / 1_000_000.0));
            var rx = _rx[p];
            for (var i = 0; i < HostWorkloadDefaults.SampledMappingsPerSecondPerPort; i++)
            {
                if (rx.Length > 0 && (i & 1) == 0)
                {
                    var head = _rxHead[p];
                    if (rx[head] != 0)
                        into.Add(new DemandOperation(true, rx[head], p, 0, DmaDirection.FromDevice, Stamp()));
                    rx[head] = PostRx(p, into);
                    _rxHead[p] = (head + 1) % rx.Length;
                }
                var bytes = nic.Driver.SampleTxLinearBytes(_random);
                if (bytes > SwiotlbGeometry.PageBytes && _random.NextDouble() < HostWorkloadDefaults.MachineDiscontiguousFraction)
                {
                    var tag = _nextTag++;
                    into.Add(new DemandOperation(false, tag, p, bytes, DmaDirection.ToDevice, Stamp()));
                    _tx[p].Enqueue(tag);
                }
                while (_tx[p].Count > inFlight)
                    into.Add(new DemandOperation(true, _tx[p].Dequeue(), p, 0, DmaDirection.ToDevice, Stamp()));
            }
        }
    }

    /// <summary>
    /// The operation's uptime: the second plus a microsecond per operation within it, so records of two failures in
    /// one second stay distinct for the twin's de-duplication (which treats an identical uptime, size and device as
    /// the same record read twice).
    /// </summary>
    private double Stamp() => Uptime + _inSecond++ * 0.000001;

    private int PostRx(int port, List<DemandOperation> into)
    {
        if (_random.NextDouble() >= HostWorkloadDefaults.MachineDiscontiguousFraction)
            return 0; // machine-contiguous frames: no bounce
        var tag = _nextTag++;
        into.Add(new DemandOperation(false, tag, port, _host.Ports[port].Nic.RxBufferBytes, DmaDirection.FromDevice, Stamp()));
        return tag;
    }
}

/// <summary>
/// Runs demand operations through a local exact <see cref="SwiotlbRegion"/>, exactly as the twin's SWIOTLB region
/// grain does with a batch: the reference the grain path is tested against.
/// </summary>
public sealed class DemandReplay
{
    private readonly Dictionary<int, SwiotlbMapping> _outstanding = [];
    private readonly SwiotlbDevice[] _devices;

    public DemandReplay(HostModel host)
    {
        Region = new SwiotlbRegion(host.Pool);
        _devices = [.. host.Ports.Select(p => Region.RegisterDevice(p.Nic.BusId))];
    }

    public SwiotlbRegion Region { get; }

    /// <summary>Out-of-space records (survivable and the panic's).</summary>
    public List<(double Uptime, int Bytes, string BusId)> Exhaustions { get; } = [];

    /// <summary>Applies operations in order; stops at a panic. Returns true if the host panicked.</summary>
    public bool Apply(IReadOnlyList<DemandOperation> operations)
    {
        foreach (var op in operations)
        {
            if (Region.HasPanicked)
                return true;
            if (op.Unmap)
            {
                if (_outstanding.Remove(op.Tag, out var mapping))
                    Region.Unmap(mapping);
                continue;
            }
            var result = Region.MapSingle(_devices[op.Port], op.Bytes, op.Direction);
            if (result.Exhausted)
                Exhaustions.Add((op.Uptime, op.Bytes, _devices[op.Port].BusId));
            if (!result.Panicked)
                _outstanding[op.Tag] = result.Mapping;
        }
        return Region.HasPanicked;
    }
}
