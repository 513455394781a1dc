using System.Diagnostics;
using System.Globalization;

namespace FleetTwin.Load;

/// <summary>What the collector did during a run: collections per generation, pause time, bytes allocated, CPU.</summary>
internal readonly record struct GcFigures(int Gen0, int Gen1, int Gen2, TimeSpan Paused, long Allocated, TimeSpan Cpu)
{
    public static GcFigures Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(),
        GC.GetTotalAllocatedBytes(precise: false), Process.GetCurrentProcess().TotalProcessorTime);

    public string Since(GcFigures start, TimeSpan wall)
    {
        var cpu = Cpu - start.Cpu;
        return string.Create(CultureInfo.InvariantCulture,
            $"process: CPU {cpu.TotalSeconds:0.0} s ({cpu / wall * 100:0} % of one core); GC: {Gen0 - start.Gen0} gen0, {Gen1 - start.Gen1} gen1, {Gen2 - start.Gen2} gen2, paused {(Paused - start.Paused).TotalSeconds:0.00} s, allocated {(Allocated - start.Allocated) / 1024.0 / 1024.0:0} MiB");
    }
}
