using System.Globalization;

namespace VolunteerCloud.Wire;

/// <summary>
/// The envelope every datagram carries, in both the simulator and the host:
/// one byte of format version (<see cref="Version"/>), the message type as a LEB128 integer, then the
/// message body. See docs/wire-format.md.
/// </summary>
public static class WireFormat
{
    /// <summary>The format version this build writes and the only one it reads.</summary>
    public const byte Version = 1;

    /// <summary>The largest datagram: 65 507 bytes, the largest UDP payload over IPv4.</summary>
    public const int MaxDatagramBytes = 65_507;

    /// <summary>Encodes a message with its envelope into <paramref name="destination"/>.</summary>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="WireFormatException">The message does not fit <paramref name="destination"/>.</exception>
    public static int Encode<TMessage>(in TMessage message, Span<byte> destination)
        where TMessage : IWireMessage<TMessage>
    {
        var writer = new WireWriter(destination);
        writer.WriteByte(Version);
        writer.WriteVarUInt32(TMessage.MessageType.Value);
        message.Write(ref writer);
        return writer.BytesWritten;
    }

    /// <summary>Encodes a message with its envelope into a new array.</summary>
    public static byte[] ToArray<TMessage>(in TMessage message)
        where TMessage : IWireMessage<TMessage>
    {
        var buffer = new byte[MaxDatagramBytes];
        var length = Encode(in message, buffer);
        return buffer.AsSpan(0, length).ToArray();
    }

    /// <summary>Reads a datagram's envelope.</summary>
    /// <exception cref="WireFormatException">The datagram is empty, too long, of another format version, or has an invalid type.</exception>
    public static InboundMessage Decode(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length > MaxDatagramBytes)
        {
            throw new WireFormatException(
                $"A datagram of {datagram.Length.ToString(CultureInfo.InvariantCulture)} bytes exceeds the {MaxDatagramBytes.ToString(CultureInfo.InvariantCulture)}-byte limit.");
        }

        var reader = new WireReader(datagram);
        var version = reader.ReadByte();
        if (version != Version)
        {
            throw new WireFormatException(
                $"Wire format version {version.ToString(CultureInfo.InvariantCulture)} is not supported (this build speaks version {Version.ToString(CultureInfo.InvariantCulture)}).");
        }

        var type = reader.ReadVarUInt32();
        if (type is 0 or > ushort.MaxValue)
        {
            throw new WireFormatException($"Message type {type.ToString(CultureInfo.InvariantCulture)} is not valid.");
        }

        return new InboundMessage(new MessageType((ushort)type), datagram[reader.BytesRead..], datagram.Length);
    }
}

/// <summary>A received message whose envelope has been read; its body is decoded on demand.</summary>
public readonly ref struct InboundMessage
{
    /// <summary>Wraps a decoded envelope.</summary>
    /// <param name="type">The message type from the envelope.</param>
    /// <param name="body">The body that follows the envelope.</param>
    /// <param name="datagramBytes">The whole datagram's size, envelope included.</param>
    public InboundMessage(MessageType type, ReadOnlySpan<byte> body, int datagramBytes)
    {
        Type = type;
        Body = body;
        DatagramBytes = datagramBytes;
    }

    /// <summary>The message type.</summary>
    public MessageType Type { get; }

    /// <summary>The encoded body; valid only during the call that received it.</summary>
    public ReadOnlySpan<byte> Body { get; }

    /// <summary>The size of the whole datagram, envelope included.</summary>
    public int DatagramBytes { get; }

    /// <summary>Whether this is a <typeparamref name="TMessage"/>.</summary>
    public bool Is<TMessage>()
        where TMessage : IWireMessage<TMessage> => Type == TMessage.MessageType;

    /// <summary>Decodes the body as a <typeparamref name="TMessage"/>.</summary>
    /// <exception cref="WireFormatException">The message is of another type, or its body is malformed or has trailing bytes.</exception>
    public TMessage Read<TMessage>()
        where TMessage : IWireMessage<TMessage>
    {
        if (!Is<TMessage>())
        {
            throw new WireFormatException($"Expected a {typeof(TMessage).Name} ({TMessage.MessageType}), got {Type}.");
        }

        var reader = new WireReader(Body);
        var message = TMessage.Read(ref reader);
        reader.EnsureEnd();
        return message;
    }
}
