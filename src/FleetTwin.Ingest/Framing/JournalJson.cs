using System.Text.Json;
using FleetTwin.Ingest.Text;

namespace FleetTwin.Ingest.Framing;

/// <summary>
/// One line of <c>journalctl -o json</c>. Field meanings from systemd.journal-fields(7): MESSAGE (a string, or an
/// array of byte values when it is not valid UTF-8), _HOSTNAME, __REALTIME_TIMESTAMP (µs since the epoch),
/// _SOURCE_MONOTONIC_TIMESTAMP (for kernel messages, the printk time in µs since boot), __MONOTONIC_TIMESTAMP.
/// Strings are unescaped into reusable scratch buffers owned by the caller, so a line costs no allocation.
/// </summary>
internal sealed class JournalJson
{
    private byte[] _message = new byte[1024];
    private byte[] _host = new byte[256];

    public int MessageLength { get; private set; }
    public int HostLength { get; private set; }
    public ReadOnlySpan<byte> Message => _message.AsSpan(0, MessageLength);
    public ReadOnlySpan<byte> Host => _host.AsSpan(0, HostLength);
    public double Uptime { get; private set; }
    public DateTimeOffset? Time { get; private set; }

    /// <summary>Reads one object; false (never an exception) when the line is not a journal JSON entry.</summary>
    public bool TryRead(ReadOnlySpan<byte> line)
    {
        MessageLength = HostLength = 0;
        Uptime = double.NaN;
        Time = null;
        bool sawMessage = false;
        double receiveUptime = double.NaN;
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 4 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("MESSAGE"u8))
                {
                    reader.Read();
                    sawMessage = ReadBytes(ref reader, ref _message, out int length);
                    MessageLength = length;
                }
                else if (reader.ValueTextEquals("_HOSTNAME"u8))
                {
                    reader.Read();
                    ReadBytes(ref reader, ref _host, out int length);
                    HostLength = length;
                }
                else if (reader.ValueTextEquals("__REALTIME_TIMESTAMP"u8))
                {
                    reader.Read();
                    if (ReadMicroseconds(ref reader, out long us))
                    {
                        Time = DateTimeOffset.UnixEpoch.AddTicks(us * 10);
                    }
                }
                else if (reader.ValueTextEquals("_SOURCE_MONOTONIC_TIMESTAMP"u8))
                {
                    reader.Read();
                    if (ReadMicroseconds(ref reader, out long us))
                    {
                        Uptime = us / 1e6;
                    }
                }
                else if (reader.ValueTextEquals("__MONOTONIC_TIMESTAMP"u8))
                {
                    reader.Read();
                    if (ReadMicroseconds(ref reader, out long us))
                    {
                        receiveUptime = us / 1e6;
                    }
                }
                else
                {
                    reader.Read();
                    reader.TrySkip();
                }
            }
        }
        catch (JsonException)
        {
            return false;
        }
        if (double.IsNaN(Uptime))
        {
            Uptime = receiveUptime;
        }
        return sawMessage;
    }

    private static bool ReadMicroseconds(ref Utf8JsonReader reader, out long microseconds)
    {
        microseconds = 0;
        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.TryGetInt64(out microseconds);
        }
        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped)
        {
            return LogBytes.TryParseWhole(reader.ValueSpan, out microseconds) && microseconds >= 0;
        }
        return false;
    }

    /// <summary>A JSON string (unescaped) or an array of byte values, copied into <paramref name="buffer"/> (grown as needed).</summary>
    private static bool ReadBytes(ref Utf8JsonReader reader, ref byte[] buffer, out int length)
    {
        length = 0;
        if (reader.TokenType == JsonTokenType.String)
        {
            int needed = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
            if (needed > buffer.Length)
            {
                buffer = new byte[Math.Max(needed, buffer.Length * 2)];
            }
            length = reader.CopyString(buffer);
            return true;
        }
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.Number)
            {
                if (!reader.TryGetByte(out byte b))
                {
                    return false;
                }
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
                buffer[length++] = b;
            }
            return reader.TokenType == JsonTokenType.EndArray;
        }
        reader.TrySkip();
        return false;
    }
}
