namespace VolunteerCloud.Wire;

/// <summary>Encoded sizes of the wire format's variable-length primitives, for budgeting a datagram before writing it.</summary>
internal static class WireLength
{
    /// <summary>Bytes of an unsigned LEB128 integer.</summary>
    public static int VarUInt(ulong value) => value < 0x80 ? 1 : (70 - System.Numerics.BitOperations.LeadingZeroCount(value)) / 7;

    /// <summary>Bytes of a zig-zag LEB128 integer.</summary>
    public static int VarInt(long value) => VarUInt((ulong)((value << 1) ^ (value >> 63)));

    /// <summary>Bytes of a string: its UTF-8 length, then the bytes.</summary>
    public static int Text(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var bytes = System.Text.Encoding.UTF8.GetByteCount(value);
        return VarUInt((uint)bytes) + bytes;
    }

    /// <summary>Bytes of a node id.</summary>
    public static int NodeId(NodeId node) => VarUInt((uint)node.Value);
}
