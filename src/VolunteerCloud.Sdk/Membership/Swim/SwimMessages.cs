using System.Globalization;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership.Swim;

/// <summary>What a piggybacked SWIM update says about a member.</summary>
internal enum GossipKind : byte
{
    /// <summary>The member is alive at this incarnation (and here is its metadata).</summary>
    Alive = 0,

    /// <summary>The sender suspects the member at this incarnation.</summary>
    Suspect = 1,

    /// <summary>The member is dead at this incarnation; if it says so itself, it left.</summary>
    Dead = 2,
}

/// <summary>One membership update, spread by piggybacking on probes and by gossip.</summary>
/// <param name="Kind">Alive, suspect or dead.</param>
/// <param name="Node">The member the update is about.</param>
/// <param name="Incarnation">The member's incarnation the update refers to.</param>
/// <param name="From">Who suspects or declares (suspect and dead only).</param>
/// <param name="Metadata">The member's metadata (alive only).</param>
internal readonly record struct GossipItem(GossipKind Kind, NodeId Node, uint Incarnation, NodeId From, MemberMetadata Metadata)
{
    /// <summary>An alive announcement.</summary>
    public static GossipItem Alive(NodeId node, uint incarnation, MemberMetadata metadata) => new(GossipKind.Alive, node, incarnation, default, metadata);

    /// <summary>A suspicion.</summary>
    public static GossipItem Suspect(NodeId node, uint incarnation, NodeId from) => new(GossipKind.Suspect, node, incarnation, from, default);

    /// <summary>A death (or, when <paramref name="from"/> is <paramref name="node"/>, a graceful leave).</summary>
    public static GossipItem Dead(NodeId node, uint incarnation, NodeId from) => new(GossipKind.Dead, node, incarnation, from, default);

    /// <summary>The encoded size in bytes.</summary>
    public int EncodedLength =>
        1 + WireLength.NodeId(Node) + WireLength.VarUInt(Incarnation)
        + (Kind == GossipKind.Alive ? Metadata.EncodedLength : WireLength.NodeId(From));

    /// <summary>Writes the update.</summary>
    public void Write(ref WireWriter writer)
    {
        writer.WriteByte((byte)Kind);
        writer.WriteNodeId(Node);
        writer.WriteVarUInt32(Incarnation);
        if (Kind == GossipKind.Alive)
        {
            Metadata.Write(ref writer);
        }
        else
        {
            writer.WriteNodeId(From);
        }
    }

    /// <summary>Reads an update written by <see cref="Write"/>.</summary>
    public static GossipItem Read(ref WireReader reader)
    {
        var kind = reader.ReadByte();
        if (kind > (byte)GossipKind.Dead)
        {
            throw new WireFormatException($"Unknown gossip kind {kind.ToString(CultureInfo.InvariantCulture)}.");
        }

        var node = reader.ReadNodeId();
        var incarnation = reader.ReadVarUInt32();
        return (GossipKind)kind == GossipKind.Alive
            ? Alive(node, incarnation, MemberMetadata.Read(ref reader))
            : new GossipItem((GossipKind)kind, node, incarnation, reader.ReadNodeId(), default);
    }

    /// <summary>The most updates one message may carry (a 1400-byte datagram holds about 200).</summary>
    public const int MaxPerMessage = 1024;

    internal static void WriteList(ref WireWriter writer, WireList<GossipItem> items)
    {
        writer.WriteVarUInt32((uint)items.Count);
        foreach (var item in items.Items.Span)
        {
            item.Write(ref writer);
        }
    }

    internal static WireList<GossipItem> ReadList(ref WireReader reader)
    {
        var count = reader.ReadCount(MaxPerMessage, minimumElementBytes: 4);
        if (count == 0)
        {
            return WireList<GossipItem>.Empty;
        }

        var items = new GossipItem[count];
        for (var i = 0; i < count; i++)
        {
            items[i] = Read(ref reader);
        }

        return items;
    }
}

/// <summary>"Are you alive?" — a direct probe. Type 1.</summary>
/// <param name="Sequence">Matches the answer to the probe.</param>
/// <param name="Target">The node the sender means to probe (a node that is not the target drops it).</param>
/// <param name="Gossip">Piggybacked updates.</param>
internal readonly record struct SwimPing(uint Sequence, NodeId Target, WireList<GossipItem> Gossip) : IWireMessage<SwimPing>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(1);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteVarUInt32(Sequence);
        writer.WriteNodeId(Target);
        GossipItem.WriteList(ref writer, Gossip);
    }

    /// <inheritdoc />
    public static SwimPing Read(ref WireReader reader) =>
        new(reader.ReadVarUInt32(), reader.ReadNodeId(), GossipItem.ReadList(ref reader));
}

/// <summary>"Probe this node for me" — an indirect probe request. Type 2.</summary>
/// <param name="Sequence">The requester's probe sequence number, echoed in the forwarded answer.</param>
/// <param name="Target">The node to probe.</param>
/// <param name="WantNack">Whether to answer with a nack when the target stays silent (Lifeguard).</param>
/// <param name="Gossip">Piggybacked updates.</param>
internal readonly record struct SwimPingRequest(uint Sequence, NodeId Target, bool WantNack, WireList<GossipItem> Gossip) : IWireMessage<SwimPingRequest>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(2);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteVarUInt32(Sequence);
        writer.WriteNodeId(Target);
        writer.WriteBoolean(WantNack);
        GossipItem.WriteList(ref writer, Gossip);
    }

    /// <inheritdoc />
    public static SwimPingRequest Read(ref WireReader reader) =>
        new(reader.ReadVarUInt32(), reader.ReadNodeId(), reader.ReadBoolean(), GossipItem.ReadList(ref reader));
}

/// <summary>"I am alive" — the answer to a probe, direct or forwarded. Type 3.</summary>
/// <param name="Sequence">The probe's sequence number.</param>
/// <param name="Gossip">Piggybacked updates.</param>
internal readonly record struct SwimAck(uint Sequence, WireList<GossipItem> Gossip) : IWireMessage<SwimAck>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(3);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteVarUInt32(Sequence);
        GossipItem.WriteList(ref writer, Gossip);
    }

    /// <inheritdoc />
    public static SwimAck Read(ref WireReader reader) => new(reader.ReadVarUInt32(), GossipItem.ReadList(ref reader));
}

/// <summary>"The target did not answer me" — from an indirect prober (Lifeguard). Type 4.</summary>
/// <param name="Sequence">The requester's probe sequence number.</param>
/// <param name="Gossip">Piggybacked updates.</param>
internal readonly record struct SwimNack(uint Sequence, WireList<GossipItem> Gossip) : IWireMessage<SwimNack>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(4);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteVarUInt32(Sequence);
        GossipItem.WriteList(ref writer, Gossip);
    }

    /// <inheritdoc />
    public static SwimNack Read(ref WireReader reader) => new(reader.ReadVarUInt32(), GossipItem.ReadList(ref reader));
}

/// <summary>Updates only, sent every gossip interval to a few random members. Type 5.</summary>
/// <param name="Gossip">The updates.</param>
internal readonly record struct SwimGossip(WireList<GossipItem> Gossip) : IWireMessage<SwimGossip>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(5);

    /// <inheritdoc />
    public void Write(ref WireWriter writer) => GossipItem.WriteList(ref writer, Gossip);

    /// <inheritdoc />
    public static SwimGossip Read(ref WireReader reader) => new(GossipItem.ReadList(ref reader));
}

/// <summary>
/// Full-state anti-entropy: every member the sender knows, in chunks that each fit a datagram. Type 6.
/// A join and the periodic push-pull send one; the receiver merges it and, for the first chunk of a
/// request, answers with its own state.
/// </summary>
/// <param name="Join">The sender is joining through the receiver.</param>
/// <param name="Reply">This is the answer to a push-pull (so it is not answered again).</param>
/// <param name="Chunk">This chunk's number, from 0.</param>
/// <param name="Members">The members in this chunk.</param>
internal readonly record struct SwimPushPull(bool Join, bool Reply, int Chunk, WireList<Member> Members) : IWireMessage<SwimPushPull>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(6);

    /// <summary>The most members one chunk may carry.</summary>
    public const int MembersPerChunk = 2048;

    /// <summary>
    /// The most member bytes a sender puts in one chunk (48 KiB), so a chunk fits a datagram whatever the members'
    /// addresses (a member without one takes 8 to 28 bytes, so <see cref="MembersPerChunk"/> is usually reached first).
    /// </summary>
    public const int MaxChunkBytes = 48 * 1024;

    /// <summary>When set, the members are written straight from a member table (slots <see cref="FirstSlot"/> up to <see cref="EndSlot"/>) instead of <see cref="Members"/>.</summary>
    internal MemberTable? Table { get; init; }

    internal int FirstSlot { get; init; }

    internal int EndSlot { get; init; }

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteBoolean(Join);
        writer.WriteBoolean(Reply);
        writer.WriteVarUInt32((uint)Chunk);
        if (Table is { } table)
        {
            writer.WriteVarUInt32((uint)table.CountLive(FirstSlot, EndSlot));
            table.WriteMembers(ref writer, FirstSlot, EndSlot);
            return;
        }

        writer.WriteVarUInt32((uint)Members.Count);
        foreach (var member in Members.Items.Span)
        {
            WriteMember(ref writer, member);
        }
    }

    /// <inheritdoc />
    public static SwimPushPull Read(ref WireReader reader)
    {
        var join = reader.ReadBoolean();
        var reply = reader.ReadBoolean();
        var chunk = (int)reader.ReadVarUInt32();
        var count = ReadMemberCount(ref reader);
        var members = new Member[count];
        for (var i = 0; i < count; i++)
        {
            members[i] = ReadMember(ref reader);
        }

        return new SwimPushPull(join, reply, chunk, members);
    }

    /// <summary>Reads the header of a push-pull body, leaving the reader at its members (read them with <see cref="ReadMember"/>).</summary>
    public static (bool Join, bool Reply, int Chunk, int Count) ReadHeader(ref WireReader reader) =>
        (reader.ReadBoolean(), reader.ReadBoolean(), (int)reader.ReadVarUInt32(), ReadMemberCount(ref reader));

    /// <summary>Writes one member: id, state, incarnation, metadata.</summary>
    public static void WriteMember(ref WireWriter writer, in Member member)
    {
        writer.WriteNodeId(member.Id);
        writer.WriteByte((byte)member.State);
        writer.WriteVarUInt32(member.Incarnation);
        member.Metadata.Write(ref writer);
    }

    /// <summary>The bytes <see cref="WriteMember"/> writes for <paramref name="member"/>.</summary>
    public static int EncodedLength(in Member member) =>
        WireLength.NodeId(member.Id) + 1 + WireLength.VarUInt(member.Incarnation) + member.Metadata.EncodedLength;

    /// <summary>Reads one member written by <see cref="WriteMember"/>.</summary>
    public static Member ReadMember(ref WireReader reader)
    {
        var id = reader.ReadNodeId();
        var state = reader.ReadByte();
        if (state > (byte)MemberState.Left)
        {
            throw new WireFormatException($"Unknown member state {state.ToString(CultureInfo.InvariantCulture)}.");
        }

        return new Member(id, (MemberState)state, reader.ReadVarUInt32(), MemberMetadata.Read(ref reader));
    }

    private static int ReadMemberCount(ref WireReader reader) => reader.ReadCount(MembersPerChunk, minimumElementBytes: 6);
}
