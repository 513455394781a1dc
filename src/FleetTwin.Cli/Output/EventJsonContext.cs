using System.Text.Json.Serialization;
using FleetTwin.Domain.Events;

namespace FleetTwin.Cli.Output;

/// <summary>
/// Source-generated System.Text.Json metadata for the twin events: snake_case names (<c>type</c>, <c>host</c>,
/// <c>uptime</c>, <c>time</c>, <c>kernel_version</c>…) as issue 3 specifies, nulls left out, no reflection.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
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
internal sealed partial class EventJsonContext : JsonSerializerContext;
