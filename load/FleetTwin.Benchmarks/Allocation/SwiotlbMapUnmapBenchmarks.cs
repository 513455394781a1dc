using BenchmarkDotNet.Attributes;
using FleetTwin.Domain.Allocation;
using FleetTwin.Domain.Tests.Allocation;

namespace FleetTwin.Benchmarks.Allocation;

/// <summary>
/// Map+unmap pairs on a 64 MiB XenServer pool, the exact model against the naive reference (the baseline ratio).
/// Occupancy is the share of the pool's jumbo-buffer capacity held before the run: with page alignment a 5-slab
/// MTU-9000 buffer occupies a 6-slab stride, 21 to a segment, 5,376 in 64 MiB.
/// Each invocation runs <see cref="PairsPerInvoke"/> pairs; the figure BenchmarkDotNet reports is per pair.
/// </summary>
[MemoryDiagnoser]
public class SwiotlbMapUnmapBenchmarks
{
    private const int PairsPerInvoke = 4096;
    private const int JumboRxBytes = 9018; // bnx2x RX buffer for MTU 9000 (see Drivers/driver-profiles.json)
    private const int JumboCapacity = 21 * 256;

    private SwiotlbRegion _region = null!;
    private SwiotlbDevice _nic;
    private SwiotlbMapping[] _fifo = null!;
    private int _head;

    private ReferenceSwiotlb _reference = null!;
    private int[] _referenceFifo = null!;
    private int _referenceHead;

    [Params(50, 90)]
    public int OccupancyPercent { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var outstanding = JumboCapacity * OccupancyPercent / 100;
        _region = new SwiotlbRegion(SwiotlbPoolSize.XenServerDefault);
        _nic = _region.RegisterDevice("0000:04:00.1");
        _fifo = new SwiotlbMapping[outstanding];
        for (var i = 0; i < outstanding; i++)
            _fifo[i] = _region.MapSingle(_nic, JumboRxBytes, DmaDirection.FromDevice).Mapping;

        _reference = new ReferenceSwiotlb(SwiotlbPoolSize.XenServerDefault.Slabs, SwiotlbKernelFlavour.XenServerClassicXen.BoundaryOffsetSlabs);
        _referenceFifo = new int[outstanding];
        for (var i = 0; i < outstanding; i++)
            _referenceFifo[i] = _reference.Map(JumboRxBytes);
    }

    /// <summary>RX ring refill: the oldest buffer completes and is unmapped, a fresh one is mapped.</summary>
    [Benchmark(OperationsPerInvoke = PairsPerInvoke)]
    public int ExactModel_jumbo_map_unmap()
    {
        var fifo = _fifo;
        var head = _head;
        var last = 0;
        for (var i = 0; i < PairsPerInvoke; i++)
        {
            _region.Unmap(fifo[head]);
            var result = _region.MapSingle(_nic, JumboRxBytes, DmaDirection.FromDevice);
            fifo[head] = result.Mapping;
            last = result.Mapping.FirstSlab;
            if (++head == fifo.Length)
                head = 0;
        }
        _head = head;
        return last;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = PairsPerInvoke)]
    public int Reference_jumbo_map_unmap()
    {
        var fifo = _referenceFifo;
        var head = _referenceHead;
        var last = 0;
        for (var i = 0; i < PairsPerInvoke; i++)
        {
            _reference.Unmap(fifo[head]);
            last = fifo[head] = _reference.Map(JumboRxBytes);
            if (++head == fifo.Length)
                head = 0;
        }
        _referenceHead = head;
        return last;
    }
}

/// <summary>
/// A fragmenting mix: 2,600 outstanding mappings of jumbo RX buffers (50%), small and page-sized mappings (20%) and
/// GSO TX linear parts of 14-32 KiB (30%), each pair freeing a random victim (TX completions do not come back in map
/// order). Sizes stay within the overflow buffer, so a failure falls back instead of panicking mid-run.
/// </summary>
[MemoryDiagnoser]
public class SwiotlbFragmentingMixBenchmarks
{
    private const int PairsPerInvoke = 4096;
    private const int Outstanding = 2600;

    private SwiotlbRegion _region = null!;
    private SwiotlbDevice _nic;
    private SwiotlbMapping[] _held = null!;
    private int[] _sizes = null!;
    private int[] _victims = null!;
    private int _cursor;

    private ReferenceSwiotlb _reference = null!;
    private int[] _referenceHeld = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _sizes = new int[1 << 16];
        _victims = new int[1 << 16];
        for (var i = 0; i < _sizes.Length; i++)
        {
            _sizes[i] = random.Next(10) switch
            {
                < 5 => random.Next(9018, 10241),
                < 7 => random.Next(64, 4097),
                _ => random.Next(14_000, 32_769),
            };
            _victims[i] = random.Next(Outstanding);
        }
        _region = new SwiotlbRegion(SwiotlbPoolSize.XenServerDefault);
        _nic = _region.RegisterDevice("0000:04:00.1");
        _reference = new ReferenceSwiotlb(SwiotlbPoolSize.XenServerDefault.Slabs, SwiotlbKernelFlavour.XenServerClassicXen.BoundaryOffsetSlabs);
        _held = new SwiotlbMapping[Outstanding];
        _referenceHeld = new int[Outstanding];
        for (var i = 0; i < Outstanding; i++)
        {
            _held[i] = _region.MapSingle(_nic, _sizes[i], DmaDirection.ToDevice).Mapping;
            _referenceHeld[i] = _reference.Map(_sizes[i]);
        }
    }

    [Benchmark(OperationsPerInvoke = PairsPerInvoke)]
    public long ExactModel_fragmenting_mix()
    {
        var sizes = _sizes;
        var victims = _victims;
        var cursor = _cursor;
        for (var i = 0; i < PairsPerInvoke; i++)
        {
            var victim = victims[cursor];
            _region.Unmap(_held[victim]);
            _held[victim] = _region.MapSingle(_nic, sizes[cursor], DmaDirection.ToDevice).Mapping;
            cursor = (cursor + 1) & (sizes.Length - 1);
        }
        _cursor = cursor;
        return _region.ExhaustionCount;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = PairsPerInvoke)]
    public int Reference_fragmenting_mix()
    {
        var sizes = _sizes;
        var victims = _victims;
        var cursor = _cursor;
        var failures = 0;
        for (var i = 0; i < PairsPerInvoke; i++)
        {
            var victim = victims[cursor];
            if (_referenceHeld[victim] >= 0)
                _reference.Unmap(_referenceHeld[victim]);
            _referenceHeld[victim] = _reference.Map(sizes[cursor]);
            failures += _referenceHeld[victim] < 0 ? 1 : 0;
            cursor = (cursor + 1) & (sizes.Length - 1);
        }
        _cursor = cursor;
        return failures;
    }
}
