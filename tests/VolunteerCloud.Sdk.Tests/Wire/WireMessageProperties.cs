using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Heartbeat;
using VolunteerCloud.Membership.Registry;
using VolunteerCloud.Membership.Swim;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Sdk.Tests.Wire;

/// <summary>
/// Every wire format of the Sdk round-trips for any value, driven from one list (<see cref="Formats"/>): a message
/// type without an entry fails <see cref="Every_message_type_of_the_Sdk_has_a_generator"/>, so a field added to a
/// writer is exercised against its reader from the day it is added. Members are written two ways — from a list, and
/// straight from a node's member table — and both must read back as the same members.
/// </summary>
public sealed class WireMessageProperties
{
    /// <summary>One wire format: how to make any value, write it and read it back.</summary>
    public sealed record Format(string Name, Type Type, Gen<object> Values, Func<object, byte[]> Write, Func<byte[], object> Read);

    /// <summary>The formats: every <see cref="IWireMessage{TSelf}"/> of the Sdk, and the codecs of replicated values.</summary>
    public static readonly IReadOnlyList<Format> Formats =
    [
        Message(from s in Sequence from n in Node from g in GossipList select new SwimPing(s, n, g)),
        Message(from s in Sequence from n in Node from nack in Bool from g in GossipList select new SwimPingRequest(s, n, nack, g)),
        Message(from s in Sequence from g in GossipList select new SwimAck(s, g)),
        Message(from s in Sequence from g in GossipList select new SwimNack(s, g)),
        Message(GossipList.Select(g => new SwimGossip(g))),
        Message(from isJoin in Bool from reply in Bool from chunk in Count from m in MemberList select new SwimPushPull(isJoin, reply, chunk, m)),
        Message(Gen.ArrayOf(HeartbeatRow).Select(e => new HeartbeatDigest(e))),
        Message(from g in Sequence from leaving in Bool from m in Metadata select new RegistryHeartbeat(g, leaving, m)),
        Message(from g in Sequence from v in Long from chunks in Gen.Choose(1, RegistryView.MaxChunks) from chunk in Gen.Choose(0, chunks - 1) from m in MemberList
                select new RegistryView(g, v, chunk, chunks, m)),
        Message(from e in Gen.ArrayOf(Entry) from sync in Bool select new StateEntries(e, sync)),
        Message(from c in Count from h in Hash select new StateDigest(c, h)),
        Message(from c in Count from h in Hash select new StateDigestQuery(c, h)),
        Message(from c in Count from h in Gen.ArrayOf(Hash, StateBuckets.BucketCount) select new StateBuckets(c, h)),
        Message(from s in Gen.ArrayOf(Stamp) from covered in Hash select new StateSummary(s, covered)),
        Message(Gen.ArrayOf(Text).Select(keys => new StatePull(keys))),
        Message(from r in Replica from spec in Bytes select new StartReplica(r, spec)),
        Message(Replica.Select(r => new StopReplica(r))),
        Value(
            "NodeReport",
            from leaving in Bool from replicas in Gen.ArrayOf(from r in Replica from running in Bool select new ReplicaRecord(r, running))
            select new NodeReport(leaving, [.. replicas]),
            r => r.Encode(),
            b => NodeReport.Decode(b)),
    ];

    public static TheoryData<string> FormatNames() => [.. Formats.Select(f => f.Name)];

    [Fact]
    public void Every_message_type_of_the_Sdk_has_a_generator()
    {
        var messageTypes = typeof(WireFormat).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IWireMessage<>)))
            .Select(t => t.FullName)
            .Order();

        Assert.Equal(messageTypes, Formats.Select(f => f.Type.FullName).Where(n => messageTypes.Contains(n)).Order());
        Assert.Equal(Formats.Count, Formats.Select(f => f.Name).Distinct().Count());
    }

    /// <summary>Any value reads back equal, and encodes again to the very same bytes.</summary>
    [Theory]
    [MemberData(nameof(FormatNames))]
    public void Any_value_round_trips(string name)
    {
        var format = Formats.Single(f => f.Name == name);
        Prop.ForAll(format.Values.ToArbitrary(), value =>
        {
            var bytes = format.Write(value);
            var back = format.Read(bytes);
            Assert.Equal(value, back);
            Assert.Equal(bytes, format.Write(back));
        }).QuickCheckThrowOnFailure();
    }

    /// <summary>
    /// A push-pull or join is written straight from the sender's member table; read back, it must give the table's
    /// members in slot order — any mix of members with and without metadata, any states and incarnations, with the
    /// holes removals leave, cut into chunks at any slots, as a push-pull, a reply or a join.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property A_member_table_written_in_place_reads_back_as_its_members() =>
        Prop.ForAll(TableScript.ToArbitrary(), script =>
        {
            var table = new MemberTable();
            var order = new List<NodeId>();
            foreach (var (member, removeAt) in script.Members)
            {
                if (!table.TryFind(member.Id, out _))
                {
                    table.Add(member.Id, member.State, member.Incarnation, member.Metadata, nowTicks: 0);
                    order.Add(member.Id);
                }

                if (removeAt is { } k && order.Count > 0)
                {
                    var id = order[k % order.Count];
                    table.TryFind(id, out var slot);
                    table.Remove(slot);
                    order.Remove(id);
                }
            }

            var cut = table.SlotCount == 0 ? 0 : script.Cut % (table.SlotCount + 1);
            foreach (var (first, end) in new[] { (0, cut), (cut, table.SlotCount) })
            {
                var expected = Enumerable.Range(first, end - first).Where(s => !table.IsFree(s)).Select(table.MemberAt).ToArray();
                var sent = new SwimPushPull(script.Join, script.Reply, script.Chunk, default) { Table = table, FirstSlot = first, EndSlot = end };
                var back = WireFormat.Decode(WireFormat.ToArray(sent)).Read<SwimPushPull>();

                Assert.Equal((script.Join, script.Reply, script.Chunk), (back.Join, back.Reply, back.Chunk));
                Assert.Equal(expected, back.Members.Items.ToArray());
                // The same members written from a list are the same bytes: one format, two writers.
                Assert.Equal(WireFormat.ToArray(new SwimPushPull(script.Join, script.Reply, script.Chunk, expected)), WireFormat.ToArray(sent));
            }
        });

    [Fact]
    public void A_table_of_members_without_metadata_reads_back()
    {
        // The case that broke (#21): a table that never saw metadata wrote three zero bytes per member where the
        // format has five fields, so the second member was read from the middle of the first.
        var table = new MemberTable();
        table.Add(new NodeId(1), MemberState.Alive, 1, MemberMetadata.None, 0);
        table.Add(new NodeId(2), MemberState.Suspect, 7, MemberMetadata.None, 0);
        var sent = new SwimPushPull(Join: true, Reply: false, 0, default) { Table = table, FirstSlot = 0, EndSlot = table.SlotCount };

        var back = WireFormat.Decode(WireFormat.ToArray(sent)).Read<SwimPushPull>();

        Assert.Equal([table.MemberAt(0), table.MemberAt(1)], back.Members.Items.ToArray());
    }

    public sealed record Script((Member Member, int? RemoveAt)[] Members, int Cut, bool Join, bool Reply, int Chunk);

    private static Gen<Script> TableScript =>
        from members in Gen.ArrayOf(
            from m in Member(Gen.Choose(0, 200).Select(i => new NodeId(i)))
            from remove in Gen.Frequency([(3, Gen.Constant<int?>(null)), (1, Gen.Choose(0, 1000).Select(i => (int?)i))])
            select (m, remove))
        from cut in Gen.Choose(0, 1000)
        from isJoin in Bool
        from reply in Bool
        from chunk in Count
        select new Script(members, cut, isJoin, reply, chunk);

    private static Format Message<T>(Gen<T> values)
        where T : IWireMessage<T> =>
        new(typeof(T).Name, typeof(T), values.Select(v => (object)v!), v => WireFormat.ToArray((T)v), b => WireFormat.Decode(b).Read<T>());

    private static Format Value<T>(string name, Gen<T> values, Func<T, byte[]> encode, Func<byte[], T> decode)
        where T : notnull =>
        new(name, typeof(T), values.Select(v => (object)v), v => encode((T)v), b => decode(b));

    // ---- generators: extremes as well as ordinary values, since varints change length at 7-bit steps ----

    private static Gen<bool> Bool => ArbMap.Default.GeneratorFor<bool>();

    private static Gen<uint> Sequence => Gen.OneOf(Gen.Elements(0u, 127u, 128u, uint.MaxValue), ArbMap.Default.GeneratorFor<DoNotSize<uint>>().Select(d => d.Item));

    private static Gen<int> Count => Gen.OneOf(Gen.Choose(0, 300), Gen.Elements(0, int.MaxValue), ArbMap.Default.GeneratorFor<DoNotSize<int>>().Select(d => d.Item & int.MaxValue));

    private static Gen<long> Long => Gen.OneOf(Gen.Elements(0L, long.MinValue, long.MaxValue, -1L), ArbMap.Default.GeneratorFor<DoNotSize<long>>().Select(d => d.Item));

    private static Gen<ulong> Hash => Gen.OneOf(Gen.Elements(0UL, ulong.MaxValue), ArbMap.Default.GeneratorFor<DoNotSize<ulong>>().Select(d => d.Item));

    private static Gen<NodeId> Node => Count.Select(i => new NodeId(i));

    /// <summary>Text of any Unicode scalar values, ASCII most often, at most 40 of them.</summary>
    private static Gen<string> Text =>
        Gen.ArrayOf(Gen.Frequency([(6, Gen.Choose(0x20, 0x7E)), (1, Gen.Choose(0, 0x1F)), (1, Gen.Choose(0x80, 0xD7FF)), (1, Gen.Choose(0xE000, 0x10FFFF))]))
            .Select(points => string.Concat(points.Take(40).Select(char.ConvertFromUtf32)));

    private static Gen<string> Address => Gen.OneOf(Gen.Constant(string.Empty), Gen.Elements("10.201.2.2:7946", "[fe80::1%eth0]:7946", "volunteer.example.org:7946"), Text);

    private static Gen<MemberMetadata> Metadata =>
        Gen.Frequency([
            (1, Gen.Constant(MemberMetadata.None)),
            (3, from region in Gen.Choose(0, ushort.MaxValue)
                from cpu in ArbMap.Default.GeneratorFor<DoNotSize<int>>()
                from memory in ArbMap.Default.GeneratorFor<int>()
                from address in Address
                from port in Gen.Choose(0, ushort.MaxValue)
                select new MemberMetadata((ushort)region, cpu.Item, memory) { Address = address, ApiPort = (ushort)port }),
        ]);

    private static Gen<Member> Member(Gen<NodeId> ids) =>
        from id in ids
        from state in Gen.Elements(MemberState.Alive, MemberState.Suspect, MemberState.Dead, MemberState.Left)
        from incarnation in Sequence
        from metadata in Metadata
        select new Member(id, state, incarnation, metadata);

    private static Gen<WireList<Member>> MemberList => Gen.ArrayOf(Member(Node)).Select(m => new WireList<Member>(m));

    private static Gen<GossipItem> Gossip =>
        Gen.OneOf(
            from n in Node from i in Sequence from m in Metadata select GossipItem.Alive(n, i, m),
            from n in Node from i in Sequence from sender in Node select GossipItem.Suspect(n, i, sender),
            from n in Node from i in Sequence from sender in Node select GossipItem.Dead(n, i, sender));

    private static Gen<WireList<GossipItem>> GossipList => Gen.ArrayOf(Gossip).Select(g => new WireList<GossipItem>(g));

    private static Gen<HeartbeatEntry> HeartbeatRow =>
        from n in Node from g in Hash from h in Hash from leaving in Bool from m in Metadata select new HeartbeatEntry(n, g, h, leaving, m);

    private static Gen<byte[]> Bytes => Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>());

    private static Gen<StateEntry> Entry =>
        from key in Text from v in Long from w in Node from deleted in Bool from value in Bytes
        select new StateEntry(key, v, w, deleted, deleted ? Array.Empty<byte>() : value);

    private static Gen<StateStamp> Stamp => from key in Text from v in Long from w in Node from h in Hash select new StateStamp(key, v, w, h);

    private static Gen<ReplicaId> Replica => from app in Text from slot in ArbMap.Default.GeneratorFor<DoNotSize<int>>() from serial in Long select new ReplicaId(app, slot.Item, serial);
}
