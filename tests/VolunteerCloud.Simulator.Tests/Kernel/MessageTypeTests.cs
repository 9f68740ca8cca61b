using VolunteerCloud.ControlPlane;
using System.Reflection;
using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Heartbeat;
using VolunteerCloud.Membership.Registry;
using VolunteerCloud.Membership.Swim;
using VolunteerCloud.Simulator.Workloads.Averaging;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Simulator.Tests.Kernel;

/// <summary>Every message type of the Sdk and the Simulator round-trips through the wire format, and no two share a type number.</summary>
public sealed class MessageTypeTests
{
    /// <summary>Sample values per message type: extremes and ordinary values. A new message type must add its own.</summary>
    private static readonly Dictionary<Type, object[]> Samples = new()
    {
        [typeof(AverageRequest)] = [new AverageRequest(0), new AverageRequest(-1.5e300), new AverageRequest(double.Epsilon), new AverageRequest(5_000.5)],
        [typeof(AverageReply)] = [new AverageReply(1), new AverageReply(double.MaxValue), new AverageReply(-0.0)],
        [typeof(SwimPing)] = [new SwimPing(0, new NodeId(0), default), new SwimPing(uint.MaxValue, new NodeId(int.MaxValue), Gossip)],
        [typeof(SwimPingRequest)] = [new SwimPingRequest(7, new NodeId(3), true, default), new SwimPingRequest(8, new NodeId(300), false, Gossip)],
        [typeof(SwimAck)] = [new SwimAck(1, default), new SwimAck(123_456, Gossip)],
        [typeof(SwimNack)] = [new SwimNack(9, default), new SwimNack(10, Gossip)],
        [typeof(SwimGossip)] = [new SwimGossip(default), new SwimGossip(Gossip)],
        [typeof(SwimPushPull)] = [new SwimPushPull(true, false, 0, default), new SwimPushPull(false, true, 3, Members)],
        [typeof(HeartbeatDigest)] =
        [
            new HeartbeatDigest(default),
            new HeartbeatDigest(new[] { new HeartbeatEntry(new NodeId(1), 946_684_800_000, ulong.MaxValue, false, Metadata), new HeartbeatEntry(new NodeId(2), 1, 0, true, default) }),
        ],
        [typeof(RegistryHeartbeat)] = [new RegistryHeartbeat(946_684_800, false, Metadata), new RegistryHeartbeat(uint.MaxValue, true, default)],
        [typeof(StateEntries)] =
        [
            new StateEntries(default),
            new StateEntries(default, Sync: true),
            new StateEntries(new[] { new StateEntry("app/web", 1, new NodeId(3), false, new byte[] { 1, 2, 3 }), new StateEntry("é/ß", long.MaxValue, new NodeId(int.MaxValue), true, ReadOnlyMemory<byte>.Empty) }),
        ],
        [typeof(StartReplica)] =
        [
            new StartReplica(new ReplicaId("web", 0, 0), ReadOnlyMemory<byte>.Empty),
            new StartReplica(new ReplicaId("app0199", int.MaxValue, long.MinValue), VolunteerCloud.ControlPlane.AppSpecCodec.Encode(new VolunteerCloud.Apps.AppSpec("web", "registry.local:5000/web:1") { Replicas = 3 })),
        ],
        [typeof(StopReplica)] = [new StopReplica(new ReplicaId("", -1, 1)), new StopReplica(new ReplicaId("web", 2, long.MaxValue))],
        [typeof(StateDigest)] = [new StateDigest(0, 0), new StateDigest(int.MaxValue, ulong.MaxValue)],
        [typeof(StateDigestQuery)] = [new StateDigestQuery(0, 0), new StateDigestQuery(int.MaxValue, ulong.MaxValue)],
        [typeof(StateSummary)] = [new StateSummary(default), new StateSummary(new[] { new StateStamp("node/1", -1, new NodeId(0), 0), new StateStamp("", 5, new NodeId(9), ulong.MaxValue) }, ulong.MaxValue)],
        [typeof(StateBuckets)] = [new StateBuckets(0, new ulong[StateBuckets.BucketCount]), new StateBuckets(int.MaxValue, Enumerable.Range(0, StateBuckets.BucketCount).Select(i => (ulong)i * 0x9E3779B97F4A7C15UL).ToArray())],
        [typeof(StatePull)] = [new StatePull(default), new StatePull(new[] { "app/web", "" })],
        [typeof(RegistryView)] = [new RegistryView(1, 0, 0, 1, default), new RegistryView(uint.MaxValue, long.MaxValue, 2, 3, Members)],
    };

    private static readonly MemberMetadata Metadata = new(ushort.MaxValue, -1, int.MaxValue);

    private static readonly WireList<GossipItem> Gossip = new[]
    {
        GossipItem.Alive(new NodeId(5), 1, Metadata),
        GossipItem.Suspect(new NodeId(6), 2, new NodeId(7)),
        GossipItem.Dead(new NodeId(8), uint.MaxValue, new NodeId(8)),
    };

    private static readonly WireList<Member> Members = new[]
    {
        new Member(new NodeId(0), MemberState.Alive, 1, Metadata),
        new Member(new NodeId(1), MemberState.Suspect, 2, default),
        new Member(new NodeId(2), MemberState.Dead, 3, default),
        new Member(new NodeId(int.MaxValue), MemberState.Left, uint.MaxValue, new MemberMetadata(4, 5, 6) { Address = "10.201.2.2:7946", ApiPort = 8080 }),
    };

    private static IEnumerable<Type> AllMessageTypes() =>
        new[] { typeof(WireFormat).Assembly, typeof(Simulation).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => !t.IsAbstract && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IWireMessage<>)));

    [Fact]
    public void Every_message_type_has_samples_here()
    {
        Assert.Equal(AllMessageTypes().OrderBy(t => t.FullName), Samples.Keys.OrderBy(t => t.FullName));
    }

    [Fact]
    public void Every_message_type_round_trips()
    {
        var roundTrip = typeof(MessageTypeTests).GetMethod(nameof(RoundTrip), BindingFlags.NonPublic | BindingFlags.Static)!;
        foreach (var (type, values) in Samples)
        {
            foreach (var value in values)
            {
                // Equal values, and the very same bytes when encoded again (so -0.0 stays -0.0).
                var (back, same) = ((object, bool))roundTrip.MakeGenericMethod(type).Invoke(null, [value])!;
                Assert.Equal(value, back);
                Assert.True(same, $"{value} re-encodes differently");
            }
        }
    }

    [Fact]
    public void Message_type_numbers_are_unique()
    {
        var numbers = AllMessageTypes()
            .Select(t => (MessageType)t.GetProperty("MessageType", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!)
            .ToList();

        Assert.Equal(numbers.Count, numbers.Distinct().Count());
        Assert.DoesNotContain(new MessageType(0), numbers);
    }

    private static (object, bool) RoundTrip<T>(T message)
        where T : IWireMessage<T>
    {
        var bytes = WireFormat.ToArray(message);
        var back = WireFormat.Decode(bytes).Read<T>();
        return (back, WireFormat.ToArray(back).AsSpan().SequenceEqual(bytes));
    }
}
