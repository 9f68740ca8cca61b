using System.Collections.Immutable;
using VolunteerCloud.Wire;

namespace VolunteerCloud.ControlPlane;

/// <summary>What a host tells the cluster about itself through the replicated state (key <c>node/{id}</c>).</summary>
/// <param name="Leaving">The host announced it will leave soon (its owner reclaims the machine): move its replicas.</param>
/// <param name="Replicas">The copies it runs or is starting.</param>
public sealed record NodeReport(bool Leaving, ImmutableArray<ReplicaRecord> Replicas)
{
    /// <summary>An empty report.</summary>
    public static NodeReport Empty { get; } = new(false, []);

    /// <summary>Encodes the report.</summary>
    public byte[] Encode()
    {
        var buffer = new byte[16 + Replicas.Sum(r => WireLength.Text(r.Replica.App) + 20)];
        var writer = new WireWriter(buffer);
        writer.WriteBoolean(Leaving);
        writer.WriteVarUInt32((uint)Replicas.Length);
        foreach (var record in Replicas)
        {
            writer.WriteString(record.Replica.App);
            writer.WriteVarInt32(record.Replica.Slot);
            writer.WriteVarInt64(record.Replica.Serial);
            writer.WriteBoolean(record.Running);
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a report.</summary>
    /// <exception cref="WireFormatException">The bytes are not a report.</exception>
    public static NodeReport Decode(ReadOnlySpan<byte> bytes)
    {
        var reader = new WireReader(bytes);
        var leaving = reader.ReadBoolean();
        var count = reader.ReadCount(100_000, minimumElementBytes: 4);
        var records = ImmutableArray.CreateBuilder<ReplicaRecord>(count);
        for (var i = 0; i < count; i++)
        {
            records.Add(new ReplicaRecord(new ReplicaId(reader.ReadString(), reader.ReadVarInt32(), reader.ReadVarInt64()), reader.ReadBoolean()));
        }

        reader.EnsureEnd();
        return new NodeReport(leaving, records.MoveToImmutable());
    }

    /// <inheritdoc />
    public bool Equals(NodeReport? other) => other is not null && Leaving == other.Leaving && Replicas.SequenceEqual(other.Replicas);

    /// <inheritdoc />
    public override int GetHashCode() => Replicas.Length;
}
