using FleetTwin.Twin.Serialization;
using System.Text.Json;
using FleetTwin.Domain.Events;

namespace FleetTwin.Twin.Tests;

/// <summary>The twin's JSON context, its discriminators and the binary batch codec each know every kind of the domain's one list.</summary>
public sealed class TwinEventKindsCoverageTests
{
    public static TheoryData<string> Kinds()
    {
        var data = new TheoryData<string>();
        foreach (var kind in TwinEventKinds.All)
            data.Add(kind.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_event_kind_crosses_the_binary_batch_codec_and_the_twin_JSON_as_itself(string name)
    {
        var kind = TwinEventKinds.All.Single(k => k.Name == name);
        var sample = ((TwinEvent)Activator.CreateInstance(kind.Type)!) with { Host = "h", Uptime = 1.5, SourceFile = "f", SourceLine = 7 };

        var decoded = Assert.Single(TwinEventBinary.Decode(TwinEventBinary.Encode([sample])));
        Assert.IsType(kind.Type, decoded);
        Assert.Equal("h", decoded.Host);

        Assert.NotNull(TwinJsonContext.Default.GetTypeInfo(kind.Type));
        var json = JsonSerializer.Serialize<TwinEvent>(sample, TwinJson.Options);
        Assert.Contains($"\"$kind\":\"{name}\"", json, StringComparison.Ordinal);
        Assert.IsType(kind.Type, JsonSerializer.Deserialize<TwinEvent>(json, TwinJson.Options));
    }
}
