using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FleetTwin.Domain.Allocation;

/// <summary>
/// One dom0's software IOMMU bounce pool: an exact model of the 2.6.32 <c>lib/swiotlb.c</c> slab allocator as
/// XenServer 6.x's classic-Xen dom0 kernel runs it (docs/swiotlb.md has the facts and sources).
/// </summary>
/// <remarks>
/// <para>
/// The state is the kernel's own: <c>io_tlb_list</c> (per slab, the number of free contiguous slabs from it to the end
/// of its free run inside its 128-slab segment; 0 = in use) and the rotating search index <c>io_tlb_index</c>.
/// Every map and unmap updates them exactly as <c>map_single()</c>/<c>do_map_single()</c> and
/// <c>do_unmap_single()</c> do, so positions, failures and fragmentation are the kernel's.
/// </para>
/// <para>
/// Not thread-safe: the kernel serialises on <c>io_tlb_lock</c>; here one owner (a grain, a simulation step) drives
/// a region. Map and unmap allocate nothing.
/// </para>
/// </remarks>
public sealed class SwiotlbRegion
{
    private const int SegmentMask = SwiotlbGeometry.SegmentSlabs - 1;
    private const int MaxDevices = ushort.MaxValue;

    // io_tlb_list. Values are 0..IO_TLB_SEGSIZE (128), so a byte per slab: 32 KiB for a 64 MiB pool, cache-resident.
    private readonly byte[] _freeRun;

    // At a mapping's first slab: its slab count (0 = no mapping starts here) and owning device. The kernel keeps
    // io_tlb_orig_addr for the same slabs; we keep what a free needs to be checked and what per-device counts need.
    private readonly byte[] _mappedSlabs;
    private readonly ushort[] _mappedDevice;

    private readonly List<DeviceEntry> _devices = [];
    private readonly Dictionary<string, int> _deviceByBusId = new(StringComparer.Ordinal);

    private int _cursor;
    private int _slabsInUse;
    private int _highWaterSlabs;
    private int _mappingCount;
    private long _exhaustionCount;
    private long _overflowFallbackCount;
    private SwiotlbPanic? _panic;

    /// <summary>Creates an empty pool, as after boot.</summary>
    public SwiotlbRegion(SwiotlbPoolSize size, SwiotlbKernelFlavour? flavour = null)
    {
        if (size.Slabs == 0)
            throw new ArgumentException("pool size is empty; use SwiotlbPoolSize.FromMiB or FromSlabs", nameof(size));
        Size = size;
        Flavour = flavour ?? SwiotlbKernelFlavour.XenServerClassicXen;
        _freeRun = new byte[size.Slabs];
        _mappedSlabs = new byte[size.Slabs];
        _mappedDevice = new ushort[size.Slabs];
        ResetSlabs();
    }

    /// <summary>Pool size.</summary>
    public SwiotlbPoolSize Size { get; }

    /// <summary>Which kernel's variant of the algorithm and messages this region follows.</summary>
    public SwiotlbKernelFlavour Flavour { get; }

    /// <summary>Slabs held by outstanding mappings.</summary>
    public int SlabsInUse => _slabsInUse;

    /// <summary>Slabs not held by any mapping (however fragmented).</summary>
    public int FreeSlabs => Size.Slabs - _slabsInUse;

    /// <summary>The most slabs in use at once since boot (or <see cref="Reset"/>).</summary>
    public int HighWaterSlabs => _highWaterSlabs;

    /// <summary>Outstanding mappings (the overflow buffer is not counted: it holds no slabs).</summary>
    public int MappingCount => _mappingCount;

    /// <summary>Out-of-space records printed since boot.</summary>
    public long ExhaustionCount => _exhaustionCount;

    /// <summary>Failed single mappings that fell back to the overflow buffer since boot.</summary>
    public long OverflowFallbackCount => _overflowFallbackCount;

    /// <summary>The rotating search index (<c>io_tlb_index</c>): where the next search starts.</summary>
    public int Cursor => _cursor;

    /// <summary>The panic this host reached, or null while it runs.</summary>
    public SwiotlbPanic? Panic => _panic;

    /// <summary>True once a mapping has panicked the host; only <see cref="Reset"/> (a reboot) clears it.</summary>
    public bool HasPanicked => _panic is not null;

    /// <summary>Devices registered with this region, in registration order.</summary>
    public IReadOnlyList<SwiotlbDevice> Devices
    {
        get
        {
            var list = new SwiotlbDevice[_devices.Count];
            for (var i = 0; i < list.Length; i++)
                list[i] = new SwiotlbDevice(i, _devices[i].BusId);
            return list;
        }
    }

    /// <summary>
    /// The longest run of free slabs a single mapping could take now (at most 128: runs never cross a segment).
    /// O(slabs) but vectorised: about a microsecond for a 64 MiB pool.
    /// </summary>
    public int LargestFreeRun
    {
        get
        {
            // Free counts decrease along a run, so the largest value in io_tlb_list is the longest run.
            ReadOnlySpan<byte> list = _freeRun;
            var max = Vector256<byte>.Zero;
            var i = 0;
            for (; i + Vector256<byte>.Count <= list.Length; i += Vector256<byte>.Count)
                max = Vector256.Max(max, Vector256.Create(list.Slice(i, Vector256<byte>.Count)));
            int largest = 0;
            for (var lane = 0; lane < Vector256<byte>.Count; lane++)
                largest = Math.Max(largest, max.GetElement(lane));
            for (; i < list.Length; i++)
                largest = Math.Max(largest, list[i]);
            return largest;
        }
    }

    /// <summary>
    /// External fragmentation: 1 - (largest free run / the largest run the free slabs could form), where a run can be
    /// at most one 128-slab segment. 0 = the free space is as contiguous as segments allow (or nothing is free);
    /// near 1 = plenty of free slabs, none of them usable for a large mapping.
    /// </summary>
    public double Fragmentation
    {
        get
        {
            var free = FreeSlabs;
            if (free == 0)
                return 0;
            var best = Math.Min(free, SwiotlbGeometry.SegmentSlabs);
            return 1.0 - (double)LargestFreeRun / best;
        }
    }

    /// <summary>
    /// Registers a device (idempotent per bus id) with its DMA segment boundary mask
    /// (<c>dma_get_seg_boundary()</c>; the default 0xFFFFFFFF is what NIC drivers leave in place).
    /// </summary>
    public SwiotlbDevice RegisterDevice(string busId, ulong segmentBoundaryMask = 0xFFFF_FFFFUL)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(busId);
        if (_deviceByBusId.TryGetValue(busId, out var existing))
        {
            if (_devices[existing].SegmentBoundaryMask != segmentBoundaryMask)
                throw new ArgumentException(
                    $"device {busId} is already registered with segment boundary mask 0x{_devices[existing].SegmentBoundaryMask:x}, not 0x{segmentBoundaryMask:x}",
                    nameof(segmentBoundaryMask));
            return new SwiotlbDevice(existing, busId);
        }
        if (_devices.Count >= MaxDevices)
            throw new InvalidOperationException($"a region holds at most {MaxDevices} devices; cannot register {busId}");
        if (segmentBoundaryMask != ulong.MaxValue && !BitOperations.IsPow2(segmentBoundaryMask + 1))
            throw new ArgumentException($"segment boundary mask 0x{segmentBoundaryMask:x} of {busId} is not 2^n - 1", nameof(segmentBoundaryMask));

        var entry = new DeviceEntry(busId, segmentBoundaryMask, BoundarySlots(segmentBoundaryMask), Flavour.BoundaryOffsetSlabs);
        _devices.Add(entry);
        _deviceByBusId.Add(busId, _devices.Count - 1);
        return new SwiotlbDevice(_devices.Count - 1, busId);
    }

    /// <summary>Outstanding mappings held by a device.</summary>
    public int MappingsOf(SwiotlbDevice device) => Entry(device).Mappings;

    /// <summary>Slabs held by a device's outstanding mappings.</summary>
    public int SlabsHeldBy(SwiotlbDevice device) => Entry(device).Slabs;

    /// <summary>Out-of-space records printed for a device since boot.</summary>
    public long ExhaustionsOf(SwiotlbDevice device) => Entry(device).Exhaustions;

    /// <summary>A consistent copy of the observable state (allocates; not for the hot path).</summary>
    public SwiotlbOccupancy Snapshot()
    {
        var devices = new DeviceOccupancy[_devices.Count];
        for (var i = 0; i < devices.Length; i++)
        {
            var d = _devices[i];
            devices[i] = new DeviceOccupancy(d.BusId, d.Mappings, d.Slabs, d.Exhaustions);
        }
        return new SwiotlbOccupancy(Size.Slabs, _slabsInUse, _highWaterSlabs, _mappingCount, LargestFreeRun,
            Fragmentation, _exhaustionCount, _overflowFallbackCount, _panic, devices);
    }

    /// <summary>
    /// A single streaming mapping (<c>swiotlb_map_page()</c> -> <c>map_single()</c>) of <paramref name="bytes"/>
    /// for <paramref name="device"/>. When the pool has no room the out-of-space record is counted and, as in
    /// <c>swiotlb_full(dev, size, dir, do_panic = 1)</c>, the mapping gets the overflow buffer if
    /// <paramref name="bytes"/> &lt;= 32 KiB, else the host panics with the direction's message.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero or negative size.</exception>
    /// <exception cref="HostPanickedException">The host already panicked.</exception>
    public MapResult MapSingle(SwiotlbDevice device, int bytes, DmaDirection direction)
    {
        ThrowIfPanicked(device, bytes);
        ValidateSize(device, bytes);
        var entry = Entry(device);
        var slabs = SwiotlbGeometry.SlabsFor(bytes);
        var first = FindFreeRun(entry, bytes, slabs);
        if (first >= 0)
        {
            Take(first, slabs, device.Index);
            return new MapResult(MapOutcome.Mapped, new SwiotlbMapping(first, slabs, device.Index), bytes);
        }
        return SingleMappingFailed(device, bytes, direction);
    }

    /// <summary>
    /// A scatter-gather mapping (<c>swiotlb_map_sg_attrs()</c>): each entry is bounced in turn; when one finds no
    /// room the out-of-space record is counted (<c>swiotlb_full(..., do_panic = 0)</c>), the entries already mapped
    /// are unmapped and the result is <see cref="MapOutcome.ExhaustedScatterGatherFailed"/> with the failing entry's
    /// size. Never panics. On success <paramref name="mappings"/> holds one mapping per entry.
    /// </summary>
    public MapResult MapScatterGather(SwiotlbDevice device, ReadOnlySpan<int> entryBytes, DmaDirection direction, Span<SwiotlbMapping> mappings)
    {
        if (entryBytes.IsEmpty)
            throw new ArgumentException($"scatter-gather list for device {device.BusId} is empty", nameof(entryBytes));
        if (mappings.Length < entryBytes.Length)
            throw new ArgumentException($"need room for {entryBytes.Length} mappings, got {mappings.Length}", nameof(mappings));
        ThrowIfPanicked(device, entryBytes[0]);
        foreach (var bytes in entryBytes)
            ValidateSize(device, bytes);

        var entry = Entry(device);
        for (var i = 0; i < entryBytes.Length; i++)
        {
            var slabs = SwiotlbGeometry.SlabsFor(entryBytes[i]);
            var first = FindFreeRun(entry, entryBytes[i], slabs);
            if (first < 0)
            {
                CountExhaustion(device);
                for (var j = 0; j < i; j++)
                    Unmap(mappings[j]);
                mappings[..i].Clear();
                return new MapResult(MapOutcome.ExhaustedScatterGatherFailed, default, entryBytes[i]);
            }
            Take(first, slabs, device.Index);
            mappings[i] = new SwiotlbMapping(first, slabs, device.Index);
        }
        return new MapResult(MapOutcome.Mapped, mappings[0], entryBytes[0]);
    }

    /// <summary>
    /// Frees a mapping (<c>swiotlb_unmap_page()</c> -> <c>do_unmap_single()</c>), merging its slabs with the free runs
    /// on both sides inside the segment. Unmapping the overflow buffer does nothing, as in the kernel (it is not a
    /// swiotlb buffer).
    /// </summary>
    /// <exception cref="UnknownMappingException">No such mapping is outstanding (double free, wrong size, foreign handle).</exception>
    public void Unmap(SwiotlbMapping mapping)
    {
        if (mapping.IsOverflowBuffer)
            return;
        var index = mapping.FirstSlab;
        if ((uint)index >= (uint)_mappedSlabs.Length || _mappedSlabs[index] == 0 || _mappedSlabs[index] != mapping.Slabs
            || _mappedDevice[index] != mapping.DeviceIndex)
        {
            ThrowUnknownMapping(mapping);
        }

        var slabs = mapping.Slabs;
        // do_unmap_single(), step 1: count = index + nslots < ALIGN(index + 1, IO_TLB_SEGSIZE) ? io_tlb_list[index + nslots] : 0;
        // for (i = index + nslots - 1; i >= index; i--) io_tlb_list[i] = ++count;
        // step 2: the free slabs before them in the same segment continue counting up (the runs merge).
        // Both loops together write one descending run ending at the run that follows; FillFreeRun does it in one pass.
        var segmentEnd = (index | SegmentMask) + 1;
        var countAfter = index + slabs < segmentEnd ? _freeRun[index + slabs] : 0;
        FillFreeRun(FreeRunStartBefore(index), index + slabs, countAfter);

        _mappedSlabs[index] = 0;
        var device = _devices[mapping.DeviceIndex];
        device.Mappings--;
        device.Slabs -= slabs;
        _slabsInUse -= slabs;
        _mappingCount--;
    }

    /// <summary>A reboot: every slab free, the cursor at 0, the panic and the since-boot counters cleared; devices stay registered.</summary>
    public void Reset()
    {
        ResetSlabs();
        Array.Clear(_mappedSlabs);
        Array.Clear(_mappedDevice);
        foreach (var device in _devices)
        {
            device.Mappings = 0;
            device.Slabs = 0;
            device.Exhaustions = 0;
        }
        _cursor = 0;
        _slabsInUse = 0;
        _highWaterSlabs = 0;
        _mappingCount = 0;
        _exhaustionCount = 0;
        _overflowFallbackCount = 0;
        _panic = null;
    }

    /// <summary>A copy of the whole state (slabs, cursor, devices, counters), for persisting a region.</summary>
    public SwiotlbRegionImage Export()
    {
        var devices = new SwiotlbDeviceImage[_devices.Count];
        for (var i = 0; i < devices.Length; i++)
        {
            var d = _devices[i];
            devices[i] = new SwiotlbDeviceImage(d.BusId, d.SegmentBoundaryMask, d.Mappings, d.Slabs, d.Exhaustions);
        }
        return new SwiotlbRegionImage(Size.Slabs, Flavour, (byte[])_freeRun.Clone(), (byte[])_mappedSlabs.Clone(),
            (ushort[])_mappedDevice.Clone(), devices, _cursor, _slabsInUse, _highWaterSlabs, _mappingCount,
            _exhaustionCount, _overflowFallbackCount, _panic);
    }

    /// <summary>Rebuilds a region from <see cref="Export"/>; the image is checked for consistency first.</summary>
    /// <exception cref="InvalidDataException">The image is inconsistent (names what is wrong).</exception>
    public static SwiotlbRegion Import(SwiotlbRegionImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var region = new SwiotlbRegion(SwiotlbPoolSize.FromSlabs(image.Slabs), image.Flavour);
        if (region.Size.Slabs != image.Slabs || image.FreeRun.Length != image.Slabs || image.MappedSlabs.Length != image.Slabs
            || image.MappedDevice.Length != image.Slabs)
        {
            throw new InvalidDataException($"swiotlb region image: {image.Slabs} slabs but arrays of {image.FreeRun.Length}/{image.MappedSlabs.Length}/{image.MappedDevice.Length}");
        }
        if ((uint)image.Cursor >= (uint)image.Slabs)
            throw new InvalidDataException($"swiotlb region image: cursor {image.Cursor} outside {image.Slabs} slabs");
        foreach (var d in image.Devices)
        {
            var device = region.RegisterDevice(d.BusId, d.SegmentBoundaryMask);
            var entry = region._devices[device.Index];
            entry.Mappings = d.Mappings;
            entry.Slabs = d.Slabs;
            entry.Exhaustions = d.Exhaustions;
        }
        var inUse = 0;
        for (var i = 0; i < image.Slabs; i++)
        {
            if (image.FreeRun[i] > SwiotlbGeometry.SegmentSlabs)
                throw new InvalidDataException($"swiotlb region image: slab {i} has free count {image.FreeRun[i]} > {SwiotlbGeometry.SegmentSlabs}");
            inUse += image.FreeRun[i] == 0 ? 1 : 0;
        }
        if (inUse != image.SlabsInUse)
            throw new InvalidDataException($"swiotlb region image: {inUse} slabs marked in use, but the image says {image.SlabsInUse}");
        image.FreeRun.CopyTo(region._freeRun, 0);
        image.MappedSlabs.CopyTo(region._mappedSlabs, 0);
        image.MappedDevice.CopyTo(region._mappedDevice, 0);
        region._cursor = image.Cursor;
        region._slabsInUse = image.SlabsInUse;
        region._highWaterSlabs = image.HighWaterSlabs;
        region._mappingCount = image.Mappings;
        region._exhaustionCount = image.ExhaustionCount;
        region._overflowFallbackCount = image.OverflowFallbackCount;
        region._panic = image.Panic;
        return region;
    }

    /// <summary>The kernel's free-run count of one slab (io_tlb_list[slab]); for tests and diagnostics.</summary>
    public int FreeRunAt(int slab) => _freeRun[slab];

    private void ResetSlabs()
    {
        // swiotlb_init_with_default_size(): io_tlb_list[i] = IO_TLB_SEGSIZE - OFFSET(i, IO_TLB_SEGSIZE).
        for (var i = 0; i < _freeRun.Length; i++)
            _freeRun[i] = (byte)(SwiotlbGeometry.SegmentSlabs - (i & SegmentMask));
    }

    /// <summary>
    /// The search of <c>map_single()</c>: first fit from the rotating index, with a one-page stride (and so page
    /// alignment) for mappings larger than a page, wrapping to 0, one full circle at most. Returns the first slab or -1.
    /// </summary>
    private int FindFreeRun(DeviceEntry device, int bytes, int slabs)
    {
        // io_tlb_list never exceeds IO_TLB_SEGSIZE, so a mapping over 128 slabs (256 KiB) can never be satisfied: the
        // kernel searches a full circle and fails; skipping the circle gives the same answer.
        if (slabs > SwiotlbGeometry.SegmentSlabs)
            return -1;

        // stride = size > PAGE_SIZE ? 1 << (PAGE_SHIFT - IO_TLB_SHIFT) : 1;  index = ALIGN(io_tlb_index, stride)
        var stride = bytes > SwiotlbGeometry.PageBytes ? SwiotlbGeometry.PageStrideSlabs : 1;
        var start = (_cursor + stride - 1) & -stride;
        if (start >= _freeRun.Length)
            start = 0;

        if (device.BoundaryCanSplitFreeRun)
            return FindFreeRunCheckingBoundary(device, slabs, stride, start);

        // Visit order of the kernel's loop: start .. end, then 0 .. start - stride.
        var found = FirstCandidate(start, _freeRun.Length, slabs, stride);
        return found >= 0 ? found : FirstCandidate(0, start, slabs, stride);
    }

    /// <summary>
    /// First position in [from, to) on the stride whose free count is at least <paramref name="slabs"/>
    /// (<c>io_tlb_list[index] &gt;= nslots</c>). Vectorised with IndexOfAnyInRange: this is what lets the exact model
    /// run tens of millions of maps per second.
    /// </summary>
    private int FirstCandidate(int from, int to, int slabs, int stride)
    {
        var pos = from;
        while (pos < to)
        {
            var hit = _freeRun.AsSpan(pos, to - pos).IndexOfAnyInRange((byte)slabs, (byte)SwiotlbGeometry.SegmentSlabs);
            if (hit < 0)
                return -1;
            pos += hit;
            // from and the stride are aligned, so a candidate is on the stride iff it is even (stride 2) or always (stride 1).
            if ((pos & (stride - 1)) == 0)
                return pos;
            pos++;
        }
        return -1;
    }

    /// <summary>
    /// The same search with <c>iommu_is_span_boundary(index, nslots, offset_slots, max_slots)</c> applied: positions
    /// whose run would cross the device's DMA segment boundary are skipped. Only used when that boundary can fall
    /// inside a segment (see <see cref="DeviceEntry.BoundaryCanSplitFreeRun"/>).
    /// </summary>
    private int FindFreeRunCheckingBoundary(DeviceEntry device, int slabs, int stride, int start)
    {
        var index = start;
        do
        {
            if (!device.CrossesBoundary(index, slabs) && _freeRun[index] >= slabs)
                return index;
            index += stride;
            if (index >= _freeRun.Length)
                index = 0;
        }
        while (index != start);
        return -1;
    }

    /// <summary>Marks the slabs in use and moves the rotating index, as <c>map_single()</c> does on success.</summary>
    private void Take(int index, int slabs, int deviceIndex)
    {
        // for (i = index; i < index + nslots; i++) io_tlb_list[i] = 0;
        _freeRun.AsSpan(index, slabs).Clear();
        // for (i = index - 1; OFFSET(i, IO_TLB_SEGSIZE) != IO_TLB_SEGSIZE - 1 && io_tlb_list[i]; i--) io_tlb_list[i] = ++count;
        // The free slabs just before the allocation (same segment) now end at it: they count 1, 2, 3, ... backwards.
        // (i = -1 has OFFSET 127, so the kernel's loop never reads before the pool; FreeRunStartBefore stops at the segment.)
        if ((index & SegmentMask) != 0 && _freeRun[index - 1] != 0)
            FillFreeRun(FreeRunStartBefore(index), index, 0);
        // io_tlb_index = (index + nslots) < io_tlb_nslabs ? (index + nslots) : 0;
        _cursor = index + slabs < _freeRun.Length ? index + slabs : 0;

        _mappedSlabs[index] = (byte)slabs;
        _mappedDevice[index] = (ushort)deviceIndex;
        var device = _devices[deviceIndex];
        device.Mappings++;
        device.Slabs += slabs;
        _mappingCount++;
        _slabsInUse += slabs;
        if (_slabsInUse > _highWaterSlabs)
            _highWaterSlabs = _slabsInUse;
    }

    /// <summary>
    /// Where the free run that ends just before <paramref name="index"/> starts: after the last used slab of the
    /// segment before <paramref name="index"/>, or at the segment start. This is where the kernel's backward loop
    /// <c>for (i = index - 1; OFFSET(i, IO_TLB_SEGSIZE) != IO_TLB_SEGSIZE - 1 &amp;&amp; io_tlb_list[i]; i--)</c>
    /// stops; LastIndexOf is vectorised.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FreeRunStartBefore(int index)
    {
        var segmentStart = index & ~SegmentMask;
        var lastUsed = _freeRun.AsSpan(segmentStart, index - segmentStart).LastIndexOf((byte)0);
        return segmentStart + lastUsed + 1; // lastUsed = -1: the run starts at the segment start
    }

    /// <summary>
    /// Writes the free counts of the run <c>[from, to)</c> that is followed (in the same segment) by a free run of
    /// <paramref name="countAfter"/> slabs: slab i gets <c>countAfter + (to - i)</c>, the values the kernel's
    /// <c>++count</c> loops leave. Done as "template minus constant" on 16-byte vectors: this loop is most of the cost
    /// of an unmap, since freed buffers usually sit next to long free runs.
    /// </summary>
    private void FillFreeRun(int from, int to, int countAfter)
    {
        var length = to - from;
        var run = _freeRun.AsSpan(from, length);
        // run[j] = countAfter + length - j = Descending[j] - delta; delta >= 0 because a run never exceeds a segment.
        var delta = (byte)(SwiotlbGeometry.SegmentSlabs - countAfter - length);
        ReadOnlySpan<byte> template = DescendingFromSegmentSize;
        if (length >= Vector128<byte>.Count)
        {
            var subtract = Vector128.Create(delta);
            var j = 0;
            for (; j + Vector128<byte>.Count <= length; j += Vector128<byte>.Count)
                (Vector128.Create(template.Slice(j, Vector128<byte>.Count)) - subtract).CopyTo(run[j..]);
            if (j < length)
            {
                // Last partial chunk: redo the final 16 bytes, overlapping ones already written with the same values.
                j = length - Vector128<byte>.Count;
                (Vector128.Create(template.Slice(j, Vector128<byte>.Count)) - subtract).CopyTo(run[j..]);
            }
        }
        else
        {
            for (var j = 0; j < length; j++)
                run[j] = (byte)(template[j] - delta);
        }
    }

    /// <summary>128, 127, ..., 1: the free counts of an empty segment, the template <see cref="FillFreeRun"/> shifts.</summary>
    private static readonly byte[] DescendingFromSegmentSize = CreateDescending();

    private static byte[] CreateDescending()
    {
        var values = new byte[SwiotlbGeometry.SegmentSlabs];
        for (var j = 0; j < values.Length; j++)
            values[j] = (byte)(SwiotlbGeometry.SegmentSlabs - j);
        return values;
    }

    private MapResult SingleMappingFailed(SwiotlbDevice device, int bytes, DmaDirection direction)
    {
        CountExhaustion(device);
        // swiotlb_full(): if (size <= io_tlb_overflow || !do_panic) return; — the caller maps the overflow buffer.
        if (bytes <= SwiotlbGeometry.OverflowBufferBytes)
        {
            _overflowFallbackCount++;
            return new MapResult(MapOutcome.ExhaustedOverflowBuffer, SwiotlbMapping.OverflowBuffer(device.Index), bytes);
        }
        _panic = new SwiotlbPanic(bytes, device.BusId, direction, SwiotlbKernelText.PanicMessage(direction));
        return new MapResult(MapOutcome.ExhaustedPanic, default, bytes);
    }

    private void CountExhaustion(SwiotlbDevice device)
    {
        _exhaustionCount++;
        _devices[device.Index].Exhaustions++;
    }

    private DeviceEntry Entry(SwiotlbDevice device)
    {
        if ((uint)device.Index >= (uint)_devices.Count || !ReferenceEquals(_devices[device.Index].BusId, device.BusId)
            && _devices[device.Index].BusId != device.BusId)
        {
            throw new ArgumentException($"device {device.BusId} (#{device.Index}) is not registered with this region", nameof(device));
        }
        return _devices[device.Index];
    }

    private static void ValidateSize(SwiotlbDevice device, int bytes)
    {
        if (bytes <= 0)
            ThrowBadSize(device, bytes);
    }

    private void ThrowIfPanicked(SwiotlbDevice device, int bytes)
    {
        if (_panic is not null)
            ThrowPanicked(device, bytes);
    }

    private static void ThrowBadSize(SwiotlbDevice device, int bytes) =>
        throw new ArgumentOutOfRangeException("bytes", bytes, $"mapping size for device {device.BusId} must be at least 1 byte");

    private void ThrowPanicked(SwiotlbDevice device, int bytes) =>
        throw new HostPanickedException(
            $"cannot map {bytes} bytes for {device.BusId}: the host panicked ({_panic!.Message}, {_panic.Bytes} bytes at {_panic.BusId}); reboot it (Reset) first");

    private void ThrowUnknownMapping(SwiotlbMapping mapping)
    {
        var index = mapping.FirstSlab;
        var why = (uint)index >= (uint)_mappedSlabs.Length
            ? $"slab {index} is outside the {Size.Slabs}-slab pool"
            : _mappedSlabs[index] == 0
                ? $"no mapping starts at slab {index} (already freed, or never mapped)"
                : $"the mapping at slab {index} holds {_mappedSlabs[index]} slabs of device #{_mappedDevice[index]}, not {mapping.Slabs} of device #{mapping.DeviceIndex}";
        throw new UnknownMappingException($"cannot unmap {mapping.Slabs} slabs at slab {index}: {why}");
    }

    private static long BoundarySlots(ulong mask) =>
        // max_slots = mask + 1 ? ALIGN(mask + 1, 1 << IO_TLB_SHIFT) >> IO_TLB_SHIFT : 1UL << (BITS_PER_LONG - IO_TLB_SHIFT)
        mask == ulong.MaxValue
            ? 1L << (64 - SwiotlbGeometry.SlabShift - 1) // 2^52: larger than any pool; the -1 keeps it a positive long
            : (long)((mask + 1 + SwiotlbGeometry.SlabBytes - 1) >> SwiotlbGeometry.SlabShift);

    private sealed class DeviceEntry(string busId, ulong segmentBoundaryMask, long boundarySlots, long offsetSlots)
    {
        public string BusId { get; } = busId;
        public ulong SegmentBoundaryMask { get; } = segmentBoundaryMask;
        public int Mappings;
        public int Slabs;
        public long Exhaustions;

        /// <summary>
        /// The device's DMA boundary can cut a free run only when boundary windows do not start on segment starts:
        /// if max_slots is a multiple of 128 and offset_slots is too (mod max_slots), any run crossing a window also
        /// crosses a segment, which io_tlb_list already forbids, so the check cannot change the outcome.
        /// XenServer's offset_slots = -IO_TLB_SEGSIZE with the default 4 GiB mask is such a case.
        /// </summary>
        public bool BoundaryCanSplitFreeRun { get; } =
            boundarySlots % SwiotlbGeometry.SegmentSlabs != 0
            || (offsetSlots & (boundarySlots - 1)) % SwiotlbGeometry.SegmentSlabs != 0;

        /// <summary><c>iommu_is_span_boundary()</c>: shift = (offset + index) &amp; (boundary - 1); shift + nr &gt; boundary.</summary>
        public bool CrossesBoundary(int index, int slabs)
        {
            var shift = (offsetSlots + index) & (boundarySlots - 1);
            return shift + slabs > boundarySlots;
        }
    }
}
