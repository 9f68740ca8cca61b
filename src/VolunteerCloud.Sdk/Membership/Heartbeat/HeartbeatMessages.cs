using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership.Heartbeat;

/// <summary>One row of a heartbeat table.</summary>
/// <param name="Node">The member.</param>
/// <param name="Generation">When the member last started, in Unix milliseconds: a restart outranks any heartbeat of the previous life.</param>
/// <param name="Heartbeat">The member's counter within this generation.</param>
/// <param name="Leaving">The member announced a graceful leave.</param>
/// <param name="Metadata">The member's metadata.</param>
internal readonly record struct HeartbeatEntry(NodeId Node, ulong Generation, ulong Heartbeat, bool Leaving, MemberMetadata Metadata)
{
    /// <summary>Encoded size in bytes.</summary>
    public int EncodedLength => WireLength.NodeId(Node) + WireLength.VarUInt(Generation) + WireLength.VarUInt(Heartbeat) + 1 + Metadata.EncodedLength;

    /// <summary>Whether this entry is newer than (<paramref name="generation"/>, <paramref name="heartbeat"/>).</summary>
    public bool IsNewerThan(ulong generation, ulong heartbeat) =>
        Generation > generation || (Generation == generation && Heartbeat > heartbeat);
}

/// <summary>A slice of the sender's heartbeat table. Type 16.</summary>
/// <param name="Entries">The rows.</param>
internal readonly record struct HeartbeatDigest(WireList<HeartbeatEntry> Entries) : IWireMessage<HeartbeatDigest>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(16);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteVarUInt32((uint)Entries.Count);
        foreach (var entry in Entries.Items.Span)
        {
            writer.WriteNodeId(entry.Node);
            writer.WriteVarUInt64(entry.Generation);
            writer.WriteVarUInt64(entry.Heartbeat);
            writer.WriteBoolean(entry.Leaving);
            entry.Metadata.Write(ref writer);
        }
    }

    /// <inheritdoc />
    public static HeartbeatDigest Read(ref WireReader reader)
    {
        var count = reader.ReadCount(4096, minimumElementBytes: 7);
        var entries = new HeartbeatEntry[count];
        for (var i = 0; i < count; i++)
        {
            entries[i] = new HeartbeatEntry(reader.ReadNodeId(), reader.ReadVarUInt64(), reader.ReadVarUInt64(), reader.ReadBoolean(), MemberMetadata.Read(ref reader));
        }

        return new HeartbeatDigest(entries);
    }
}
