using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership.Registry;

/// <summary>A member's heartbeat to the registry. Type 32.</summary>
/// <param name="Generation">When the member last started (Unix seconds).</param>
/// <param name="Leaving">The member is leaving on purpose.</param>
/// <param name="Metadata">The member's metadata.</param>
internal readonly record struct RegistryHeartbeat(uint Generation, bool Leaving, MemberMetadata Metadata) : IWireMessage<RegistryHeartbeat>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(32);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteVarUInt32(Generation);
        writer.WriteBoolean(Leaving);
        Metadata.Write(ref writer);
    }

    /// <inheritdoc />
    public static RegistryHeartbeat Read(ref WireReader reader) =>
        new(reader.ReadVarUInt32(), reader.ReadBoolean(), MemberMetadata.Read(ref reader));
}

/// <summary>The registry's view, pushed to members in chunks. Type 33.</summary>
/// <param name="Generation">When the registry last started (Unix seconds): a restarted registry's views win over its old life's.</param>
/// <param name="Version">The registry's view version within its generation: members keep the newest complete one.</param>
/// <param name="Chunk">This chunk's number, from 0.</param>
/// <param name="ChunkCount">How many chunks the view has.</param>
/// <param name="Members">The members in this chunk.</param>
internal readonly record struct RegistryView(uint Generation, long Version, int Chunk, int ChunkCount, WireList<Member> Members) : IWireMessage<RegistryView>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(33);
    /// <summary>The most chunks a view may have.</summary>
    public const int MaxChunks = 1024;

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteVarUInt32(Generation);
        writer.WriteVarInt64(Version);
        writer.WriteVarUInt32((uint)Chunk);
        writer.WriteVarUInt32((uint)ChunkCount);
        writer.WriteVarUInt32((uint)Members.Count);
        foreach (var member in Members.Items.Span)
        {
            Swim.SwimPushPull.WriteMember(ref writer, member);
        }
    }

    /// <inheritdoc />
    public static RegistryView Read(ref WireReader reader)
    {
        var generation = reader.ReadVarUInt32();
        var version = reader.ReadVarInt64();
        var chunk = reader.ReadVarUInt32();
        var chunkCount = reader.ReadVarUInt32();
        if (chunkCount is < 1 or > MaxChunks || chunk >= chunkCount)
        {
            throw new WireFormatException($"Chunk {chunk} of {chunkCount} is not valid.");
        }

        var count = reader.ReadCount(Swim.SwimPushPull.MembersPerChunk, minimumElementBytes: 6);
        var members = new Member[count];
        for (var i = 0; i < count; i++)
        {
            members[i] = Swim.SwimPushPull.ReadMember(ref reader);
        }

        return new RegistryView(generation, version, (int)chunk, (int)chunkCount, members);
    }
}
