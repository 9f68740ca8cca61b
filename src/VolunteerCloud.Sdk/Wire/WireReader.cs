using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace VolunteerCloud.Wire;

/// <summary>
/// Reads what <see cref="WireWriter"/> wrote. Every read checks its bounds: truncated or malformed input
/// throws <see cref="WireFormatException"/>, never anything else, and lengths and counts are checked
/// against the bytes that remain before anything is allocated.
/// </summary>
public ref struct WireReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    /// <summary>Creates a reader over <paramref name="buffer"/>.</summary>
    public WireReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    /// <summary>How many bytes have not been read yet.</summary>
    public readonly int Remaining => _buffer.Length - _position;

    /// <summary>How many bytes have been read.</summary>
    public readonly int BytesRead => _position;

    /// <summary>Reads one byte.</summary>
    public byte ReadByte() => Take(1)[0];

    /// <summary>Reads a boolean written as 0 or 1.</summary>
    public bool ReadBoolean() => ReadByte() switch
    {
        0 => false,
        1 => true,
        var other => throw new WireFormatException($"A boolean must be 0 or 1; got {other.ToString(CultureInfo.InvariantCulture)}."),
    };

    /// <summary>Reads a 16-bit unsigned integer, little-endian.</summary>
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    /// <summary>Reads a 32-bit unsigned integer, little-endian.</summary>
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    /// <summary>Reads a 64-bit unsigned integer, little-endian.</summary>
    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>Reads a 64-bit signed integer, little-endian.</summary>
    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    /// <summary>Reads a double from its 8 IEEE 754 bytes, little-endian.</summary>
    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    /// <summary>Reads an unsigned LEB128 integer: at most 10 bytes, in its shortest form.</summary>
    public ulong ReadVarUInt64() => ReadVarUInt(maxBytes: 10);

    /// <summary>Reads an unsigned LEB128 integer that fits 32 bits: at most 5 bytes, in its shortest form.</summary>
    public uint ReadVarUInt32() => (uint)ReadVarUInt(maxBytes: 5);

    private ulong ReadVarUInt(int maxBytes)
    {
        // Fast paths: most integers on the wire (states, counts, ids below 16 384) take one or two bytes.
        var position = _position;
        var buffer = _buffer;
        if (position + 1 < buffer.Length)
        {
            var b0 = buffer[position];
            if (b0 < 0x80)
            {
                _position = position + 1;
                return b0;
            }

            var b1 = buffer[position + 1];
            if (b1 is < 0x80 and not 0)
            {
                _position = position + 2;
                return ((ulong)b0 & 0x7F) | ((ulong)b1 << 7);
            }
        }
        else if (position < buffer.Length && buffer[position] < 0x80)
        {
            return buffer[_position++];
        }

        return ReadVarUIntSlow(maxBytes);
    }

    private ulong ReadVarUIntSlow(int maxBytes)
    {
        // The last byte may carry only the bits left: 64 - 7 * 9 = 1 for 64-bit values, 32 - 7 * 4 = 4 for 32-bit ones.
        var lastByteLimit = maxBytes == 10 ? 0x01 : 0x0F;
        ulong result = 0;
        for (var i = 0; i < maxBytes; i++)
        {
            var b = ReadByte();
            if (i == maxBytes - 1 && b > lastByteLimit)
            {
                throw new WireFormatException($"A variable-length integer overflows {(maxBytes == 10 ? 64 : 32).ToString(CultureInfo.InvariantCulture)} bits.");
            }

            result |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                if (b == 0 && i > 0)
                {
                    // 0x80 0x00 also means 0: accepting it would let two byte strings mean one message.
                    throw new WireFormatException("A variable-length integer is not in its shortest form.");
                }

                return result;
            }
        }

        throw new WireFormatException($"A variable-length integer is longer than {maxBytes.ToString(CultureInfo.InvariantCulture)} bytes.");
    }

    /// <summary>Reads a zig-zag LEB128 signed integer.</summary>
    public long ReadVarInt64()
    {
        var value = ReadVarUInt64();
        return (long)(value >> 1) ^ -(long)(value & 1);
    }

    /// <summary>Reads a zig-zag LEB128 signed integer that must fit 32 bits.</summary>
    public int ReadVarInt32()
    {
        var value = ReadVarUInt32();
        return (int)(value >> 1) ^ -(int)(value & 1);
    }

    /// <summary>Reads a node id.</summary>
    public NodeId ReadNodeId()
    {
        var value = ReadVarUInt32();
        return value <= int.MaxValue
            ? new NodeId((int)value)
            : throw new WireFormatException($"A node id must be at most {int.MaxValue.ToString(CultureInfo.InvariantCulture)}.");
    }

    /// <summary>Reads a duration written as ticks.</summary>
    public TimeSpan ReadTimeSpan() => TimeSpan.FromTicks(ReadVarInt64());

    /// <summary>
    /// Reads an element count and checks it against <paramref name="maximum"/> and against the bytes left
    /// (each element takes at least <paramref name="minimumElementBytes"/>), so a forged count cannot make
    /// the caller allocate more than the datagram could hold.
    /// </summary>
    public int ReadCount(int maximum, int minimumElementBytes = 1)
    {
        var count = ReadVarUInt32();
        if (count > (uint)maximum)
        {
            throw new WireFormatException(
                $"A count of {count.ToString(CultureInfo.InvariantCulture)} exceeds the limit of {maximum.ToString(CultureInfo.InvariantCulture)}.");
        }

        if ((long)count * Math.Max(1, minimumElementBytes) > Remaining)
        {
            throw new WireFormatException(
                $"A count of {count.ToString(CultureInfo.InvariantCulture)} needs more bytes than the {Remaining.ToString(CultureInfo.InvariantCulture)} left.");
        }

        return (int)count;
    }

    /// <summary>Reads length-prefixed bytes; the span points into the reader's buffer.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = ReadVarUInt32();
        return length <= (uint)Remaining
            ? Take((int)length)
            : throw new WireFormatException("A byte string is longer than the bytes left.");
    }

    /// <summary>Reads a length-prefixed UTF-8 string; invalid UTF-8 is rejected.</summary>
    public string ReadString()
    {
        var bytes = ReadBytes();
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new WireFormatException("A string is not valid UTF-8.", e);
        }
    }

    /// <summary>Checks that every byte has been read.</summary>
    /// <exception cref="WireFormatException">Bytes are left over.</exception>
    public readonly void EnsureEnd()
    {
        if (Remaining != 0)
        {
            throw new WireFormatException(
                $"{Remaining.ToString(CultureInfo.InvariantCulture)} unexpected bytes after the end of the message.");
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > Remaining)
        {
            throw new WireFormatException(
                $"The message is truncated: {count.ToString(CultureInfo.InvariantCulture)} more bytes expected at offset {_position.ToString(CultureInfo.InvariantCulture)}, {Remaining.ToString(CultureInfo.InvariantCulture)} left.");
        }

        var span = _buffer.Slice(_position, count);
        _position += count;
        return span;
    }
}
