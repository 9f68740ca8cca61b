using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Registry;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Sdk.Tests.Membership;

public sealed class CentralRegistryTests
{
    private static readonly NodeId Registry = new(0);

    private static MembershipCluster Cluster() => new(new CentralRegistryMembershipFactory(new CentralRegistryOptions { Registry = Registry }), 4);

    [Fact]
    public void A_view_in_chunks_is_adopted_only_when_every_chunk_has_come_in_any_order()
    {
        using var cluster = Cluster();
        cluster.Add();
        var member = cluster.Add(Registry);
        cluster.RunFor(TimeSpan.FromSeconds(5));
        Member[] Chunk(int first) => Enumerable.Range(first, 3).Select(i => new Member(new NodeId(100 + i), MemberState.Alive, 1, default)).ToArray();
        byte[] Encode(int chunk) => WireFormat.ToArray(new RegistryView(uint.MaxValue - 1, 1, chunk, 3, Chunk(chunk * 3)));

        foreach (var chunk in new[] { 2, 0, 2 })
        {
            var bytes = Encode(chunk);
            cluster.Simulation.ScheduleOnNode(TimeSpan.Zero, member, c => cluster[member].TryHandleMessage(c, Registry, WireFormat.Decode(bytes)));
        }

        cluster.Simulation.RunFor(TimeSpan.FromMilliseconds(1));
        Assert.False(cluster[member].View.TryGetMember(new NodeId(100), out _)); // chunk 1 still missing

        var last = Encode(1);
        cluster.Simulation.ScheduleOnNode(TimeSpan.Zero, member, c => cluster[member].TryHandleMessage(c, Registry, WireFormat.Decode(last)));
        cluster.Simulation.RunFor(TimeSpan.FromMilliseconds(1));

        Assert.Equal(Enumerable.Range(100, 9).Select(i => new NodeId(i)).Append(member).Order(), cluster[member].View.Select(m => m.Id));
    }

    [Fact]
    public void A_restarted_registry_is_listened_to_again()
    {
        using var cluster = Cluster();
        cluster.Add();
        cluster.AddMany(5, Registry);
        cluster.RunFor(TimeSpan.FromSeconds(20));
        cluster.Crash(Registry);
        cluster.RunFor(TimeSpan.FromSeconds(20));
        cluster.Restart(Registry);
        cluster.RunFor(TimeSpan.FromSeconds(5));
        cluster.Crash(new NodeId(3));
        cluster.RunFor(TimeSpan.FromSeconds(30));

        Assert.Null(cluster.Disagreement());
    }

    [Fact]
    public void A_member_that_left_but_keeps_running_does_not_come_back()
    {
        using var cluster = Cluster();
        cluster.Add();
        cluster.AddMany(3, Registry);
        cluster.RunFor(TimeSpan.FromSeconds(10));
        var leaver = new NodeId(2);

        cluster.Leave(leaver, linger: TimeSpan.FromMinutes(5));
        cluster.RunFor(TimeSpan.FromMinutes(3));

        Assert.DoesNotContain(cluster.Changes, c => c.Change.Node == leaver && c.Change.Previous is null && c.At > TimeSpan.FromSeconds(10));
        Assert.All(cluster.Live, n => Assert.False(cluster[n].View.TryGetMember(leaver, out _)));
    }
}
