namespace FleetTwin.Domain.Tests.Allocation;

/// <summary>
/// A deliberately naive bounce-pool allocator written from the prose rules in shared/docs/swiotlb.md, with none of
/// the kernel's bookkeeping: a used/free flag per slab, a cursor, and a candidate walk that checks every rule directly.
/// The real <c>SwiotlbRegion</c> must agree with it on every success, failure and slab position.
/// Also compiled into the benchmarks as the baseline.
/// </summary>
public sealed class ReferenceSwiotlb
{
    private const int SlabBytes = 2048;
    private const int SegmentSlabs = 128;
    private const int PageBytes = 4096;

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
        if (InDifferentBoundaryWindows(first, last, mask))
            return false;
        for (var i = first; i <= last; i++)
        {
            if (_used[i])
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
