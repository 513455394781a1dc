using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using FleetTwin.Domain.Events;

namespace FleetTwin.Twin.Serialization;

/// <summary>
/// How the twin serializes what the domain defines (events, host state, the allocator image): System.Text.Json with
/// source-generated metadata, the event kind as discriminator. (Host event batches and host state, the hot path,
/// have binary forms instead: <see cref="TwinEventBinary"/>, <see cref="HostStateBinary"/>.)
/// </summary>
public static class TwinJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(TwinJsonContext.Default, new DefaultJsonTypeInfoResolver())
            .WithAddedModifier(static info =>
            {
                if (info.Type != typeof(TwinEvent))
                    return;
                info.PolymorphismOptions = new JsonPolymorphismOptions { TypeDiscriminatorPropertyName = "$kind" };
                // Event kind discriminators are the domain's one list; stable (they are in persisted and queued data).
                foreach (var kind in TwinEventKinds.All)
                    info.PolymorphismOptions.DerivedTypes.Add(new JsonDerivedType(kind.Type, kind.Name));
            }),
    };

    /// <summary>
    /// Types Orleans hands to this serializer: the domain's, except the host state, which has a binary form
    /// (<see cref="HostStateBinary"/>).
    /// </summary>
    public static bool Handles(Type type) =>
        type != typeof(Domain.Fleet.HostState) && (type.Namespace is { } ns && ns.StartsWith("FleetTwin.Domain", StringComparison.Ordinal));
}

[JsonSerializable(typeof(TwinEvent[]))]
[JsonSerializable(typeof(SwiotlbExhausted))]
[JsonSerializable(typeof(KernelPanic))]
[JsonSerializable(typeof(KernelBoot))]
[JsonSerializable(typeof(LogDaemonRestart))]
[JsonSerializable(typeof(Dom0CommandLine))]
[JsonSerializable(typeof(VmStarted))]
[JsonSerializable(typeof(VmStopped))]
[JsonSerializable(typeof(NicOffloads))]
[JsonSerializable(typeof(NicDriver))]
[JsonSerializable(typeof(LinkMtu))]
[JsonSerializable(typeof(PciNic))]
[JsonSerializable(typeof(PifFact))]
[JsonSerializable(typeof(BondFact))]
[JsonSerializable(typeof(XenHostFact))]
[JsonSerializable(typeof(PoolFact))]
[JsonSerializable(typeof(HotfixFact))]
[JsonSerializable(typeof(VmFact))]
internal sealed partial class TwinJsonContext : JsonSerializerContext;
