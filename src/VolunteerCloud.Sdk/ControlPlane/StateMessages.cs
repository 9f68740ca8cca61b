using System.IO.Hashing;
using VolunteerCloud.Wire;

namespace VolunteerCloud.ControlPlane;

/// <summary>
/// One entry of the replicated state: a key, the value's bytes and its last-writer-wins stamp. A newer stamp
/// (higher version, then higher writer id) replaces an older one everywhere; a deleted entry is kept as a
/// tombstone so the deletion wins over older writes.
/// </summary>
/// <param name="Key">The key, e.g. <c>app/web</c> or <c>node/17</c>.</param>
/// <param name="Version">The writer's version; the higher wins.</param>
/// <param name="Writer">The node that wrote it; breaks ties between equal versions.</param>
/// <param name="Deleted">A tombstone.</param>
/// <param name="Value">The value's bytes (empty for a tombstone).</param>
public readonly record struct StateEntry(string Key, long Version, NodeId Writer, bool Deleted, ReadOnlyMemory<byte> Value)
{
    /// <summary>The most bytes a value may have (64 KiB).</summary>
    public const int MaxValueBytes = 64 * 1024;

    /// <summary>
    /// A hash of the value (and whether it is a tombstone): the last tie-breaker. Two incarnations of one node can
    /// write different values under the same (version, writer) — a restarted node does not know what its last life
    /// wrote, and a clock stepped back gives it the same wall-clock version again. Without a tie-breaker on the
    /// value, neither would ever replace the other and the nodes holding them would disagree for good.
    /// </summary>
    public ulong ValueHash => XxHash64.HashToUInt64(Value.Span, Deleted ? 1 : 0);

    /// <summary>Whether this entry's stamp beats <paramref name="other"/>'s.</summary>
    public bool Supersedes(in StateEntry other) =>
        Version > other.Version || (Version == other.Version && (Writer.Value > other.Writer.Value || (Writer == other.Writer && ValueHash > other.ValueHash)));

    /// <summary>Whether this entry's stamp beats <paramref name="stamp"/>.</summary>
    internal bool Supersedes(in StateStamp stamp) =>
        Version > stamp.Version || (Version == stamp.Version && (Writer.Value > stamp.Writer.Value || (Writer == stamp.Writer && ValueHash > stamp.ValueHash)));

    /// <summary>This entry's stamp.</summary>
    internal StateStamp Stamp => new(Key, Version, Writer, ValueHash);

    /// <summary>Encoded size.</summary>
    public int EncodedLength => WireLength.Text(Key) + WireLength.VarInt(Version) + WireLength.NodeId(Writer) + 1 + WireLength.VarUInt((uint)Value.Length) + Value.Length;

    /// <inheritdoc />
    public bool Equals(StateEntry other) =>
        Key == other.Key && Version == other.Version && Writer == other.Writer && Deleted == other.Deleted && Value.Span.SequenceEqual(other.Value.Span);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Key) ^ (int)Version;

    internal void Write(ref WireWriter writer)
    {
        writer.WriteString(Key);
        writer.WriteVarInt64(Version);
        writer.WriteNodeId(Writer);
        writer.WriteBoolean(Deleted);
        writer.WriteBytes(Value.Span);
    }

    internal static StateEntry Read(ref WireReader reader)
    {
        var key = reader.ReadString();
        var version = reader.ReadVarInt64();
        var writer = reader.ReadNodeId();
        var deleted = reader.ReadBoolean();
        var value = reader.ReadBytes();
        if (value.Length > MaxValueBytes)
        {
            throw new WireFormatException($"A state value of {value.Length} bytes exceeds {MaxValueBytes}.");
        }

        if (deleted && value.Length > 0)
        {
            throw new WireFormatException("A tombstone carries no value.");
        }

        return new StateEntry(key, version, writer, deleted, value.ToArray());
    }

    internal static void WriteList(ref WireWriter writer, WireList<StateEntry> entries)
    {
        writer.WriteVarUInt32((uint)entries.Count);
        foreach (var entry in entries.Items.Span)
        {
            entry.Write(ref writer);
        }
    }

    internal static WireList<StateEntry> ReadList(ref WireReader reader, int maximum)
    {
        var count = reader.ReadCount(maximum, minimumElementBytes: 4);
        var entries = new StateEntry[count];
        for (var i = 0; i < count; i++)
        {
            entries[i] = Read(ref reader);
        }

        return entries;
    }
}

/// <summary>A key's stamp, without its value: what anti-entropy compares.</summary>
/// <param name="Key">The key.</param>
/// <param name="Version">Its version.</param>
/// <param name="Writer">Its writer.</param>
/// <param name="ValueHash">The value's hash (<see cref="StateEntry.ValueHash"/>), the last tie-breaker.</param>
internal readonly record struct StateStamp(string Key, long Version, NodeId Writer, ulong ValueHash);

/// <summary>Entries, pushed by gossip or sent in answer to a summary or a pull. Type 64.</summary>
/// <param name="Entries">The entries.</param>
/// <param name="Sync">Sent by anti-entropy: the receiver keeps them without pushing them on.</param>
internal readonly record struct StateEntries(WireList<StateEntry> Entries, bool Sync = false) : IWireMessage<StateEntries>
{
    /// <summary>The most entries one message may carry.</summary>
    public const int MaxEntries = 65_536;

    /// <inheritdoc />
    public static MessageType MessageType => new(64);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteBoolean(Sync);
        StateEntry.WriteList(ref writer, Entries);
    }

    /// <inheritdoc />
    public static StateEntries Read(ref WireReader reader)
    {
        var sync = reader.ReadBoolean();
        return new StateEntries(StateEntry.ReadList(ref reader, MaxEntries), sync);
    }
}

/// <summary>Anti-entropy, first step: the sender's entry count and the XOR of its entries' stamp hashes. Type 65.</summary>
/// <param name="Count">Entries held (tombstones included).</param>
/// <param name="Hash">XOR of every entry's stamp hash: equal states have equal hashes.</param>
internal readonly record struct StateDigest(int Count, ulong Hash) : IWireMessage<StateDigest>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(65);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteVarUInt32((uint)Count);
        writer.WriteUInt64(Hash);
    }

    /// <inheritdoc />
    public static StateDigest Read(ref WireReader reader)
    {
        var count = reader.ReadVarUInt32();
        if (count > int.MaxValue)
        {
            throw new WireFormatException("Entry count out of range.");
        }

        return new StateDigest((int)count, reader.ReadUInt64());
    }
}

/// <summary>
/// Anti-entropy from a node that has not synced yet (<see cref="ReplicatedState.Synced"/>): a <see cref="StateDigest"/>
/// whose receiver also answers when the two states are equal, with its own digest, so the asker learns that it holds
/// the whole state. Type 71.
/// </summary>
/// <param name="Count">Entries held (tombstones included).</param>
/// <param name="Hash">XOR of every entry's stamp hash.</param>
internal readonly record struct StateDigestQuery(int Count, ulong Hash) : IWireMessage<StateDigestQuery>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(71);

    /// <inheritdoc />
    public void Write(ref WireWriter writer) => new StateDigest(Count, Hash).Write(ref writer);

    /// <inheritdoc />
    public static StateDigestQuery Read(ref WireReader reader)
    {
        var digest = StateDigest.Read(ref reader);
        return new StateDigestQuery(digest.Count, digest.Hash);
    }
}

/// <summary>
/// Anti-entropy, second step, sent when digests differ: the sender's count and the XOR of its stamp hashes per bucket
/// (a key's bucket is the top bits of its hash), so only the buckets that differ are compared stamp by stamp. Type 70.
/// </summary>
/// <param name="Count">Entries held (tombstones included).</param>
/// <param name="Hashes">One hash per bucket, <see cref="BucketCount"/> of them.</param>
internal readonly record struct StateBuckets(int Count, WireList<ulong> Hashes) : IWireMessage<StateBuckets>
{
    /// <summary>Buckets the keys are spread over (64: a summary names the buckets it covers in one 64-bit mask).</summary>
    public const int BucketCount = 64;

    /// <inheritdoc />
    public static MessageType MessageType => new(70);

    /// <summary>The bucket a key falls in.</summary>
    public static int BucketOf(string key) => BucketOf(Placement.Rendezvous.Key(key));

    internal static int BucketOf(ulong keyHash) => (int)(keyHash >> 58);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        if (Hashes.Count != BucketCount)
        {
            throw new InvalidOperationException($"A bucket digest has {BucketCount} hashes, not {Hashes.Count}.");
        }

        writer.WriteVarUInt32((uint)Count);
        foreach (var hash in Hashes.Items.Span)
        {
            writer.WriteUInt64(hash);
        }
    }

    /// <inheritdoc />
    public static StateBuckets Read(ref WireReader reader)
    {
        var count = reader.ReadVarUInt32();
        if (count > int.MaxValue)
        {
            throw new WireFormatException("Entry count out of range.");
        }

        var hashes = new ulong[BucketCount];
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i] = reader.ReadUInt64();
        }

        return new StateBuckets((int)count, hashes);
    }
}

/// <summary>
/// Anti-entropy, third step: the sender's stamps in the buckets that differ. <paramref name="Covered"/> marks the
/// buckets listed in full (bit b: bucket b), so the receiver also sends the entries of those buckets the sender
/// lacks; a bucket too large for one message is listed across several without its bit. Type 66.
/// </summary>
/// <param name="Stamps">The sender's stamps.</param>
/// <param name="Covered">Buckets whose every stamp is listed here.</param>
internal readonly record struct StateSummary(WireList<StateStamp> Stamps, ulong Covered = 0) : IWireMessage<StateSummary>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(66);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteUInt64(Covered);
        writer.WriteVarUInt32((uint)Stamps.Count);
        foreach (var stamp in Stamps.Items.Span)
        {
            writer.WriteString(stamp.Key);
            writer.WriteVarInt64(stamp.Version);
            writer.WriteNodeId(stamp.Writer);
            writer.WriteUInt64(stamp.ValueHash);
        }
    }

    /// <inheritdoc />
    public static StateSummary Read(ref WireReader reader)
    {
        var covered = reader.ReadUInt64();
        var count = reader.ReadCount(StateEntries.MaxEntries, minimumElementBytes: 11);
        var stamps = new StateStamp[count];
        for (var i = 0; i < count; i++)
        {
            stamps[i] = new StateStamp(reader.ReadString(), reader.ReadVarInt64(), reader.ReadNodeId(), reader.ReadUInt64());
        }

        return new StateSummary(stamps, covered);
    }
}

/// <summary>Anti-entropy, fourth step: the keys the sender wants (the receiver's are newer). Type 67.</summary>
/// <param name="Keys">The keys.</param>
internal readonly record struct StatePull(WireList<string> Keys) : IWireMessage<StatePull>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(67);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteVarUInt32((uint)Keys.Count);
        foreach (var key in Keys.Items.Span)
        {
            writer.WriteString(key);
        }
    }

    /// <inheritdoc />
    public static StatePull Read(ref WireReader reader)
    {
        var count = reader.ReadCount(StateEntries.MaxEntries, minimumElementBytes: 1);
        var keys = new string[count];
        for (var i = 0; i < count; i++)
        {
            keys[i] = reader.ReadString();
        }

        return new StatePull(keys);
    }
}
