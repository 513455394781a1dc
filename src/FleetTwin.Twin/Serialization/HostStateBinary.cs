using FleetTwin.Domain.Fleet;

namespace FleetTwin.Twin.Serialization;

/// <summary>
/// The compact binary form of a host's <see cref="HostState"/>, as its grain persists it after every batch and as
/// it crosses grain calls. The state holds up to 256 exhaustion records, 256 VM starts and 2,048 record fingerprints;
/// as JSON that was ~50 KB rewritten per batch (a live front door publishes a batch per host every flush), as this
/// form it is less than half, written without a reflection-driven writer.
/// <para>
/// Layout (primitives in <see cref="CompactWriter"/>): format byte, then every property of <see cref="HostState"/>
/// in declaration order, except that a property added by a later format is written at the end. A property added to <see cref="HostState"/> must be added here too; the round-trip test
/// names any it finds missing.
/// </para>
/// </summary>
public static class HostStateBinary
{
    /// <summary>
    /// 2 adds the log's first uptime and each exhaustion record's driver; 3 adds the quiet time since the last record (at
    /// the end); 4 adds the boots told apart (current boot, its start and count, the earlier boots' summaries, and the
    /// boot of every exhaustion, panic and VM start record, at the end); states written as 1 to 3 still read, as one boot.
    /// </summary>
    private const byte Format = 4;

    public static byte[] Encode(HostState host)
    {
        ArgumentNullException.ThrowIfNull(host);
        // The de-duplication memory lives in a queue until packed; pack it so it is part of what is written.
        host.PrepareForPersistence();
        var w = new CompactWriter(1024 + host.Exhaustions.Count * 24 + host.VmStarts.Count * 16 + host.RecentRecordFingerprints.Length);
        try
        {
            w.Byte(Format);
            w.String(host.Name);
            w.String(host.Uuid);
            w.String(host.Pool);
            w.String(host.Address);
            w.String(host.XenServerRelease);
            w.Bool(host.XenServerReleaseConfirmed);
            w.String(host.Kernel);
            w.VarInt(host.Boots);
            w.Time(host.LastBootTime);
            w.VarInt(host.LogDaemonRestarts);
            w.Int(host.SwiotlbMiB);
            w.Bool(host.SwiotlbDisabled);
            w.Long(host.MemoryTotalBytes);
            w.Long(host.MemoryFreeBytes);
            w.Double(host.LastUptime);
            w.Double(host.FirstUptime);
            w.Time(host.LastTime);
            w.VarInt(host.AppliedEvents);
            w.VarInt(host.DuplicateRecords);
            w.VarInt(host.ExhaustionEvents);
            w.VarInt(host.LargestFailedMappingBytes);
            WriteCounts(ref w, host.ExhaustionEventsByDevice);
            w.VarUInt((ulong)host.Exhaustions.Count);
            foreach (var x in host.Exhaustions)
            {
                w.Double(x.Uptime);
                w.Time(x.Time);
                w.VarInt(x.Bytes);
                w.String(x.Device);
                w.String(x.Variant);
                w.String(x.Driver);
            }
            w.VarUInt((ulong)host.Panics.Count);
            foreach (var p in host.Panics)
            {
                w.Double(p.Uptime);
                w.Time(p.Time);
                w.String(p.Message);
                w.String(p.Comm);
                w.Int(p.Pid);
                w.Strings(p.Trace);
                w.Long(p.CauseBytes);
                w.String(p.CauseDevice);
                w.String(p.CauseDirection);
                w.String(p.Via);
                w.String(p.Kernel);
            }
            w.VarUInt((ulong)host.VmStarts.Count);
            foreach (var v in host.VmStarts)
            {
                w.VarInt(v.Domid);
                w.Double(v.Uptime);
                w.Time(v.Time);
                w.String(v.Evidence);
            }
            w.VarInt(host.VmStartEvents);
            w.VarInt(host.VmStops);
            w.VarUInt((ulong)host.BusIdByDevice.Count);
            foreach (var (device, busId) in host.BusIdByDevice)
            {
                w.String(device);
                w.String(busId);
            }
            w.Strings([.. host.Nics]);
            w.Strings([.. host.Bonds]);
            w.Strings([.. host.Hotfixes]);
            WriteCounts(ref w, host.ResidentVmMemory);
            w.Bytes(host.RecentRecordFingerprints);
            w.Double(host.QuietSeconds);
            w.VarInt(host.CurrentBoot);
            w.Time(host.CurrentBootStarted);
            w.VarInt(host.CurrentBootExhaustions);
            w.VarUInt((ulong)host.PreviousBoots.Count);
            foreach (var b in host.PreviousBoots)
            {
                w.VarInt(b.Boot);
                w.Time(b.Started);
                w.Double(b.FirstUptime);
                w.Double(b.LastUptime);
                w.VarInt(b.Exhaustions);
                w.Double(b.PanicUptime);
                w.Long(b.PanicCauseBytes);
            }
            foreach (var x in host.Exhaustions)
                w.VarInt(x.Boot);
            foreach (var p in host.Panics)
                w.VarInt(p.Boot);
            foreach (var v in host.VmStarts)
                w.VarInt(v.Boot);
            return w.ToArray();
        }
        finally
        {
            w.Dispose();
        }
    }

    public static HostState Decode(ReadOnlySpan<byte> data)
    {
        var r = new CompactReader(data, "host state");
        var format = r.Byte();
        if (format is not (1 or 2 or 3 or Format))
            throw new InvalidDataException($"host state: format {format} is not 1 to {Format} (written by another FleetTwin version?)");
        var host = new HostState
        {
            Name = r.Required(),
            Uuid = r.String(),
            Pool = r.String(),
            Address = r.String(),
            XenServerRelease = r.String(),
            XenServerReleaseConfirmed = r.Bool(),
            Kernel = r.String(),
            Boots = r.Int32(),
            LastBootTime = r.Time(),
            LogDaemonRestarts = r.Int32(),
            SwiotlbMiB = r.Int(),
            SwiotlbDisabled = r.Bool(),
            MemoryTotalBytes = r.Long(),
            MemoryFreeBytes = r.Long(),
            LastUptime = r.Double(),
            FirstUptime = format >= 2 ? r.Double() : null,
            LastTime = r.Time(),
            AppliedEvents = r.VarInt(),
            DuplicateRecords = r.VarInt(),
            ExhaustionEvents = r.VarInt(),
            LargestFailedMappingBytes = r.VarInt(),
            ExhaustionEventsByDevice = ReadCounts(ref r),
        };
        var exhaustions = r.Count();
        host.Exhaustions.Capacity = exhaustions;
        for (var i = 0; i < exhaustions; i++)
        {
            r.At("exhaustion record", i);
            host.Exhaustions.Add(new ExhaustionRecord(r.Double(), r.Time(), r.VarInt(), r.Required(), r.String(), format >= 2 ? r.String() : null));
        }
        var panics = r.Count();
        for (var i = 0; i < panics; i++)
        {
            r.At("panic record", i);
            host.Panics.Add(new PanicRecord(r.Double(), r.Time(), r.Required(), r.String(), r.Int(), r.Strings(), r.Long(), r.String(),
                r.String(), r.String(), r.String()));
        }
        var vmStarts = r.Count();
        host.VmStarts.Capacity = vmStarts;
        for (var i = 0; i < vmStarts; i++)
        {
            r.At("VM start record", i);
            host.VmStarts.Add(new VmRunRecord(r.Int32(), r.Double(), r.Time(), r.Required()));
        }
        r.At("fields after the records", -1);
        host.VmStartEvents = r.VarInt();
        host.VmStops = r.Int32();
        var buses = r.Count();
        for (var i = 0; i < buses; i++)
            host.BusIdByDevice[r.Required()] = r.Required();
        host.Nics.UnionWith(r.Strings());
        host.Bonds.UnionWith(r.Strings());
        host.Hotfixes.UnionWith(r.Strings());
        host.ResidentVmMemory = ReadCounts(ref r);
        host.RecentRecordFingerprints = r.Bytes();
        if (format >= 3)
            host.QuietSeconds = r.Double() ?? 0;
        if (format >= 4)
            ReadBoots(ref r, host);
        else
            host.CurrentBootExhaustions = host.ExhaustionEvents;
        if (!r.AtEnd)
            throw r.Damaged($"{r.Remaining} bytes left after the state");
        return host;
    }

    private static void ReadBoots(ref CompactReader r, HostState host)
    {
        r.At("boots", -1);
        host.CurrentBoot = r.Int32();
        host.CurrentBootStarted = r.Time();
        host.CurrentBootExhaustions = r.VarInt();
        var boots = r.Count();
        for (var i = 0; i < boots; i++)
        {
            r.At("earlier boot", i);
            host.PreviousBoots.Add(new BootSummary(r.Int32(), r.Time(), r.Double(), r.Double(), r.VarInt(), r.Double(), r.Long()));
        }
        r.At("record boots", -1);
        for (var i = 0; i < host.Exhaustions.Count; i++)
            host.Exhaustions[i] = host.Exhaustions[i] with { Boot = r.Int32() };
        for (var i = 0; i < host.Panics.Count; i++)
            host.Panics[i] = host.Panics[i] with { Boot = r.Int32() };
        for (var i = 0; i < host.VmStarts.Count; i++)
            host.VmStarts[i] = host.VmStarts[i] with { Boot = r.Int32() };
    }

    private static void WriteCounts(ref CompactWriter w, Dictionary<string, long> counts)
    {
        w.VarUInt((ulong)counts.Count);
        foreach (var (key, count) in counts)
        {
            w.String(key);
            w.VarInt(count);
        }
    }

    private static Dictionary<string, long> ReadCounts(ref CompactReader r)
    {
        var entries = r.Count();
        var counts = new Dictionary<string, long>(entries, StringComparer.Ordinal);
        for (var i = 0; i < entries; i++)
            counts[r.Required()] = r.VarInt();
        return counts;
    }
}

/// <summary>The wire and storage form of a <see cref="HostState"/>: one <see cref="HostStateBinary"/> blob.</summary>
[GenerateSerializer, Immutable, Alias("fleettwin.host-state.v2")]
public struct HostStateSurrogate
{
    [Id(0)] public byte[] State;
}

/// <summary>Tells Orleans to carry <see cref="HostState"/> as its <see cref="HostStateSurrogate"/>.</summary>
[RegisterConverter]
public sealed class HostStateConverter : IConverter<HostState, HostStateSurrogate>
{
    public HostState ConvertFromSurrogate(in HostStateSurrogate surrogate) => HostStateBinary.Decode(surrogate.State);

    public HostStateSurrogate ConvertToSurrogate(in HostState value) => new() { State = HostStateBinary.Encode(value) };
}
