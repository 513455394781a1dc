using FleetTwin.Twin.Serialization;
using System.Reflection;
using System.Text.Json;
using FleetTwin.Domain.Events;
using FleetTwin.Ingest.Reading;
using FleetTwin.Twin.Hosting;
using FleetTwin.Twin.Streams;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace FleetTwin.Twin.Tests;

/// <summary>
/// The binary form host event batches travel in: every event kind and every field survives the trip, and damaged
/// input is refused with the place it broke.
/// </summary>
public sealed class TwinEventBinaryTests
{
    private static readonly Type[] EventKinds = typeof(TwinEvent).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(TwinEvent)) && !t.IsAbstract)
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .ToArray();

    public static TheoryData<string> EventKindNames() => [.. EventKinds.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(EventKindNames))]
    public void Every_field_of_every_event_kind_survives_the_round_trip(string kind)
    {
        var type = EventKinds.Single(t => t.Name == kind);
        // Two fillings: one with "true"/positive values, one with "false"/negative ones, so a nullable bool's false
        // is not confused with null and zig-zag integers are exercised both ways.
        foreach (var variant in new[] { 1, 2 })
        {
            var original = (TwinEvent)Fill(type, variant);
            AssertAllPropertiesSet(original);
            AssertRoundTrips([original]);
        }
    }

    [Theory]
    [MemberData(nameof(EventKindNames))]
    public void Event_kinds_with_only_defaults_and_nulls_survive_the_round_trip(string kind)
    {
        var original = (TwinEvent)Activator.CreateInstance(EventKinds.Single(t => t.Name == kind))!;
        AssertRoundTrips([original]);
    }

    [Fact]
    public void The_KB_incident_round_trips_and_is_far_smaller_than_its_JSON()
    {
        var events = new List<TwinEvent>();
        foreach (var file in new[] { "kern.log", "dom0.log" })
        {
            var parser = new LogParser(new CollectingSink(events), new LogParserOptions { SourceName = file, Year = 2014 });
            parser.Write(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Golden", "kb-incident", file)));
            parser.Complete();
        }
        Assert.Contains(events, e => e is KernelPanic { Frames.Length: > 0 });
        Assert.Contains(events, e => e is SwiotlbExhausted);

        var binary = AssertRoundTrips([.. events]);
        var json = JsonSerializer.SerializeToUtf8Bytes(events.ToArray(), TwinJson.Options);
        Assert.True(binary.Length * 3 < json.Length, $"binary {binary.Length} B against JSON {json.Length} B");
    }

    [Fact]
    public void A_batch_goes_through_the_Orleans_serializer_in_its_binary_form()
    {
        using var services = new ServiceCollection().AddSerializer().AddTwinSerialization().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer<HostEventBatch>>();
        var batch = new HostEventBatch("bn2-3c16-ix-4104", [Exhaustion(1), Exhaustion(2)], new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

        var copy = serializer.Deserialize(serializer.SerializeToArray(batch))!;

        Assert.Equal(batch.Host, copy.Host);
        Assert.Equal(batch.PublishedAt, copy.PublishedAt);
        Assert.Equal(batch.Events, copy.Events);
    }

    [Fact]
    public void A_truncated_batch_is_refused_naming_where_it_ends()
    {
        var data = TwinEventBinary.Encode([Exhaustion(1), Exhaustion(2)]);

        var error = Assert.Throws<InvalidDataException>(() => TwinEventBinary.Decode(data.AsSpan(0, data.Length - 3)));

        Assert.Contains("unexpected end", error.Message);
        Assert.Contains("event 1", error.Message);
    }

    [Fact]
    public void A_batch_of_another_format_is_refused()
    {
        var data = TwinEventBinary.Encode([Exhaustion(1)]);
        data[0] = 9;

        var error = Assert.Throws<InvalidDataException>(() => TwinEventBinary.Decode(data));

        Assert.Contains("format 9", error.Message);
    }

    [Fact]
    public void Trailing_bytes_after_the_last_event_are_refused()
    {
        var data = TwinEventBinary.Encode([Exhaustion(1)]);

        var error = Assert.Throws<InvalidDataException>(() => TwinEventBinary.Decode([.. data, 0]));

        Assert.Contains("1 bytes left after 1 events", error.Message);
    }

    [Fact]
    public void Random_bytes_are_refused_with_InvalidDataException_naming_the_place_and_nothing_else()
    {
        // 2,000 random inputs of 0-63 bytes behind the format byte: for this seed none is a batch Encode could have
        // written (most claim more events or bytes than they hold, some refer to strings never sent, a few end early
        // or leave bytes over), so every one must be refused, and each refusal say where the input broke. Any other
        // exception (an index or overflow error from a length taken on trust) escapes and fails the test too.
        var random = new Random(4104);
        var refusals = new List<string>();
        for (var i = 0; i < 2000; i++)
        {
            var data = new byte[random.Next(0, 64)];
            random.NextBytes(data);
            if (data.Length > 0)
                data[0] = 4; // the current format
            try
            {
                var events = TwinEventBinary.Decode(data);
                Assert.Fail($"accepted {Convert.ToHexString(data)} as {events.Length} events");
            }
            catch (InvalidDataException error)
            {
                refusals.Add(error.Message);
            }
        }

        Assert.Equal(2000, refusals.Count);
        Assert.All(refusals, m => Assert.Matches(@"^host event batch: (.+ at byte \d+ of \d+( \(event \d+\))?|\d+ bytes left after \d+ events)$", m));
    }

    private static SwiotlbExhausted Exhaustion(int line) => new()
    {
        Host = "bn2-3c16-ix-4104", Uptime = 2777545.972710 + line, Time = new DateTimeOffset(2014, 9, 17, 5, 5, 6, TimeSpan.Zero),
        SourceFile = "kern.log", SourceLine = line, Bytes = 30714, Device = "0000:04:00.1",
    };

    private static byte[] AssertRoundTrips(TwinEvent[] events)
    {
        var data = TwinEventBinary.Encode(events);
        var decoded = TwinEventBinary.Decode(data);
        Assert.Equal(Json(events), Json(decoded));
        return data;
    }

    private static string Json(TwinEvent[] events) => JsonSerializer.Serialize(events, TwinJson.Options);

    private static void AssertAllPropertiesSet(object value)
    {
        foreach (var property in Settable(value.GetType()))
        {
            var v = property.GetValue(value);
            Assert.False(v is null || (v.GetType().IsValueType && v.Equals(Activator.CreateInstance(v.GetType())) && v is not bool),
                $"{value.GetType().Name}.{property.Name} was left at its default by the test filler");
        }
    }

    private static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite);

    /// <summary>An instance with every settable property given a non-default value (recursively for element records).</summary>
    private static object Fill(Type type, int variant)
    {
        var value = Activator.CreateInstance(type)!;
        var n = 0;
        foreach (var property in Settable(type))
            property.SetValue(value, Sample(property.PropertyType, property.Name, variant, ++n));
        return value;
    }

    private static object Sample(Type type, string name, int variant, int n)
    {
        var positive = variant == 1;
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string))
            return positive ? $"{name}-{n}-dom0 é" : $"{name}";
        if (underlying == typeof(int))
            return positive ? 9000 + n : -n;
        if (underlying == typeof(long))
            return positive ? 33_302L << 20 : -(long)n * 1_000_003;
        if (underlying == typeof(double))
            return positive ? 2777545.972710 : 0.5;
        if (underlying == typeof(bool))
            return positive;
        if (underlying == typeof(DateTimeOffset))
            return positive ? new DateTimeOffset(2014, 9, 17, 5, 5, 6, TimeSpan.FromHours(2)).AddTicks(1234) : new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.FromMinutes(-330));
        if (underlying.IsArray)
        {
            var element = underlying.GetElementType()!;
            var array = Array.CreateInstance(element, 3);
            for (var i = 0; i < 3; i++)
                array.SetValue(element == typeof(string) ? (i == 2 ? $"{name}-0" : $"{name}-{i}") : Fill(element, positive ? i % 2 + 1 : 2 - i % 2), i);
            return array;
        }
        throw new NotSupportedException($"test filler: no sample for {type.Name} ({name}); teach it the new field type");
    }

    private sealed class CollectingSink(List<TwinEvent> events) : ITwinEventSink
    {
        public void Accept(TwinEvent twinEvent) => events.Add(twinEvent);
    }
}
