namespace FleetTwin.Domain.Events;

/// <summary>One kind of twin event: its record type and its stable name (the JSON <c>type</c> and <c>$kind</c>).</summary>
public readonly record struct TwinEventKind(Type Type, string Name);

/// <summary>
/// The one list of event kinds. The twin's JSON discriminators read it; the source-generated JSON contexts and the
/// binary batch codec cannot be generated from a list, so their tests check them against it kind by kind.
/// Adding an event: add it here, then to TwinJsonContext, the CLI's EventJsonContext and TwinEventBinary.
/// </summary>
public static class TwinEventKinds
{
    public static IReadOnlyList<TwinEventKind> All { get; } =
    [
        new(typeof(SwiotlbExhausted), SwiotlbExhausted.TypeName),
        new(typeof(KernelPanic), KernelPanic.TypeName),
        new(typeof(KernelBoot), KernelBoot.TypeName),
        new(typeof(LogDaemonRestart), LogDaemonRestart.TypeName),
        new(typeof(Dom0CommandLine), Dom0CommandLine.TypeName),
        new(typeof(VmStarted), VmStarted.TypeName),
        new(typeof(VmStopped), VmStopped.TypeName),
        new(typeof(NicOffloads), NicOffloads.TypeName),
        new(typeof(NicDriver), NicDriver.TypeName),
        new(typeof(LinkMtu), LinkMtu.TypeName),
        new(typeof(PciNic), PciNic.TypeName),
        new(typeof(PifFact), PifFact.TypeName),
        new(typeof(BondFact), BondFact.TypeName),
        new(typeof(XenHostFact), XenHostFact.TypeName),
        new(typeof(PoolFact), PoolFact.TypeName),
        new(typeof(HotfixFact), HotfixFact.TypeName),
        new(typeof(VmFact), VmFact.TypeName),
    ];
}
