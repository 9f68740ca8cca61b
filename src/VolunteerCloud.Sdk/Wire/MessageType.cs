using System.Globalization;

namespace VolunteerCloud.Wire;

/// <summary>
/// The number that tells message types apart on the wire. Ranges: 1–63 membership, 64–127 control plane,
/// 128–191 host and administration, 192–255 research workloads and benchmarks, 256 and up for integrators'
/// own protocols. Zero is never a valid type. See docs/wire-format.md.
/// </summary>
/// <param name="Value">The type's number.</param>
public readonly record struct MessageType(ushort Value)
{
    /// <summary>Formats the type as <c>msg</c> followed by its number, e.g. <c>msg193</c>.</summary>
    public override string ToString() => "msg" + Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// A message that can cross the wire. Implementations are immutable (ideally <c>readonly record struct</c>s)
/// and write and read only their body; the envelope (format version and type) is added by
/// <see cref="WireFormat"/>.
/// </summary>
/// <typeparam name="TSelf">The implementing type.</typeparam>
public interface IWireMessage<TSelf>
    where TSelf : IWireMessage<TSelf>
{
    /// <summary>The message's type number; unique across all message types of a cluster.</summary>
    static abstract MessageType MessageType { get; }

    /// <summary>Writes the message body.</summary>
    void Write(ref WireWriter writer);

    /// <summary>Reads a message body written by <see cref="Write"/>.</summary>
    /// <exception cref="WireFormatException">The body is truncated or malformed.</exception>
    static abstract TSelf Read(ref WireReader reader);
}

/// <summary>Bytes that do not form a valid message, or a message that does not fit its limits.</summary>
public sealed class WireFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WireFormatException()
    {
    }

    /// <summary>Creates the exception with a message that says what was wrong.</summary>
    public WireFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public WireFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
