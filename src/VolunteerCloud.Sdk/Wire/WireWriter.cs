using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace VolunteerCloud.Wire;

/// <summary>
/// Writes the primitives of the wire format into a caller's buffer: fixed-width little-endian integers and
/// IEEE doubles, LEB128 variable-length integers (zig-zag for signed ones), and length-prefixed bytes and
/// UTF-8 strings. Never allocates.
/// </summary>
public ref struct WireWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    /// <summary>Creates a writer that fills <paramref name="buffer"/> from its start.</summary>
    public WireWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    /// <summary>How many bytes have been written.</summary>
    public readonly int BytesWritten => _position;

    /// <summary>The bytes written so far.</summary>
    public readonly ReadOnlySpan<byte> WrittenSpan => _buffer[.._position];

    /// <summary>Writes one byte.</summary>
    public void WriteByte(byte value) => Reserve(1)[0] = value;

    /// <summary>Writes a boolean as one byte (0 or 1).</summary>
    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    /// <summary>Writes a 16-bit unsigned integer, little-endian.</summary>
    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Reserve(2), value);

    /// <summary>Writes a 32-bit unsigned integer, little-endian.</summary>
    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), value);

    /// <summary>Writes a 64-bit unsigned integer, little-endian.</summary>
    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), value);

    /// <summary>Writes a 64-bit signed integer, little-endian.</summary>
    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Reserve(8), value);

    /// <summary>Writes a double as its 8 IEEE 754 bytes, little-endian.</summary>
    public void WriteDouble(double value) => BinaryPrimitives.WriteDoubleLittleEndian(Reserve(8), value);

    /// <summary>Writes an unsigned integer in 1 to 10 bytes (LEB128).</summary>
    public void WriteVarUInt64(ulong value)
    {
        if (_buffer.Length - _position >= 10)
        {
            // Fast path: room for the longest form, so one bounds check for the whole integer.
            var span = _buffer[_position..];
            var i = 0;
            while (value >= 0x80)
            {
                span[i++] = (byte)(value | 0x80);
                value >>= 7;
            }

            span[i++] = (byte)value;
            _position += i;
            return;
        }

        while (value >= 0x80)
        {
            WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        WriteByte((byte)value);
    }

    /// <summary>Writes an unsigned integer in 1 to 5 bytes (LEB128).</summary>
    public void WriteVarUInt32(uint value) => WriteVarUInt64(value);

    /// <summary>Writes a signed integer in 1 to 10 bytes (zig-zag, then LEB128).</summary>
    public void WriteVarInt64(long value) => WriteVarUInt64((ulong)((value << 1) ^ (value >> 63)));

    /// <summary>Writes a signed integer in 1 to 5 bytes (zig-zag, then LEB128).</summary>
    public void WriteVarInt32(int value) => WriteVarUInt64((uint)((value << 1) ^ (value >> 31)));

    /// <summary>Writes a node id.</summary>
    /// <exception cref="WireFormatException">The id is negative.</exception>
    public void WriteNodeId(NodeId node)
    {
        if (node.Value < 0)
        {
            throw new WireFormatException($"Node ids are never negative; got {node.Value.ToString(CultureInfo.InvariantCulture)}.");
        }

        WriteVarUInt32((uint)node.Value);
    }

    /// <summary>Writes a duration as its ticks (signed variable-length integer).</summary>
    public void WriteTimeSpan(TimeSpan value) => WriteVarInt64(value.Ticks);

    /// <summary>Writes bytes preceded by their length.</summary>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteVarUInt32((uint)value.Length);
        value.CopyTo(Reserve(value.Length));
    }

    /// <summary>Writes a string as UTF-8 preceded by its byte length.</summary>
    /// <exception cref="WireFormatException">The string holds a lone surrogate, which UTF-8 cannot carry.</exception>
    public void WriteString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int length;
        try
        {
            length = StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException e)
        {
            throw new WireFormatException("A string with a lone surrogate cannot be written as UTF-8.", e);
        }

        WriteVarUInt32((uint)length);
        StrictUtf8.GetBytes(value, Reserve(length));
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private Span<byte> Reserve(int count)
    {
        if (count > _buffer.Length - _position)
        {
            throw new WireFormatException(
                $"The message does not fit its {_buffer.Length.ToString(CultureInfo.InvariantCulture)}-byte buffer.");
        }

        var span = _buffer.Slice(_position, count);
        _position += count;
        return span;
    }
}
