using FleetTwin.Domain.Allocation;

namespace FleetTwin.Domain.Tests.Allocation;

public class SwiotlbRegionTests
{
    private const string Port0 = "0000:04:00.0";
    private const string Port1 = "0000:04:00.1";

    private static (SwiotlbRegion Region, SwiotlbDevice Nic) NewRegion(SwiotlbPoolSize? size = null)
    {
        var region = new SwiotlbRegion(size ?? SwiotlbPoolSize.XenServerDefault);
        return (region, region.RegisterDevice(Port1));
    }

    /// <summary>Fills every slab with segment-sized mappings so the next map finds no room.</summary>
    private static void FillPool(SwiotlbRegion region, SwiotlbDevice device)
    {
        for (var i = 0; i < region.Size.Segments; i++)
            Assert.Equal(MapOutcome.Mapped, region.MapSingle(device, SwiotlbGeometry.LargestMappingBytes, DmaDirection.FromDevice).Outcome);
        Assert.Equal(0, region.FreeSlabs);
    }

    [Fact]
    public void XenServer_default_pool_is_64_MiB_of_32768_two_KiB_slabs()
    {
        var (region, _) = NewRegion();
        Assert.Equal(32_768, region.Size.Slabs);
        Assert.Equal(64L * 1024 * 1024, region.Size.Bytes);
        Assert.Equal(256, region.Size.Segments);
        Assert.Equal(128, region.LargestFreeRun);
        Assert.Equal(0, region.Fragmentation);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2048, 1)]
    [InlineData(2049, 2)]
    [InlineData(9018, 5)]
    [InlineData(30714, 15)]
    [InlineData(33302, 17)]
    [InlineData(262_144, 128)]
    public void A_mapping_takes_ceil_of_size_over_2_KiB_contiguous_slabs(int bytes, int slabs)
    {
        var (region, nic) = NewRegion();
        var result = region.MapSingle(nic, bytes, DmaDirection.FromDevice);
        Assert.Equal(MapOutcome.Mapped, result.Outcome);
        Assert.Equal(slabs, result.Mapping.Slabs);
        Assert.Equal(slabs, region.SlabsInUse);
        for (var i = 0; i < slabs; i++)
            Assert.Equal(0, region.FreeRunAt(result.Mapping.FirstSlab + i));
    }

    [Fact]
    public void The_search_starts_just_past_the_previous_mapping()
    {
        var (region, nic) = NewRegion();
        var first = region.MapSingle(nic, 3000, DmaDirection.ToDevice).Mapping;
        var second = region.MapSingle(nic, 100, DmaDirection.ToDevice).Mapping;
        var third = region.MapSingle(nic, 100, DmaDirection.ToDevice).Mapping;
        Assert.Equal((0, 2, 3), (first.FirstSlab, second.FirstSlab, third.FirstSlab));

        // Freeing the first does not pull the cursor back: first fit from a moving cursor, not lowest address.
        region.Unmap(first);
        Assert.Equal(4, region.MapSingle(nic, 100, DmaDirection.ToDevice).Mapping.FirstSlab);
    }

    [Fact]
    public void Exactly_one_page_is_searched_slab_by_slab_but_one_byte_more_is_page_aligned()
    {
        var (region, nic) = NewRegion();
        region.MapSingle(nic, 100, DmaDirection.ToDevice); // slab 0; cursor now 1 (odd)
        var page = region.MapSingle(nic, SwiotlbGeometry.PageBytes, DmaDirection.ToDevice).Mapping;
        Assert.Equal(1, page.FirstSlab); // size <= PAGE_SIZE: stride 1, may start on an odd slab

        var (region2, nic2) = NewRegion();
        region2.MapSingle(nic2, 100, DmaDirection.ToDevice);
        var overPage = region2.MapSingle(nic2, SwiotlbGeometry.PageBytes + 1, DmaDirection.ToDevice).Mapping;
        Assert.Equal(2, overPage.FirstSlab); // size > PAGE_SIZE: stride 2, cursor rounded up to a page
        Assert.Equal(1, region2.FreeRunAt(1)); // the skipped slab stays free, a run of one
    }

    [Fact]
    public void A_mapping_never_crosses_a_segment_even_when_enough_slabs_are_free_across_it()
    {
        var (region, nic) = NewRegion(SwiotlbPoolSize.FromSlabs(256));
        // Occupy slabs 0..99 so segment 0 has 28 free slabs at its end, followed by the empty segment 1.
        region.MapSingle(nic, 100 * SwiotlbGeometry.SlabBytes, DmaDirection.ToDevice);
        Assert.Equal(28, region.FreeRunAt(100));
        var mapping = region.MapSingle(nic, 40 * SwiotlbGeometry.SlabBytes, DmaDirection.ToDevice).Mapping;
        Assert.Equal(128, mapping.FirstSlab);
    }

    [Fact]
    public void The_search_wraps_to_the_start_of_the_pool_after_the_last_slab()
    {
        var (region, nic) = NewRegion(SwiotlbPoolSize.FromSlabs(256));
        var head = region.MapSingle(nic, 64 * SwiotlbGeometry.SlabBytes, DmaDirection.ToDevice).Mapping; // 0..63
        region.MapSingle(nic, 64 * SwiotlbGeometry.SlabBytes, DmaDirection.ToDevice);                   // 64..127
        region.MapSingle(nic, 128 * SwiotlbGeometry.SlabBytes, DmaDirection.ToDevice);                  // 128..255, cursor -> 0
        Assert.Equal(0, region.Cursor);
        region.Unmap(head);
        Assert.Equal(0, region.MapSingle(nic, 10 * SwiotlbGeometry.SlabBytes, DmaDirection.ToDevice).Mapping.FirstSlab);

        var (tail, tailNic) = NewRegion(SwiotlbPoolSize.FromSlabs(256));
        var early = tail.MapSingle(tailNic, 10 * SwiotlbGeometry.SlabBytes, DmaDirection.ToDevice).Mapping; // 0..9
        tail.MapSingle(tailNic, 118 * SwiotlbGeometry.SlabBytes, DmaDirection.ToDevice);                       // 10..127
        tail.MapSingle(tailNic, 120 * SwiotlbGeometry.SlabBytes, DmaDirection.ToDevice);                       // 128..247
        tail.Unmap(early);
        // 8 free slabs at the end cannot take 9; the search wraps and finds the 10 freed at the start.
        Assert.Equal(0, tail.MapSingle(tailNic, 9 * SwiotlbGeometry.SlabBytes, DmaDirection.ToDevice).Mapping.FirstSlab);
    }

    [Fact]
    public void Freed_neighbours_coalesce_into_one_run_whatever_the_order_of_frees()
    {
        foreach (var order in new[] { new[] { 0, 1, 2 }, [2, 1, 0], [1, 0, 2], [0, 2, 1] })
        {
            var (region, nic) = NewRegion(SwiotlbPoolSize.FromSlabs(128));
            var mappings = new[]
            {
                region.MapSingle(nic, 20_000, DmaDirection.FromDevice).Mapping,
                region.MapSingle(nic, 20_000, DmaDirection.FromDevice).Mapping,
                region.MapSingle(nic, 20_000, DmaDirection.FromDevice).Mapping,
            };
            foreach (var i in order)
                region.Unmap(mappings[i]);
            for (var slab = 0; slab < 128; slab++)
                Assert.Equal(128 - slab, region.FreeRunAt(slab));
            Assert.Equal(128, region.LargestFreeRun);
        }
    }

    [Fact]
    public void The_largest_mapping_a_segment_allows_fits_an_empty_segment_and_one_byte_more_never_fits()
    {
        var (region, nic) = NewRegion();
        Assert.Equal(MapOutcome.Mapped, region.MapSingle(nic, SwiotlbGeometry.LargestMappingBytes, DmaDirection.ToDevice).Outcome);

        var tooLarge = region.MapSingle(nic, SwiotlbGeometry.LargestMappingBytes + 1, DmaDirection.ToDevice);
        // An empty 64 MiB pool still cannot hold 129 contiguous slabs: the kernel logs and, being over 32 KiB, panics.
        Assert.Equal(MapOutcome.ExhaustedPanic, tooLarge.Outcome);
        Assert.Equal(128, region.SlabsInUse);
    }

    [Fact]
    public void KB_incident_a_failed_30714_byte_mapping_survives_on_the_overflow_buffer()
    {
        var (region, nic) = NewRegion();
        FillPool(region, nic);

        var result = region.MapSingle(nic, 30_714, DmaDirection.ToDevice);

        Assert.Equal(MapOutcome.ExhaustedOverflowBuffer, result.Outcome);
        Assert.True(result.Mapping.IsOverflowBuffer);
        Assert.False(region.HasPanicked);
        Assert.Equal(1, region.ExhaustionCount);
        Assert.Equal(1, region.ExhaustionsOf(nic));
        Assert.Equal("PCI-DMA: Out of SW-IOMMU space for 30714 bytes at device 0000:04:00.1",
            SwiotlbKernelText.OutOfSpace(region.Flavour, result.RequestedBytes, nic.BusId));
        region.Unmap(result.Mapping); // unmapping the overflow buffer is a no-op, as in swiotlb_unmap_page()
    }

    [Fact]
    public void KB_incident_a_failed_33302_byte_transmit_mapping_panics_the_host_with_the_to_device_message()
    {
        var (region, nic) = NewRegion();
        FillPool(region, nic);

        var result = region.MapSingle(nic, 33_302, DmaDirection.ToDevice);

        Assert.Equal(MapOutcome.ExhaustedPanic, result.Outcome);
        Assert.True(region.HasPanicked);
        Assert.Equal(new SwiotlbPanic(33_302, Port1, DmaDirection.ToDevice, "DMA: Random memory could be DMA read"), region.Panic);
        Assert.Equal("Kernel panic - not syncing: DMA: Random memory could be DMA read", SwiotlbKernelText.KernelPanicLine(DmaDirection.ToDevice));
    }

    [Theory]
    [InlineData(DmaDirection.FromDevice, "DMA: Random memory could be DMA written")]
    [InlineData(DmaDirection.Bidirectional, "DMA: Random memory could be DMA accessed")]
    public void A_failed_large_mapping_panics_with_the_message_for_its_direction(DmaDirection direction, string message)
    {
        var (region, nic) = NewRegion(SwiotlbPoolSize.FromSlabs(128));
        FillPool(region, nic);
        region.MapSingle(nic, 40_000, direction);
        Assert.Equal(message, region.Panic!.Message);
    }

    [Fact]
    public void Exactly_32768_bytes_is_still_within_the_overflow_buffer_and_32769_is_not()
    {
        var (region, nic) = NewRegion(SwiotlbPoolSize.FromSlabs(128));
        FillPool(region, nic);
        Assert.Equal(MapOutcome.ExhaustedOverflowBuffer, region.MapSingle(nic, 32_768, DmaDirection.ToDevice).Outcome);
        Assert.Equal(MapOutcome.ExhaustedPanic, region.MapSingle(nic, 32_769, DmaDirection.ToDevice).Outcome);
    }

    [Fact]
    public void A_panicked_host_refuses_further_mappings_until_it_is_rebooted()
    {
        var (region, nic) = NewRegion(SwiotlbPoolSize.FromSlabs(128));
        FillPool(region, nic);
        region.MapSingle(nic, 33_302, DmaDirection.ToDevice);

        var error = Assert.Throws<HostPanickedException>(() => region.MapSingle(nic, 100, DmaDirection.ToDevice));
        Assert.Contains("0000:04:00.1", error.Message);

        region.Reset();
        Assert.False(region.HasPanicked);
        Assert.Equal(0, region.SlabsInUse);
        Assert.Equal(0, region.ExhaustionCount);
        Assert.Equal(MapOutcome.Mapped, region.MapSingle(nic, 100, DmaDirection.ToDevice).Outcome);
    }

    [Fact]
    public void A_failed_scatter_gather_list_is_unmapped_whole_and_never_panics()
    {
        var (region, nic) = NewRegion(SwiotlbPoolSize.FromSlabs(128));
        Span<SwiotlbMapping> mappings = new SwiotlbMapping[3];

        // 74 + 74 slabs cannot share one 128-slab segment: the second entry fails, over 32 KiB yet no panic.
        var result = region.MapScatterGather(nic, [150_000, 151_000, 60_000], DmaDirection.ToDevice, mappings);

        Assert.Equal(MapOutcome.ExhaustedScatterGatherFailed, result.Outcome);
        Assert.Equal(151_000, result.RequestedBytes);
        Assert.False(region.HasPanicked);
        Assert.Equal(0, region.SlabsInUse);
        Assert.Equal(1, region.ExhaustionCount);
        Assert.Equal(128, region.LargestFreeRun);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void A_zero_or_negative_size_is_an_argument_error_naming_the_device(int bytes)
    {
        var (region, nic) = NewRegion();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => region.MapSingle(nic, bytes, DmaDirection.ToDevice));
        Assert.Equal("bytes", error.ParamName);
        Assert.Contains(Port1, error.Message);
        Assert.Equal(0, region.SlabsInUse);
    }

    [Fact]
    public void A_full_pool_has_no_free_run_and_every_map_is_an_exhaustion()
    {
        var (region, nic) = NewRegion();
        FillPool(region, nic);
        Assert.Equal(0, region.LargestFreeRun);
        Assert.Equal(32_768, region.HighWaterSlabs);
        Assert.Equal(MapOutcome.ExhaustedOverflowBuffer, region.MapSingle(nic, 1, DmaDirection.FromDevice).Outcome);
    }

    [Fact]
    public void Freeing_an_unknown_mapping_is_a_clear_error()
    {
        var (region, nic) = NewRegion();
        var mapping = region.MapSingle(nic, 9018, DmaDirection.FromDevice).Mapping;

        var wrongSlab = Assert.Throws<UnknownMappingException>(() => region.Unmap(mapping with { FirstSlab = 2 }));
        Assert.Contains("no mapping starts at slab 2", wrongSlab.Message);
        var wrongSize = Assert.Throws<UnknownMappingException>(() => region.Unmap(mapping with { Slabs = 4 }));
        Assert.Contains("holds 5 slabs", wrongSize.Message);
        var outside = Assert.Throws<UnknownMappingException>(() => region.Unmap(mapping with { FirstSlab = 40_000 }));
        Assert.Contains("outside the 32768-slab pool", outside.Message);

        region.Unmap(mapping);
        Assert.Throws<UnknownMappingException>(() => region.Unmap(mapping)); // double free
        Assert.Equal(0, region.SlabsInUse);
    }

    [Fact]
    public void Occupancy_reports_slabs_mappings_per_device_high_water_and_fragmentation()
    {
        var region = new SwiotlbRegion(SwiotlbPoolSize.FromSlabs(256));
        var port0 = region.RegisterDevice(Port0);
        var port1 = region.RegisterDevice(Port1);
        // 20 jumbo RX buffers of 5 slabs; page alignment leaves a one-slab gap after each: slabs 0..118 of segment 0.
        var held = new List<SwiotlbMapping>();
        for (var i = 0; i < 20; i++)
            held.Add(region.MapSingle(i % 2 == 0 ? port0 : port1, 9018, DmaDirection.FromDevice).Mapping);
        Assert.Equal(114, held[^1].FirstSlab);
        // Free every other buffer (all of port 0's): plenty of free slabs, none in long runs.
        for (var i = 0; i < held.Count; i += 2)
            region.Unmap(held[i]);

        var snapshot = region.Snapshot();
        Assert.Equal(100, snapshot.HighWaterSlabs);
        Assert.Equal(50, snapshot.SlabsInUse);
        Assert.Equal(10, snapshot.Mappings);
        Assert.Equal([new DeviceOccupancy(Port0, 0, 0, 0), new DeviceOccupancy(Port1, 10, 50, 0)], snapshot.Devices);
        Assert.Equal(128, snapshot.LargestFreeRun); // segment 1 is still empty
        Assert.Equal(0, snapshot.Fragmentation);

        // Fill segment 1: only segment 0's holes remain, 78 free slabs whose longest run is the 9 after slab 118.
        Assert.Equal(128, region.MapSingle(port0, SwiotlbGeometry.LargestMappingBytes, DmaDirection.FromDevice).Mapping.FirstSlab);
        Assert.Equal(9, region.LargestFreeRun);
        Assert.Equal(1 - 9.0 / 78, region.Fragmentation, 6);
        Assert.Equal(7, region.FreeRunAt(11)); // gap 11 + freed 12..16 + gap 17 coalesced
    }

    [Fact]
    public void Registering_a_device_twice_returns_the_same_device_and_unknown_devices_are_rejected()
    {
        var (region, nic) = NewRegion();
        Assert.Equal(nic, region.RegisterDevice(Port1));
        var other = new SwiotlbRegion(SwiotlbPoolSize.XenServerDefault);
        var error = Assert.Throws<ArgumentException>(() => other.MapSingle(nic, 100, DmaDirection.ToDevice));
        Assert.Contains("not registered", error.Message);
        Assert.Throws<ArgumentException>(() => region.RegisterDevice("0000:05:00.0", 0x1234));
    }

    [Fact]
    public void A_narrow_dma_boundary_skips_positions_whose_run_would_cross_it()
    {
        // Mainline pool at bus address 0 and a device whose DMA segments are 16 KiB (8 slabs).
        var region = new SwiotlbRegion(SwiotlbPoolSize.FromSlabs(128), SwiotlbKernelFlavour.Mainline2632());
        var quirky = region.RegisterDevice("0000:06:00.0", 0x3FFF);
        region.MapSingle(quirky, 4096, DmaDirection.ToDevice); // slabs 0..1, cursor 2
        // 4 slabs from slab 2: 2..5 fits inside the window 0..7; then 3 slabs from 6 would cross slab 8, so skip to 8.
        Assert.Equal(2, region.MapSingle(quirky, 8000, DmaDirection.ToDevice).Mapping.FirstSlab);
        Assert.Equal(8, region.MapSingle(quirky, 5000, DmaDirection.ToDevice).Mapping.FirstSlab);
        Assert.Equal(2, region.FreeRunAt(6)); // the free run still counts 6..7; only the boundary kept it unused
    }

    [Fact]
    public void An_exported_region_imports_to_the_same_state_and_continues_identically()
    {
        var (region, nic) = NewRegion(SwiotlbPoolSize.FromSlabs(512));
        var random = new Random(5);
        var held = new List<SwiotlbMapping>();
        for (var i = 0; i < 200; i++)
        {
            if (held.Count > 0 && random.Next(3) == 0)
            {
                region.Unmap(held[^1]);
                held.RemoveAt(held.Count - 1);
            }
            else if (region.MapSingle(nic, random.Next(1, 30_000), DmaDirection.FromDevice) is { Outcome: MapOutcome.Mapped } r)
            {
                held.Add(r.Mapping);
            }
        }

        var copy = SwiotlbRegion.Import(region.Export());

        Assert.Equal(region.Snapshot() with { Devices = [] }, copy.Snapshot() with { Devices = [] });
        Assert.Equal(region.Snapshot().Devices, copy.Snapshot().Devices);
        var copyNic = copy.RegisterDevice(Port1);
        for (var i = 0; i < 50; i++)
            Assert.Equal(region.MapSingle(nic, 9018, DmaDirection.FromDevice), copy.MapSingle(copyNic, 9018, DmaDirection.FromDevice));
        foreach (var mapping in held)
            copy.Unmap(mapping);
    }

    [Fact]
    public void An_inconsistent_image_is_rejected_naming_the_problem()
    {
        var (region, nic) = NewRegion(SwiotlbPoolSize.FromSlabs(128));
        region.MapSingle(nic, 9018, DmaDirection.FromDevice);
        var image = region.Export();
        var error = Assert.Throws<InvalidDataException>(() => SwiotlbRegion.Import(image with { SlabsInUse = 7 }));
        Assert.Contains("5 slabs marked in use", error.Message);
    }
}
