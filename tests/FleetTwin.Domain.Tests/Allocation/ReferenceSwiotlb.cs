namespace FleetTwin.Domain.Tests.Allocation;

/// <summary>
/// A deliberately naive bounce-pool allocator written from the prose rules of 2.6.32 <c>lib/swiotlb.c</c>, with none
/// of the kernel's bookkeeping: a used/free flag per slab, a cursor, and a candidate walk that checks every rule
/// directly; and what a failure does: a single mapping (<c>swiotlb_map_page</c>) falls back to the 32 KiB overflow
/// buffer or panics (<c>swiotlb_full(..., do_panic = 1)</c>), a scatter-gather list (<c>swiotlb_map_sg_attrs</c>)
/// unmaps the entries it had mapped and fails without panicking (<c>do_panic = 0</c>).
/// The real <c>SwiotlbRegion</c> must agree with it on every success, failure, slab position and counter.
/// Also compiled into the benchmarks as the baseline.
/// </summary>
public sealed class ReferenceSwiotlb
{
    private const int SlabBytes = 2048;
    private const int SegmentSlabs = 128;
    private const int PageBytes = 4096;
    private const int OverflowBytes = 32 * 1024;

    private readonly bool[] _used;
    private readonly Dictionary<int, int> _outstanding = [];
    private readonly long _boundaryOffsetSlabs;
    private int _cursor;

    public ReferenceSwiotlb(int slabs, long boundaryOffsetSlabs)
    {
        _used = new bool[slabs];
        _boundaryOffsetSlabs = boundaryOffsetSlabs;
    }

    public int Slabs => _used.Length;

    public int SlabsInUse { get; private set; }

    /// <summary>Where the next search starts (<c>io_tlb_index</c>).</summary>
    public int Cursor => _cursor;

    /// <summary>Failed mappings, single or scatter-gather: each prints one out-of-space record.</summary>
    public long Exhaustions { get; private set; }

    /// <summary>Failed single mappings of at most 32 KiB, which got the overflow buffer.</summary>
    public long OverflowFallbacks { get; private set; }

    /// <summary>A single mapping over 32 KiB found no room: the host is down until <see cref="Reboot"/>.</summary>
    public bool Panicked { get; private set; }

    /// <summary>Free runs long enough for a mapping that were skipped only because they cross the device's DMA boundary.</summary>
    public long BoundaryRejections { get; private set; }

    /// <summary>What a single mapping did: the first slab it took, or which way it failed.</summary>
    public enum SingleOutcome { Mapped, OverflowBuffer, Panic }

    /// <summary>A single streaming mapping: mapped at a slab, else the overflow buffer up to 32 KiB, else a panic.</summary>
    public (SingleOutcome Outcome, int FirstSlab) MapSingle(int bytes, ulong segmentBoundaryMask = 0xFFFF_FFFFUL)
    {
        if (Panicked)
            throw new InvalidOperationException("reference: the host panicked; reboot first");
        var slab = Map(bytes, segmentBoundaryMask);
        if (slab >= 0)
            return (SingleOutcome.Mapped, slab);
        Exhaustions++;
        if (bytes <= OverflowBytes)
        {
            OverflowFallbacks++;
            return (SingleOutcome.OverflowBuffer, -1);
        }
        Panicked = true;
        return (SingleOutcome.Panic, -1);
    }

    /// <summary>
    /// A scatter-gather list, entry by entry; the first entry without room counts one exhaustion and every entry
    /// mapped before it is unmapped (the cursor stays where the last success left it). Returns the first slab of each
    /// entry, or the index of the entry that failed.
    /// </summary>
    public (int[]? FirstSlabs, int FailedEntry) MapScatterGather(IReadOnlyList<int> entryBytes, ulong segmentBoundaryMask = 0xFFFF_FFFFUL)
    {
        var slabs = new int[entryBytes.Count];
        for (var i = 0; i < slabs.Length; i++)
        {
            slabs[i] = Map(entryBytes[i], segmentBoundaryMask);
            if (slabs[i] < 0)
            {
                Exhaustions++;
                for (var j = 0; j < i; j++)
                    Unmap(slabs[j]);
                return (null, i);
            }
        }
        return (slabs, -1);
    }

    /// <summary>A reboot: every slab free, the cursor at 0, the counters and the panic cleared.</summary>
    public void Reboot()
    {
        Array.Clear(_used);
        _outstanding.Clear();
        _cursor = 0;
        SlabsInUse = 0;
        Exhaustions = 0;
        OverflowFallbacks = 0;
        Panicked = false;
    }

    /// <summary>Maps <paramref name="bytes"/> for a device with the given DMA boundary; returns the first slab or -1.</summary>
    public int Map(int bytes, ulong segmentBoundaryMask = 0xFFFF_FFFFUL)
    {
        var need = (bytes + SlabBytes - 1) / SlabBytes;
        var stride = bytes > PageBytes ? 2 : 1;
        var start = (_cursor + stride - 1) / stride * stride;
        if (start >= _used.Length)
            start = 0;

        var position = start;
        do
        {
            if (Fits(position, need, segmentBoundaryMask))
            {
                for (var i = position; i < position + need; i++)
                    _used[i] = true;
                _outstanding.Add(position, need);
                SlabsInUse += need;
                _cursor = position + need < _used.Length ? position + need : 0;
                return position;
            }
            position += stride;
            if (position >= _used.Length)
                position = 0;
        }
        while (position != start);
        return -1;
    }

    public void Unmap(int firstSlab)
    {
        if (!_outstanding.Remove(firstSlab, out var slabs))
            throw new InvalidOperationException($"reference: nothing mapped at {firstSlab}");
        for (var i = firstSlab; i < firstSlab + slabs; i++)
            _used[i] = false;
        SlabsInUse -= slabs;
    }

    /// <summary>The number of free slabs from <paramref name="slab"/> to the end of its free run, inside its segment.</summary>
    public int FreeRunFrom(int slab)
    {
        var count = 0;
        var segment = slab / SegmentSlabs;
        for (var i = slab; i < _used.Length && i / SegmentSlabs == segment && !_used[i]; i++)
            count++;
        return count;
    }

    private bool Fits(int first, int need, ulong mask)
    {
        var last = first + need - 1;
        if (last >= _used.Length)
            return false;
        if (first / SegmentSlabs != last / SegmentSlabs)
            return false; // a mapping never crosses a 128-slab segment
        for (var i = first; i <= last; i++)
        {
            if (_used[i])
                return false;
        }
        if (InDifferentBoundaryWindows(first, last, mask))
        {
            BoundaryRejections++;
            return false;
        }
        return true;
    }

    /// <summary>The device's DMA segment boundary: first and last slab (in bus-slab numbering) in different windows.</summary>
    private bool InDifferentBoundaryWindows(int first, int last, ulong mask)
    {
        if (mask == ulong.MaxValue)
            return false;
        var window = (long)((mask + 1) / SlabBytes);
        if (window == 0)
            window = 1;
        return FloorDiv(_boundaryOffsetSlabs + first, window) != FloorDiv(_boundaryOffsetSlabs + last, window);
    }

    private static long FloorDiv(long a, long b) => (long)Math.Floor((double)a / b);
}
