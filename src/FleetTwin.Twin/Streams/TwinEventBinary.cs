using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using FleetTwin.Domain.Events;

namespace FleetTwin.Twin.Streams;

/// <summary>
/// The compact binary form of a batch of one host's events, as it travels on the host's stream. A batch of a few
/// hundred SWIOTLB records is ~30 bytes per event instead of ~250 as JSON: small enough to stay off the large-object
/// heap (a 400-event JSON batch was over 85 KB, and every such buffer, copied on enqueue and on delivery, pushed the
/// collector into full collections), and decoded without a reflection-driven reader.
/// <para>
/// Layout: format byte, event count, then per event a kind byte, the <see cref="TwinEvent"/> base fields and the kind's
/// own fields in declaration order. Integers are LEB128 varints (zig-zag for signed), nullable values carry a presence
/// byte, and strings go through a per-batch table: 0 = null, 1 = a new string (length + UTF-8, appended to the table),
/// n >= 2 = table entry n - 2 — a batch names its host, source file, device and driver once.
/// </para>
/// Every event kind is listed here; a kind the codec does not know is an error naming it, never silently dropped.
/// </summary>
public static class TwinEventBinary
{
    private const byte Format = 1;

    private enum Kind : byte
    {
        SwiotlbExhausted = 1, KernelPanic, KernelBoot, LogDaemonRestart, Dom0CommandLine, VmStarted, VmStopped,
        NicOffloads, NicDriver, LinkMtu, PifFact, BondFact, XenHostFact, PoolFact, HotfixFact, VmFact,
    }

    /// <summary>Encodes events (any mix of kinds) into a new array.</summary>
    public static byte[] Encode(ReadOnlySpan<TwinEvent> events)
    {
        var writer = new Writer(events.Length * 40 + 64);
        try
        {
            writer.Byte(Format);
            writer.VarUInt((ulong)events.Length);
            foreach (var e in events)
                writer.Event(e);
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
        var reader = new Reader(data);
        var format = reader.Byte();
        if (format != Format)
            throw new InvalidDataException($"host event batch: format {format} is not {Format} (written by another FleetTwin version?)");
        var count = reader.Count();
        var events = new TwinEvent[count];
        for (var i = 0; i < count; i++)
            events[i] = reader.Event(i);
        if (!reader.AtEnd)
            throw new InvalidDataException($"host event batch: {reader.Remaining} bytes left after {count} events");
        return events;
    }

    private ref struct Writer
    {
        private byte[] _buffer;
        private int _length;
        private Dictionary<string, int>? _strings;

        public Writer(int capacity)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(capacity);
            _length = 0;
            _strings = null;
        }

        public readonly byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

        public void Dispose()
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        private Span<byte> Reserve(int bytes)
        {
            if (_length + bytes > _buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + bytes));
                _buffer.AsSpan(0, _length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }
            return _buffer.AsSpan(_length, bytes);
        }

        public void Byte(byte value)
        {
            Reserve(1)[0] = value;
            _length++;
        }

        public void VarUInt(ulong value)
        {
            var span = Reserve(10);
            var i = 0;
            while (value >= 0x80)
            {
                span[i++] = (byte)(value | 0x80);
                value >>= 7;
            }
            span[i++] = (byte)value;
            _length += i;
        }

        public void VarInt(long value) => VarUInt((ulong)((value << 1) ^ (value >> 63)));

        public void Bool(bool value) => Byte(value ? (byte)1 : (byte)0);

        public void Bool(bool? value) => Byte(value switch { null => 0, false => 1, true => 2 });

        public void Int(int? value)
        {
            Bool(value.HasValue);
            if (value is { } v)
                VarInt(v);
        }

        public void Long(long? value)
        {
            Bool(value.HasValue);
            if (value is { } v)
                VarInt(v);
        }

        public void Double(double? value)
        {
            Bool(value.HasValue);
            if (value is { } v)
            {
                BinaryPrimitives.WriteDoubleLittleEndian(Reserve(8), v);
                _length += 8;
            }
        }

        public void Time(DateTimeOffset? value)
        {
            Bool(value.HasValue);
            if (value is { } v)
            {
                VarInt(v.UtcTicks);
                VarInt((long)v.Offset.TotalMinutes);
            }
        }

        public void String(string? value)
        {
            if (value is null)
            {
                Byte(0);
                return;
            }
            _strings ??= new Dictionary<string, int>(StringComparer.Ordinal);
            if (_strings.TryGetValue(value, out var index))
            {
                VarUInt((ulong)index + 2);
                return;
            }
            _strings.Add(value, _strings.Count);
            Byte(1);
            var bytes = Encoding.UTF8.GetByteCount(value);
            VarUInt((ulong)bytes);
            Encoding.UTF8.GetBytes(value, Reserve(bytes));
            _length += bytes;
        }

        public void Strings(string[] values)
        {
            VarUInt((ulong)values.Length);
            foreach (var value in values)
                String(value);
        }

        public void Entries(ConfigEntry[] entries)
        {
            VarUInt((ulong)entries.Length);
            foreach (var entry in entries)
            {
                String(entry.Key);
                String(entry.Value);
            }
        }

        public void Event(TwinEvent e)
        {
            Byte((byte)KindOf(e));
            String(e.Host);
            Double(e.Uptime);
            Time(e.Time);
            String(e.SourceFile);
            VarInt(e.SourceLine);
            switch (e)
            {
                case SwiotlbExhausted x:
                    VarInt(x.Bytes); String(x.Device); String(x.Driver); Long(x.TotalSlots); Long(x.UsedSlots); String(x.Variant);
                    break;
                case KernelPanic x:
                    String(x.Message); String(x.Comm); Int(x.Pid); String(x.KernelVersion); Strings(x.Trace);
                    VarUInt((ulong)x.Frames.Length);
                    foreach (var f in x.Frames)
                    {
                        String(f.Function); VarInt(f.Offset); VarInt(f.Length); String(f.Module); Bool(f.Reliable); String(f.Address);
                    }
                    break;
                case KernelBoot x:
                    String(x.KernelVersion); String(x.XenServerRelease); Bool(x.ReleaseConfirmed);
                    break;
                case LogDaemonRestart x:
                    String(x.Daemon); String(x.Version);
                    break;
                case Dom0CommandLine x:
                    String(x.CommandLine); String(x.Swiotlb); Int(x.SwiotlbSize);
                    break;
                case VmStarted x:
                    VarInt(x.Domid); String(x.Evidence);
                    break;
                case VmStopped x:
                    VarInt(x.Domid); String(x.Evidence);
                    break;
                case NicOffloads x:
                    String(x.Device); Bool(x.GenericReceiveOffload);
                    VarUInt((ulong)x.Offloads.Length);
                    foreach (var o in x.Offloads)
                    {
                        String(o.Name); Bool(o.Enabled); Bool(o.Fixed);
                    }
                    break;
                case NicDriver x:
                    String(x.Device); String(x.Driver); String(x.Version); String(x.FirmwareVersion); String(x.BusInfo);
                    break;
                case LinkMtu x:
                    String(x.Device); VarInt(x.Mtu); String(x.State); String(x.Master);
                    break;
                case PifFact x:
                    String(x.Uuid); String(x.Device); Int(x.Mtu); Int(x.Vlan); String(x.HostUuid); String(x.HostName);
                    String(x.BondMasterOf); String(x.BondSlaveOf); Bool(x.Management); Bool(x.Physical); Entries(x.OtherConfig);
                    String(x.EthtoolGro);
                    break;
                case BondFact x:
                    String(x.Uuid); String(x.Master); Strings(x.Slaves); String(x.Mode);
                    break;
                case XenHostFact x:
                    String(x.Uuid); String(x.NameLabel); String(x.Address); String(x.ProductVersion); String(x.Linux);
                    Long(x.MemoryTotal); Long(x.MemoryFree); Entries(x.SoftwareVersion);
                    break;
                case PoolFact x:
                    String(x.Uuid); String(x.NameLabel); String(x.Master);
                    break;
                case HotfixFact x:
                    String(x.Uuid); String(x.NameLabel); String(x.Version); String(x.Kind); Strings(x.Hosts);
                    break;
                case VmFact x:
                    String(x.Uuid); String(x.NameLabel); String(x.PowerState); String(x.ResidentOn); Long(x.MemoryActual);
                    Long(x.MemoryStaticMax); Int(x.DomId); Bool(x.IsControlDomain);
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
            _ => throw new NotSupportedException($"host event batch: event kind {e.GetType().Name} ({e.Type}) has no binary form; add it to {nameof(TwinEventBinary)}"),
        };
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;
        private List<string>? _strings;
        private int _event;

        public readonly bool AtEnd => _position == _data.Length;
        public readonly int Remaining => _data.Length - _position;

        private readonly InvalidDataException Damaged(string what) =>
            new($"host event batch: {what} at byte {_position} of {_data.Length} (event {_event})");

        public byte Byte()
        {
            if (_position >= _data.Length)
                throw Damaged("unexpected end");
            return _data[_position++];
        }

        public ulong VarUInt()
        {
            ulong value = 0;
            for (var shift = 0; shift < 70; shift += 7)
            {
                var b = Byte();
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                    return value;
            }
            throw Damaged("varint longer than 10 bytes");
        }

        public long VarInt()
        {
            var raw = VarUInt();
            return (long)(raw >> 1) ^ -(long)(raw & 1);
        }

        public int Int32()
        {
            var value = VarInt();
            if (value is < int.MinValue or > int.MaxValue)
                throw Damaged($"32-bit value {value} out of range");
            return (int)value;
        }

        public int Count()
        {
            var count = VarUInt();
            // Every element takes at least one byte, so a count beyond what is left is damage, not a huge allocation.
            if (count > (ulong)Remaining)
                throw Damaged($"count {count} larger than the {Remaining} bytes left");
            return (int)count;
        }

        public bool Bool() => Byte() switch
        {
            0 => false,
            1 => true,
            var b => throw Damaged($"boolean byte {b}"),
        };

        public bool? NullableBool() => Byte() switch
        {
            0 => null,
            1 => false,
            2 => true,
            var b => throw Damaged($"nullable boolean byte {b}"),
        };

        public int? Int() => Bool() ? Int32() : null;

        public long? Long() => Bool() ? VarInt() : null;

        public double? Double()
        {
            if (!Bool())
                return null;
            if (Remaining < 8)
                throw Damaged("unexpected end");
            var value = BinaryPrimitives.ReadDoubleLittleEndian(_data.Slice(_position, 8));
            _position += 8;
            return value;
        }

        public DateTimeOffset? Time()
        {
            if (!Bool())
                return null;
            var ticks = VarInt();
            var minutes = VarInt();
            if (ticks is < 0 || ticks > DateTime.MaxValue.Ticks || minutes is < -14 * 60 or > 14 * 60)
                throw Damaged($"time {ticks} ticks, offset {minutes} min");
            return new DateTimeOffset(ticks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(minutes));
        }

        public string? String()
        {
            var tag = VarUInt();
            switch (tag)
            {
                case 0:
                    return null;
                case 1:
                    var length = Count();
                    var value = Encoding.UTF8.GetString(_data.Slice(_position, length));
                    _position += length;
                    (_strings ??= []).Add(value);
                    return value;
                default:
                    var index = tag - 2;
                    if (_strings is null || index >= (ulong)_strings.Count)
                        throw Damaged($"string reference {index} beyond the {_strings?.Count ?? 0} strings seen");
                    return _strings[(int)index];
            }
        }

        public string Required() => String() ?? throw Damaged("null where a value is required");

        public string[] Strings()
        {
            var values = new string[Count()];
            for (var i = 0; i < values.Length; i++)
                values[i] = Required();
            return values;
        }

        public ConfigEntry[] Entries()
        {
            var entries = new ConfigEntry[Count()];
            for (var i = 0; i < entries.Length; i++)
                entries[i] = new ConfigEntry { Key = Required(), Value = Required() };
            return entries;
        }

        public TwinEvent Event(int index)
        {
            _event = index;
            var kind = (Kind)Byte();
            var host = String();
            var uptime = Double();
            var time = Time();
            var sourceFile = Required();
            var sourceLine = VarInt();
            return kind switch
            {
                Kind.SwiotlbExhausted => new SwiotlbExhausted
                {
                    Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                    Bytes = VarInt(), Device = String(), Driver = String(), TotalSlots = Long(), UsedSlots = Long(), Variant = Required(),
                },
                Kind.KernelPanic => Panic(host, uptime, time, sourceFile, sourceLine),
                Kind.KernelBoot => new KernelBoot
                {
                    Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                    KernelVersion = Required(), XenServerRelease = String(), ReleaseConfirmed = Bool(),
                },
                Kind.LogDaemonRestart => new LogDaemonRestart
                {
                    Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                    Daemon = Required(), Version = String(),
                },
                Kind.Dom0CommandLine => new Dom0CommandLine
                {
                    Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                    CommandLine = Required(), Swiotlb = String(), SwiotlbSize = Int(),
                },
                Kind.VmStarted => new VmStarted
                {
                    Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                    Domid = Int32(), Evidence = Required(),
                },
                Kind.VmStopped => new VmStopped
                {
                    Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                    Domid = Int32(), Evidence = Required(),
                },
                Kind.NicOffloads => Offloads(host, uptime, time, sourceFile, sourceLine),
                Kind.NicDriver => new NicDriver
                {
                    Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                    Device = String(), Driver = Required(), Version = String(), FirmwareVersion = String(), BusInfo = String(),
                },
                Kind.LinkMtu => new LinkMtu
                {
                    Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                    Device = Required(), Mtu = Int32(), State = String(), Master = String(),
                },
                Kind.PifFact => new PifFact
                {
                    Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                    Uuid = Required(), Device = String(), Mtu = Int(), Vlan = Int(), HostUuid = String(), HostName = String(),
                    BondMasterOf = String(), BondSlaveOf = String(), Management = NullableBool(), Physical = NullableBool(),
                    OtherConfig = Entries(), EthtoolGro = String(),
                },
                Kind.BondFact => new BondFact
                {
                    Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                    Uuid = Required(), Master = String(), Slaves = Strings(), Mode = String(),
                },
                Kind.XenHostFact => new XenHostFact
                {
                    Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                    Uuid = Required(), NameLabel = String(), Address = String(), ProductVersion = String(), Linux = String(),
                    MemoryTotal = Long(), MemoryFree = Long(), SoftwareVersion = Entries(),
                },
                Kind.PoolFact => new PoolFact
                {
                    Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                    Uuid = Required(), NameLabel = String(), Master = String(),
                },
                Kind.HotfixFact => new HotfixFact
                {
                    Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                    Uuid = Required(), NameLabel = String(), Version = String(), Kind = Required(), Hosts = Strings(),
                },
                Kind.VmFact => new VmFact
                {
                    Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                    Uuid = Required(), NameLabel = String(), PowerState = String(), ResidentOn = String(), MemoryActual = Long(),
                    MemoryStaticMax = Long(), DomId = Int(), IsControlDomain = NullableBool(),
                },
                _ => throw Damaged($"unknown event kind {(byte)kind}"),
            };
        }

        private KernelPanic Panic(string? host, double? uptime, DateTimeOffset? time, string sourceFile, long sourceLine)
        {
            // Fields are read in wire order; the frames come last, after the scalar fields.
            var message = Required();
            var comm = String();
            var pid = Int();
            var kernel = String();
            var trace = Strings();
            var frames = new KernelStackFrame[Count()];
            for (var i = 0; i < frames.Length; i++)
            {
                frames[i] = new KernelStackFrame
                {
                    Function = Required(), Offset = VarInt(), Length = VarInt(), Module = String(), Reliable = Bool(), Address = String(),
                };
            }
            return new KernelPanic
            {
                Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                Message = message, Comm = comm, Pid = pid, KernelVersion = kernel, Trace = trace, Frames = frames,
            };
        }

        private NicOffloads Offloads(string? host, double? uptime, DateTimeOffset? time, string sourceFile, long sourceLine)
        {
            var device = String();
            var gro = NullableBool();
            var list = new NicOffload[Count()];
            for (var i = 0; i < list.Length; i++)
                list[i] = new NicOffload { Name = Required(), Enabled = Bool(), Fixed = Bool() };
            return new NicOffloads
            {
                Host = host, Uptime = uptime, Time = time, SourceFile = sourceFile, SourceLine = sourceLine,
                Device = device, GenericReceiveOffload = gro, Offloads = list,
            };
        }
    }
}
