using FleetTwin.Domain.Allocation;

namespace FleetTwin.Domain.Demand;

/// <summary>
/// Drives one host's exact <see cref="SwiotlbRegion"/> with its workload second by simulated second: RX rings refill
/// (FIFO, as the driver reposts buffers), TX skbs are mapped and completed with a Little's-law in-flight window, and
/// every failed mapping produces the kernel's own record. Deterministic for a seed. Stops at the first panic.
/// </summary>
public sealed class SwiotlbWorkloadRun
{
    private readonly HostWorkload _workload;
    private readonly Random _random;
    private readonly SwiotlbRegion _region;
    private readonly PortState[] _ports;

    public SwiotlbWorkloadRun(HostWorkload workload, int seed)
    {
        ArgumentNullException.ThrowIfNull(workload);
        if (workload.Ports.Count == 0)
            throw new ArgumentException("a workload needs at least one NIC port", nameof(workload));
        if (workload.MachineDiscontiguousFraction is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(workload), workload.MachineDiscontiguousFraction, "MachineDiscontiguousFraction must be within 0..1");
        _workload = workload;
        _random = new Random(seed);
        _region = new SwiotlbRegion(workload.Pool);
        _ports = new PortState[workload.Ports.Count];
        for (var i = 0; i < _ports.Length; i++)
            _ports[i] = new PortState(workload.Ports[i], _region.RegisterDevice(workload.Ports[i].BusId));
    }

    /// <summary>The region being driven (read its occupancy at any time).</summary>
    public SwiotlbRegion Region => _region;

    /// <summary>Simulated seconds since boot.</summary>
    public long Uptime { get; private set; }

    /// <summary>
    /// Boots the host: each port posts its RX ring; the buffers that need bouncing are mapped (this is where a too
    /// small pool would fail at ifup).
    /// </summary>
    public void Boot(Action<SwiotlbRecord>? onRecord = null)
    {
        foreach (var port in _ports)
        {
            port.Rx = new SwiotlbMapping?[port.Nic.RxBounces ? port.Nic.RxBuffers : 0];
            for (var slot = 0; slot < port.Rx.Length; slot++)
                port.Rx[slot] = MapRx(port, onRecord);
        }
    }

    /// <summary>Runs <paramref name="seconds"/> simulated seconds, or until the host panics. Returns true if it panicked.</summary>
    public bool Run(int seconds, Action<SwiotlbRecord>? onRecord = null, Action<long, SwiotlbRegion>? everySecond = null)
    {
        for (var s = 0; s < seconds && !_region.HasPanicked; s++)
        {
            Uptime++;
            // One burst a minute, a few seconds long: storage flushes, backups, a VM's disk copy.
            var burst = Uptime % 60 < 4 ? _workload.TxBurstFactor : 1.0;
            var txRate = _workload.TxPacketsPerSecondPerPort * burst * (1 + _workload.TxGrowthPerHour * Uptime / 3600.0);
            foreach (var port in _ports)
            {
                if (!StepPort(port, txRate, onRecord))
                    break;
            }
            everySecond?.Invoke(Uptime, _region);
        }
        return _region.HasPanicked;
    }

    /// <summary>
    /// Runs one simulated second with a transmit rate given per port (packets per second, bursts included), in the
    /// order of <see cref="HostWorkload.Ports"/>: how the what-if simulations drive a host whose traffic comes from
    /// their generators instead of the workload's own growth curve. Returns true if the host panicked.
    /// </summary>
    public bool RunSecond(ReadOnlySpan<double> txPacketsPerSecondPerPort, Action<SwiotlbRecord>? onRecord = null)
    {
        if (txPacketsPerSecondPerPort.Length != _ports.Length)
            throw new ArgumentException($"{txPacketsPerSecondPerPort.Length} port rates for {_ports.Length} ports", nameof(txPacketsPerSecondPerPort));
        if (_region.HasPanicked)
            return true;
        Uptime++;
        for (var i = 0; i < _ports.Length; i++)
        {
            if (!StepPort(_ports[i], txPacketsPerSecondPerPort[i], onRecord))
                break;
        }
        return _region.HasPanicked;
    }

    /// <summary>A reboot: the pool is emptied (<see cref="SwiotlbRegion.Reset"/>), uptime restarts at 0 and the RX rings are posted again.</summary>
    public void Reboot(Action<SwiotlbRecord>? onRecord = null)
    {
        _region.Reset();
        Uptime = 0;
        foreach (var port in _ports)
        {
            port.RxHead = 0;
            port.Tx.Clear();
        }
        Boot(onRecord);
    }

    private bool StepPort(PortState port, double txRate, Action<SwiotlbRecord>? onRecord)
    {
        var nic = port.Nic;
        // Little's law: TX mappings outstanding = packet rate x time to completion.
        var inFlight = Math.Max(1, (int)(txRate * nic.Driver.TxCompletionMicroseconds / 1_000_000.0));
        var samples = _workload.SampledMappingsPerSecondPerPort;
        for (var i = 0; i < samples; i++)
        {
            // RX: the oldest posted buffer is consumed and a new one posted in its ring slot.
            if (port.Rx.Length > 0 && (i & 1) == 0)
            {
                if (port.Rx[port.RxHead] is { } old)
                    _region.Unmap(old);
                port.Rx[port.RxHead] = MapRx(port, onRecord);
                if (_region.HasPanicked)
                    return false;
                port.RxHead = (port.RxHead + 1) % port.Rx.Length;
            }

            // TX: map the skb's linear part if it spans pages; complete the oldest once the window is full.
            var bytes = nic.Driver.SampleTxLinearBytes(_random);
            if (bytes > SwiotlbGeometry.PageBytes && _random.NextDouble() < _workload.MachineDiscontiguousFraction)
            {
                var result = _region.MapSingle(port.Device, bytes, DmaDirection.ToDevice);
                if (result.Exhausted)
                    Report(port, result, DmaDirection.ToDevice, onRecord);
                if (result.Panicked)
                    return false;
                if (result.Outcome == MapOutcome.Mapped)
                    port.Tx.Enqueue(result.Mapping);
            }
            while (port.Tx.Count > inFlight)
                _region.Unmap(port.Tx.Dequeue());
        }
        return true;
    }

    private SwiotlbMapping? MapRx(PortState port, Action<SwiotlbRecord>? onRecord)
    {
        if (_random.NextDouble() >= _workload.MachineDiscontiguousFraction)
            return null; // this buffer's frames happen to be machine-contiguous: no bounce
        var result = _region.MapSingle(port.Device, port.Nic.RxBufferBytes, DmaDirection.FromDevice);
        if (result.Exhausted)
            Report(port, result, DmaDirection.FromDevice, onRecord);
        return result.Outcome == MapOutcome.Mapped ? result.Mapping : null;
    }

    private void Report(PortState port, MapResult result, DmaDirection direction, Action<SwiotlbRecord>? onRecord)
    {
        if (onRecord is null)
            return;
        onRecord(new SwiotlbRecord(Uptime, SwiotlbKernelText.OutOfSpace(_region.Flavour, result.RequestedBytes, port.Device.BusId)));
        if (result.Panicked)
            onRecord(new SwiotlbRecord(Uptime, SwiotlbKernelText.KernelPanicLine(direction)));
    }

    private sealed class PortState(NicPort nic, SwiotlbDevice device)
    {
        public NicPort Nic { get; } = nic;
        public SwiotlbDevice Device { get; } = device;
        public SwiotlbMapping?[] Rx { get; set; } = [];
        public int RxHead { get; set; }
        public Queue<SwiotlbMapping> Tx { get; } = new();
    }
}

/// <summary>A kernel log record a simulated host writes, in the kernel's own text.</summary>
public readonly record struct SwiotlbRecord(long UptimeSeconds, string Message);
