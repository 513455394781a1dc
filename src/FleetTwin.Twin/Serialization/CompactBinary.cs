using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace FleetTwin.Twin.Serialization;

/// <summary>
/// The primitives of FleetTwin's compact binary forms (<see cref="TwinEventBinary"/>, <see cref="HostStateBinary"/>):
/// LEB128 varints (zig-zag for signed), a presence byte before nullable values, and strings through a per-document
/// table — 0 = null, 1 = a new string (length + UTF-8, appended to the table), n >= 2 = table entry n - 2 — so a
/// document names its host, source file, device and driver once.
/// </summary>
internal ref struct CompactWriter
{
    private byte[] _buffer;
    private int _length;
    private Dictionary<string, int>? _strings;

    public CompactWriter(int capacity)
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

    public void Bytes(ReadOnlySpan<byte> bytes)
    {
        VarUInt((ulong)bytes.Length);
        bytes.CopyTo(Reserve(bytes.Length));
        _length += bytes.Length;
    }

    public void Strings(string[] values)
    {
        VarUInt((ulong)values.Length);
        foreach (var value in values)
            String(value);
    }
}

internal ref struct CompactReader(ReadOnlySpan<byte> data, string what)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;
    private List<string>? _strings;
    private readonly string _what = what;

    /// <summary>Which item is being read, for error messages (<c>event 3</c>): set per item without formatting a string.</summary>
    public void At(string kind, int index)
    {
        _itemKind = kind;
        _itemIndex = index;
    }

    private string? _itemKind;
    private int _itemIndex;

    public readonly bool AtEnd => _position == _data.Length;
    public readonly int Remaining => _data.Length - _position;

    public readonly InvalidDataException Damaged(string problem) =>
        new($"{_what}: {problem} at byte {_position} of {_data.Length}{(_itemKind is null ? "" : $" ({_itemKind}{(_itemIndex >= 0 ? $" {_itemIndex}" : "")})")}");

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

    public byte[] Bytes()
    {
        var length = Count();
        var bytes = _data.Slice(_position, length).ToArray();
        _position += length;
        return bytes;
    }

    public string[] Strings()
    {
        var values = new string[Count()];
        for (var i = 0; i < values.Length; i++)
            values[i] = Required();
        return values;
    }
}
