using VolunteerCloud.Wire;

namespace VolunteerCloud.ControlPlane;

/// <summary>A steward asks a host to start a copy of a replica. Type 68. Idempotent: a host that already runs a copy of the app ignores it.</summary>
/// <param name="Replica">The copy.</param>
/// <param name="Spec">The app's spec, encoded (the host may not have the desired state yet).</param>
internal readonly record struct StartReplica(ReplicaId Replica, ReadOnlyMemory<byte> Spec) : IWireMessage<StartReplica>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(68);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteString(Replica.App);
        writer.WriteVarInt32(Replica.Slot);
        writer.WriteVarInt64(Replica.Serial);
        writer.WriteBytes(Spec.Span);
    }

    /// <inheritdoc />
    public static StartReplica Read(ref WireReader reader) =>
        new(new ReplicaId(reader.ReadString(), reader.ReadVarInt32(), reader.ReadVarInt64()), reader.ReadBytes().ToArray());

    /// <inheritdoc />
    public bool Equals(StartReplica other) => Replica == other.Replica && Spec.Span.SequenceEqual(other.Spec.Span);

    /// <inheritdoc />
    public override int GetHashCode() => Replica.GetHashCode();
}

/// <summary>A steward asks a host to stop a copy. Type 69. Idempotent.</summary>
/// <param name="Replica">The copy.</param>
internal readonly record struct StopReplica(ReplicaId Replica) : IWireMessage<StopReplica>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(69);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteString(Replica.App);
        writer.WriteVarInt32(Replica.Slot);
        writer.WriteVarInt64(Replica.Serial);
    }

    /// <inheritdoc />
    public static StopReplica Read(ref WireReader reader) => new(new ReplicaId(reader.ReadString(), reader.ReadVarInt32(), reader.ReadVarInt64()));
}
