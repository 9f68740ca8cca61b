using VolunteerCloud.Wire;

namespace VolunteerCloud.Simulator.Workloads.Averaging;

/// <summary>"Here is my value; send me yours." Sent once per cycle to a random neighbour.</summary>
/// <param name="Value">The sender's current value.</param>
public readonly record struct AverageRequest(double Value) : IWireMessage<AverageRequest>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(192);

    /// <inheritdoc />
    public void Write(ref WireWriter writer) => writer.WriteDouble(Value);

    /// <inheritdoc />
    public static AverageRequest Read(ref WireReader reader) => new(reader.ReadDouble());
}

/// <summary>The answer to an <see cref="AverageRequest"/>: the receiver's value before it averaged.</summary>
/// <param name="Value">The replying node's value before the exchange.</param>
public readonly record struct AverageReply(double Value) : IWireMessage<AverageReply>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(193);

    /// <inheritdoc />
    public void Write(ref WireWriter writer) => writer.WriteDouble(Value);

    /// <inheritdoc />
    public static AverageReply Read(ref WireReader reader) => new(reader.ReadDouble());
}
