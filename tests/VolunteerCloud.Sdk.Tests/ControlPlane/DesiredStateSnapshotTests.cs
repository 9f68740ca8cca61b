using FsCheck.Xunit;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Sdk.Tests.ControlPlane;

public sealed class DesiredStateSnapshotTests
{
    /// <summary>
    /// Entries from random inputs: any name (lone surrogates dropped: no UTF-8 string holds one), version (negative
    /// too), writer, tombstone or value of any bytes.
    /// </summary>
    private static List<StateEntry> Entries((string Name, long Version, int Writer, bool Deleted, byte[] Value)[] raw) =>
        [.. (raw ?? []).Select(r => new StateEntry("app/" + new string([.. (r.Name ?? "").Where(c => !char.IsSurrogate(c))]), r.Version, new NodeId(r.Writer & 0x7FFF_FFFF), r.Deleted, r.Deleted ? ReadOnlyMemory<byte>.Empty : (r.Value ?? [])))];

    [Property(MaxTest = 300)]
    public void Every_entry_comes_back_with_its_stamp_and_value(string name, long version, int writer, bool deleted, byte[] value, (string, long, int, bool, byte[])[] more)
    {
        var entries = Entries([(name, version, writer, deleted, value), .. more ?? []]);
        var back = DesiredStateSnapshot.Decode(DesiredStateSnapshot.Encode(entries));
        Assert.Equal(entries, back); // StateEntry's equality compares the value's bytes
    }

    [Property(MaxTest = 300)]
    public void Any_damaged_byte_or_cut_is_refused_whole(string name, byte[] value, int at, byte flip)
    {
        var bytes = DesiredStateSnapshot.Encode(Entries([(name, 7, 3, false, value)]));
        var damaged = (byte[])bytes.Clone();
        var i = (int)((uint)at % (uint)damaged.Length);
        damaged[i] ^= (byte)(flip | 1); // never a no-op
        Assert.Throws<WireFormatException>(() => DesiredStateSnapshot.Decode(damaged));
        Assert.Throws<WireFormatException>(() => DesiredStateSnapshot.Decode(bytes.AsSpan(0, i)));
    }

    [Property(MaxTest = 2000)]
    public void Any_body_behind_a_valid_header_and_checksum_decodes_or_fails_only_with_a_wire_format_error(byte[] body)
    {
        // The checksum stops random bytes at the door; this goes past it, into the count and the entries.
        body ??= [];
        var bytes = new byte[5 + body.Length + 8];
        "VCDS"u8.CopyTo(bytes);
        bytes[4] = DesiredStateSnapshot.Format;
        body.CopyTo(bytes, 5);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(5 + body.Length), System.IO.Hashing.XxHash64.HashToUInt64(bytes.AsSpan(0, 5 + body.Length)));
        try
        {
            Assert.All(DesiredStateSnapshot.Decode(bytes), e => Assert.True(e.Key.StartsWith("app/", StringComparison.Ordinal) || e.Key == "cluster/id", e.Key));
        }
        catch (WireFormatException)
        {
        }
    }

    [Fact]
    public void The_clusters_id_is_kept_beside_the_apps_and_a_format_1_snapshot_of_an_earlier_version_still_reads_but_may_hold_only_apps()
    {
        var cluster = new StateEntry("cluster/id", 1, new NodeId(0), false, Enumerable.Range(0, 16).Select(i => (byte)i).ToArray());
        var web = new StateEntry("app/web", 4, new NodeId(2), false, new byte[] { 9 });
        var back = DesiredStateSnapshot.Decode(DesiredStateSnapshot.Encode([web, cluster]));
        Assert.Equal([web, cluster], back);
        Assert.Equal("000102030405060708090a0b0c0d0e0f", ControlPlaneNode.ClusterIdOf(back));
        Assert.Null(ControlPlaneNode.ClusterIdOf([web]));

        static byte[] Format1(params StateEntry[] entries)
        {
            var bytes = DesiredStateSnapshot.Encode(entries);
            bytes[4] = 1;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8), System.IO.Hashing.XxHash64.HashToUInt64(bytes.AsSpan(0, bytes.Length - 8)));
            return bytes;
        }

        Assert.Equal([web], DesiredStateSnapshot.Decode(Format1(web)));
        Assert.Contains("('cluster/id') is not one a format 1 snapshot holds", Assert.Throws<WireFormatException>(() => DesiredStateSnapshot.Decode(Format1(web, cluster))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_state_is_a_snapshot_too()
    {
        Assert.Empty(DesiredStateSnapshot.Decode(DesiredStateSnapshot.Encode([])));
    }

    [Fact]
    public void Errors_say_what_is_wrong()
    {
        var host = new StateEntry("node/4", 1, new NodeId(4), false, new byte[] { 1 });
        Assert.Contains("'node/4' is not an app's entry", Assert.Throws<ArgumentException>(() => DesiredStateSnapshot.Encode([host])).Message, StringComparison.Ordinal);

        Assert.Contains("does not start with \"VCDS\"", Assert.Throws<WireFormatException>(() => DesiredStateSnapshot.Decode("{\"apps\":[]}"u8)).Message, StringComparison.Ordinal);

        var future = DesiredStateSnapshot.Encode([]);
        future[4] = 3;
        Assert.Contains("format 3 is not one this version reads (1–2)", Assert.Throws<WireFormatException>(() => DesiredStateSnapshot.Decode(future)).Message, StringComparison.Ordinal);
    }
}
