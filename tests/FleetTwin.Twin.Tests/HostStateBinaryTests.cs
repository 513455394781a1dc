using FleetTwin.Twin.Serialization;
using System.Text.Json;
using FleetTwin.Domain.Events;
using FleetTwin.Domain.Fleet;
using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Grains;
using FleetTwin.Twin.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace FleetTwin.Twin.Tests;

/// <summary>The binary form a host's state is persisted in: all of it comes back, and damage is refused.</summary>
public sealed class HostStateBinaryTests
{
    /// <summary>
    /// Every property the codec writes. A property added to <see cref="HostState"/> fails this test until it is
    /// added to <see cref="HostStateBinary"/> (and to <see cref="Filled"/> below).
    /// </summary>
    private static readonly string[] CodedProperties =
    [
        "Name", "Uuid", "Pool", "Address", "XenServerRelease", "XenServerReleaseConfirmed", "Kernel", "Boots", "LastBootTime",
        "LogDaemonRestarts", "SwiotlbMiB", "SwiotlbDisabled", "MemoryTotalBytes", "MemoryFreeBytes", "LastUptime", "FirstUptime", "LastTime",
        "AppliedEvents", "DuplicateRecords", "ExhaustionEvents", "LargestFailedMappingBytes", "ExhaustionEventsByDevice",
        "Exhaustions", "Panics", "VmStarts", "VmStartEvents", "VmStops", "BusIdByDevice", "Nics", "Bonds", "Hotfixes",
        "ResidentVmMemory", "RecentRecordFingerprints", "QuietSeconds", "CurrentBoot", "CurrentBootStarted", "CurrentBootExhaustions",
        "PreviousBoots",
    ];

    [Fact]
    public void The_codec_covers_every_property_of_the_host_state()
    {
        var properties = typeof(HostState).GetProperties().Where(p => p.CanWrite).Select(p => p.Name).Order(StringComparer.Ordinal);
        Assert.Equal(CodedProperties.Order(StringComparer.Ordinal), properties);
    }

    [Fact]
    public void A_state_with_every_field_set_round_trips()
    {
        var state = Filled();

        var copy = HostStateBinary.Decode(HostStateBinary.Encode(state));

        Assert.Equal(Json(state), Json(copy));
    }

    [Fact]
    public void A_state_persisted_by_the_previous_format_still_reads_with_no_log_start_and_no_drivers()
    {
        // Golden/kb-host-state-format-1.bin: the KB incident's kern.log applied to a host state and encoded by the
        // format-1 codec (before the log's first uptime and each record's driver were kept).
        var state = HostStateBinary.Decode(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Golden", "kb-host-state-format-1.bin")));

        Assert.Equal(("bn2-3c16-ix-4104", 17L, 2782669.639121), (state.Name, state.ExhaustionEvents, state.LastUptime!.Value));
        Assert.Null(state.FirstUptime);
        Assert.Equal(17, state.Exhaustions.Count);
        Assert.All(state.Exhaustions, x => Assert.Null(x.Driver));
        // Written again, it is the current format and round-trips.
        Assert.Equal(Json(state), Json(HostStateBinary.Decode(HostStateBinary.Encode(state))));
    }

    [Fact]
    public void An_empty_state_round_trips()
    {
        var state = new HostState();
        Assert.Equal(Json(state), Json(HostStateBinary.Decode(HostStateBinary.Encode(state))));
    }

    [Fact]
    public void The_KB_incident_host_round_trips_and_still_recognises_its_records()
    {
        var state = new HostState { Name = "bn2-3c16-ix-4104" };
        var events = new List<TwinEvent>();
        var parser = new LogParser(new CollectingSink(events), new LogParserOptions { SourceName = "kern.log", Year = 2014 });
        parser.Write(File.ReadAllBytes(Golden.KbIncident("kern.log")));
        parser.Complete();
        foreach (var e in events)
            state.Apply(e);

        var copy = HostStateBinary.Decode(HostStateBinary.Encode(state));

        Assert.Equal(Json(state), Json(copy));
        // The restored de-duplication memory still knows every record: replaying the log changes nothing.
        Assert.All(events.Where(e => e is SwiotlbExhausted), e => Assert.False(copy.Apply(e)));
        Assert.Equal(state.ExhaustionEvents, copy.ExhaustionEvents);
    }

    [Fact]
    public void Grain_state_goes_through_the_Orleans_serializer_in_the_binary_form()
    {
        using var services = new ServiceCollection().AddSerializer().AddTwinSerialization().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer<HostGrainState>>();
        var grainState = new HostGrainState { Host = Filled() };

        var bytes = serializer.SerializeToArray(grainState);
        var copy = serializer.Deserialize(bytes)!;

        Assert.Equal(Json(grainState.Host), Json(copy.Host));
        Assert.True(bytes.Length < JsonSerializer.SerializeToUtf8Bytes(grainState.Host, TwinJson.Options).Length / 2,
            "the persisted host state should be well under half its JSON size");
    }

    [Fact]
    public void A_truncated_state_is_refused_naming_where()
    {
        var data = HostStateBinary.Encode(Filled());

        var error = Assert.Throws<InvalidDataException>(() => HostStateBinary.Decode(data.AsSpan(0, data.Length / 2)));

        Assert.StartsWith("host state:", error.Message);
        Assert.Contains("at byte", error.Message);
    }

    private static string Json(HostState state) => JsonSerializer.Serialize(state, TwinJson.Options);

    private static HostState Filled()
    {
        var time = new DateTimeOffset(2014, 9, 17, 5, 5, 6, TimeSpan.FromHours(1));
        var state = new HostState
        {
            Name = "bn2-3c16-ix-4104", Uuid = "7f0c", Pool = "pool-a", Address = "10.0.0.4", XenServerRelease = "6.2",
            XenServerReleaseConfirmed = true, Kernel = "2.6.32.43-0.4.1.xs1.8.0.853.170791xen", Boots = 3, LastBootTime = time,
            LogDaemonRestarts = 2, SwiotlbMiB = 128, SwiotlbDisabled = true, MemoryTotalBytes = 137_438_953_472,
            MemoryFreeBytes = -1, LastUptime = 2777546.972710, FirstUptime = 2777292.770268, QuietSeconds = 3600.25, LastTime = time.AddSeconds(5), AppliedEvents = 40,
            DuplicateRecords = 17, ExhaustionEvents = 18, LargestFailedMappingBytes = 33302, VmStartEvents = 300, VmStops = 4,
            ExhaustionEventsByDevice = new() { ["0000:04:00.0"] = 3, ["0000:04:00.1"] = 15 },
            BusIdByDevice = new() { ["eth4"] = "0000:04:00.0", ["eth5"] = "0000:04:00.1" },
            ResidentVmMemory = new() { ["vm-1"] = 4_294_967_296, ["vm-2"] = 0 },
            RecentRecordFingerprints = [1, 2, 3, 4, 5, 6, 7, 8],
            CurrentBoot = 2, CurrentBootStarted = time.AddDays(-32), CurrentBootExhaustions = 12,
            PreviousBoots = [new BootSummary(0, null, 12.5, 90_000, 4, null, null), new BootSummary(1, time.AddDays(-40), 0, 600_000.25, 2, 599_999.5, 33302)],
        };
        state.Exhaustions.Add(new ExhaustionRecord(2777545.972710, time, 30714, "0000:04:00.1", SwiotlbMessageVariant.PciDmaOutOfSwIommu, "bnx2x"));
        state.Exhaustions.Add(new ExhaustionRecord(null, null, 33302, "0000:04:00.0", Boot: 2));
        state.Panics.Add(new PanicRecord(2777546.0, time, "DMA: Random memory could be DMA read", "netback/2", 1196,
            ["panic", "swiotlb_full", "bnx2x_start_xmit"], 33302, "0000:04:00.1", "to-device", "bnx2x_start_xmit", "2.6.32.43", 1));
        state.Panics.Add(new PanicRecord(null, null, "Kernel panic", null, null, [], null, null, null, null, null));
        state.VmStarts.Add(new VmRunRecord(174, 2777000.5, time, "vif174.0", 2));
        state.Nics.UnionWith(["eth4", "eth5"]);
        state.Bonds.Add("bond-uuid");
        state.Hotfixes.Add("XS62ESP1004");
        return state;
    }

    private sealed class CollectingSink(List<TwinEvent> events) : ITwinEventSink
    {
        public void Accept(TwinEvent twinEvent) => events.Add(twinEvent);
    }
}
