using FleetTwin.Domain.Events;

namespace FleetTwin.Twin.Serialization;

/// <summary>
/// The compact binary form of a batch of one host's events, as it travels on the host's stream. A batch of a few
/// hundred SWIOTLB records is ~30 bytes per event instead of ~250 as JSON: small enough to stay off the large-object
/// heap (a 400-event JSON batch was over 85 KB, and every such buffer, copied on enqueue and on delivery, pushed the
/// collector into full collections), and decoded without a reflection-driven reader.
/// <para>
/// Layout (primitives in <see cref="CompactWriter"/>): format byte, event count, then per event a kind byte, the
/// <see cref="TwinEvent"/> base fields and the kind's own fields in declaration order.
/// </para>
/// Every event kind is listed here; a kind the codec does not know is an error naming it, never silently dropped.
/// </summary>
public static class TwinEventBinary
{
    private const byte Format = 4; // 4: lspci's network controllers (pci_nic); 3: host enabled/host-metrics-live, pool HA (ha-enabled, failures to tolerate, state files); 2: a host's boot and xapi start times, a VM's PCI passthrough and blocked operations (the planner's inputs)

    private enum Kind : byte
    {
        SwiotlbExhausted = 1, KernelPanic, KernelBoot, LogDaemonRestart, Dom0CommandLine, VmStarted, VmStopped,
        NicOffloads, NicDriver, LinkMtu, PifFact, BondFact, XenHostFact, PoolFact, HotfixFact, VmFact, PciNic,
    }

    /// <summary>Encodes events (any mix of kinds) into a new array.</summary>
    public static byte[] Encode(ReadOnlySpan<TwinEvent> events)
    {
        var writer = new CompactWriter(events.Length * 40 + 64);
        try
        {
            writer.Byte(Format);
            writer.VarUInt((ulong)events.Length);
            foreach (var e in events)
                WriteEvent(ref writer, e);
            return writer.ToArray();
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>Decodes what <see cref="Encode"/> wrote; damaged or foreign input is an <see cref="InvalidDataException"/> saying where.</summary>
    public static TwinEvent[] Decode(ReadOnlySpan<byte> data)
    {
        var reader = new CompactReader(data, "host event batch");
        var format = reader.Byte();
        if (format != Format)
            throw new InvalidDataException($"host event batch: format {format} is not {Format} (written by another FleetTwin version?)");
        var count = reader.Count();
        var events = new TwinEvent[count];
        for (var i = 0; i < count; i++)
        {
            reader.At("event", i);
            events[i] = ReadEvent(ref reader);
        }
        if (!reader.AtEnd)
            throw new InvalidDataException($"host event batch: {reader.Remaining} bytes left after {count} events");
        return events;
    }

    private static void WriteEvent(ref CompactWriter w, TwinEvent e)
    {
        w.Byte((byte)KindOf(e));
        w.String(e.Host);
        w.Double(e.Uptime);
        w.Time(e.Time);
        w.String(e.SourceFile);
        w.VarInt(e.SourceLine);
        switch (e)
        {
            case SwiotlbExhausted x:
                w.VarInt(x.Bytes); w.String(x.Device); w.String(x.Driver); w.Long(x.TotalSlots); w.Long(x.UsedSlots); w.String(x.Variant);
                break;
            case KernelPanic x:
                w.String(x.Message); w.String(x.Comm); w.Int(x.Pid); w.String(x.KernelVersion); w.Strings(x.Trace);
                w.VarUInt((ulong)x.Frames.Length);
                foreach (var f in x.Frames)
                {
                    w.String(f.Function); w.VarInt(f.Offset); w.VarInt(f.Length); w.String(f.Module); w.Bool(f.Reliable); w.String(f.Address);
                }
                break;
            case KernelBoot x:
                w.String(x.KernelVersion); w.String(x.XenServerRelease); w.Bool(x.ReleaseConfirmed);
                break;
            case LogDaemonRestart x:
                w.String(x.Daemon); w.String(x.Version);
                break;
            case Dom0CommandLine x:
                w.String(x.CommandLine); w.String(x.Swiotlb); w.Int(x.SwiotlbSize);
                break;
            case VmStarted x:
                w.VarInt(x.Domid); w.String(x.Evidence);
                break;
            case VmStopped x:
                w.VarInt(x.Domid); w.String(x.Evidence);
                break;
            case NicOffloads x:
                w.String(x.Device); w.Bool(x.GenericReceiveOffload);
                w.VarUInt((ulong)x.Offloads.Length);
                foreach (var o in x.Offloads)
                {
                    w.String(o.Name); w.Bool(o.Enabled); w.Bool(o.Fixed);
                }
                break;
            case NicDriver x:
                w.String(x.Device); w.String(x.Driver); w.String(x.Version); w.String(x.FirmwareVersion); w.String(x.BusInfo);
                break;
            case LinkMtu x:
                w.String(x.Device); w.VarInt(x.Mtu); w.String(x.State); w.String(x.Master);
                break;
            case PciNic x:
                w.String(x.BusId); w.String(x.Class); w.String(x.ClassId); w.String(x.Model); w.String(x.VendorId); w.String(x.DeviceId);
                w.String(x.Revision); w.String(x.Subsystem); w.String(x.KernelDriver);
                break;
            case PifFact x:
                w.String(x.Uuid); w.String(x.Device); w.Int(x.Mtu); w.Int(x.Vlan); w.String(x.HostUuid); w.String(x.HostName);
                w.String(x.BondMasterOf); w.String(x.BondSlaveOf); w.Bool(x.Management); w.Bool(x.Physical); WriteEntries(ref w, x.OtherConfig);
                w.String(x.EthtoolGro);
                break;
            case BondFact x:
                w.String(x.Uuid); w.String(x.Master); w.Strings(x.Slaves); w.String(x.Mode);
                break;
            case XenHostFact x:
                w.String(x.Uuid); w.String(x.NameLabel); w.String(x.Address); w.String(x.ProductVersion); w.String(x.Linux);
                w.Long(x.MemoryTotal); w.Long(x.MemoryFree); WriteEntries(ref w, x.SoftwareVersion);
                w.Double(x.BootTime); w.Double(x.AgentStartTime); w.Bool(x.Enabled); w.Bool(x.HostMetricsLive);
                break;
            case PoolFact x:
                w.String(x.Uuid); w.String(x.NameLabel); w.String(x.Master);
                w.Bool(x.HaEnabled); w.Int(x.HaHostFailuresToTolerate); w.Strings(x.HaStatefiles);
                break;
            case HotfixFact x:
                w.String(x.Uuid); w.String(x.NameLabel); w.String(x.Version); w.String(x.Kind); w.Strings(x.Hosts);
                break;
            case VmFact x:
                w.String(x.Uuid); w.String(x.NameLabel); w.String(x.PowerState); w.String(x.ResidentOn); w.Long(x.MemoryActual);
                w.Long(x.MemoryStaticMax); w.Int(x.DomId); w.Bool(x.IsControlDomain);
                w.String(x.PciPassthrough); w.Strings(x.BlockedOperations);
                break;
        }
    }

    private static Kind KindOf(TwinEvent e) => e switch
    {
        SwiotlbExhausted => Kind.SwiotlbExhausted,
        KernelPanic => Kind.KernelPanic,
        KernelBoot => Kind.KernelBoot,
        LogDaemonRestart => Kind.LogDaemonRestart,
        Dom0CommandLine => Kind.Dom0CommandLine,
        VmStarted => Kind.VmStarted,
        VmStopped => Kind.VmStopped,
        NicOffloads => Kind.NicOffloads,
        NicDriver => Kind.NicDriver,
        LinkMtu => Kind.LinkMtu,
        PifFact => Kind.PifFact,
        BondFact => Kind.BondFact,
        XenHostFact => Kind.XenHostFact,
        PoolFact => Kind.PoolFact,
        HotfixFact => Kind.HotfixFact,
        VmFact => Kind.VmFact,
        PciNic => Kind.PciNic,
        _ => throw new NotSupportedException($"host event batch: event kind {e.GetType().Name} ({e.Type}) has no binary form; add it to {nameof(TwinEventBinary)}"),
    };

    private static TwinEvent ReadEvent(ref CompactReader r)
    {
        var kind = (Kind)r.Byte();
        var host = r.String();
        var uptime = r.Double();
        var time = r.Time();
        var sourceFile = r.Required();
        var sourceLine = r.VarInt();
        return kind switch
        {
            Kind.SwiotlbExhausted => new SwiotlbExhausted
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                Bytes = r.VarInt(),
                Device = r.String(),
                Driver = r.String(),
                TotalSlots = r.Long(),
                UsedSlots = r.Long(),
                Variant = r.Required(),
            },
            Kind.KernelPanic => Panic(ref r, host, uptime, time, sourceFile, sourceLine),
            Kind.KernelBoot => new KernelBoot
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                KernelVersion = r.Required(),
                XenServerRelease = r.String(),
                ReleaseConfirmed = r.Bool(),
            },
            Kind.LogDaemonRestart => new LogDaemonRestart
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                Daemon = r.Required(),
                Version = r.String(),
            },
            Kind.Dom0CommandLine => new Dom0CommandLine
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                CommandLine = r.Required(),
                Swiotlb = r.String(),
                SwiotlbSize = r.Int(),
            },
            Kind.VmStarted => new VmStarted
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                Domid = r.Int32(),
                Evidence = r.Required(),
            },
            Kind.VmStopped => new VmStopped
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                Domid = r.Int32(),
                Evidence = r.Required(),
            },
            Kind.NicOffloads => Offloads(ref r, host, uptime, time, sourceFile, sourceLine),
            Kind.NicDriver => new NicDriver
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                Device = r.String(),
                Driver = r.Required(),
                Version = r.String(),
                FirmwareVersion = r.String(),
                BusInfo = r.String(),
            },
            Kind.LinkMtu => new LinkMtu
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                Device = r.Required(),
                Mtu = r.Int32(),
                State = r.String(),
                Master = r.String(),
            },
            Kind.PciNic => new PciNic
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                BusId = r.Required(),
                Class = r.Required(),
                ClassId = r.String(),
                Model = r.String(),
                VendorId = r.String(),
                DeviceId = r.String(),
                Revision = r.String(),
                Subsystem = r.String(),
                KernelDriver = r.String(),
            },
            Kind.PifFact => new PifFact
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                Uuid = r.Required(),
                Device = r.String(),
                Mtu = r.Int(),
                Vlan = r.Int(),
                HostUuid = r.String(),
                HostName = r.String(),
                BondMasterOf = r.String(),
                BondSlaveOf = r.String(),
                Management = r.NullableBool(),
                Physical = r.NullableBool(),
                OtherConfig = ReadEntries(ref r),
                EthtoolGro = r.String(),
            },
            Kind.BondFact => new BondFact
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                Uuid = r.Required(),
                Master = r.String(),
                Slaves = r.Strings(),
                Mode = r.String(),
            },
            Kind.XenHostFact => new XenHostFact
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                Uuid = r.Required(),
                NameLabel = r.String(),
                Address = r.String(),
                ProductVersion = r.String(),
                Linux = r.String(),
                MemoryTotal = r.Long(),
                MemoryFree = r.Long(),
                SoftwareVersion = ReadEntries(ref r),
                BootTime = r.Double(),
                AgentStartTime = r.Double(),
                Enabled = r.NullableBool(),
                HostMetricsLive = r.NullableBool(),
            },
            Kind.PoolFact => new PoolFact
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                Uuid = r.Required(),
                NameLabel = r.String(),
                Master = r.String(),
                HaEnabled = r.NullableBool(),
                HaHostFailuresToTolerate = r.Int(),
                HaStatefiles = r.Strings(),
            },
            Kind.HotfixFact => new HotfixFact
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                Uuid = r.Required(),
                NameLabel = r.String(),
                Version = r.String(),
                Kind = r.Required(),
                Hosts = r.Strings(),
            },
            Kind.VmFact => new VmFact
            {
                Host = host,
                Uptime = uptime,
                Time = time,
                SourceFile = sourceFile,
                SourceLine = sourceLine,
                Uuid = r.Required(),
                NameLabel = r.String(),
                PowerState = r.String(),
                ResidentOn = r.String(),
                MemoryActual = r.Long(),
                MemoryStaticMax = r.Long(),
                DomId = r.Int(),
                IsControlDomain = r.NullableBool(),
                PciPassthrough = r.String(),
                BlockedOperations = r.Strings(),
            },
            _ => throw r.Damaged($"unknown event kind {(byte)kind}"),
        };
    }

    private static KernelPanic Panic(ref CompactReader r, string? host, double? uptime, DateTimeOffset? time, string sourceFile, long sourceLine)
    {
        // Fields are read in wire order; the frames come last, after the scalar fields.
        var message = r.Required();
        var comm = r.String();
        var pid = r.Int();
        var kernel = r.String();
        var trace = r.Strings();
        var frames = new KernelStackFrame[r.Count()];
        for (var i = 0; i < frames.Length; i++)
        {
            frames[i] = new KernelStackFrame
            {
                Function = r.Required(),
                Offset = r.VarInt(),
                Length = r.VarInt(),
                Module = r.String(),
                Reliable = r.Bool(),
                Address = r.String(),
            };
        }
        return new KernelPanic
        {
            Host = host,
            Uptime = uptime,
            Time = time,
            SourceFile = sourceFile,
            SourceLine = sourceLine,
            Message = message,
            Comm = comm,
            Pid = pid,
            KernelVersion = kernel,
            Trace = trace,
            Frames = frames,
        };
    }

    private static NicOffloads Offloads(ref CompactReader r, string? host, double? uptime, DateTimeOffset? time, string sourceFile, long sourceLine)
    {
        var device = r.String();
        var gro = r.NullableBool();
        var list = new NicOffload[r.Count()];
        for (var i = 0; i < list.Length; i++)
            list[i] = new NicOffload { Name = r.Required(), Enabled = r.Bool(), Fixed = r.Bool() };
        return new NicOffloads
        {
            Host = host,
            Uptime = uptime,
            Time = time,
            SourceFile = sourceFile,
            SourceLine = sourceLine,
            Device = device,
            GenericReceiveOffload = gro,
            Offloads = list,
        };
    }

    /// <summary>An xe map parameter (other-config, software-version): a count, then key and value per entry.</summary>
    private static void WriteEntries(ref CompactWriter w, ConfigEntry[] entries)
    {
        w.VarUInt((ulong)entries.Length);
        foreach (var entry in entries)
        {
            w.String(entry.Key);
            w.String(entry.Value);
        }
    }

    private static ConfigEntry[] ReadEntries(ref CompactReader r)
    {
        var entries = new ConfigEntry[r.Count()];
        for (var i = 0; i < entries.Length; i++)
            entries[i] = new ConfigEntry { Key = r.Required(), Value = r.Required() };
        return entries;
    }
}
