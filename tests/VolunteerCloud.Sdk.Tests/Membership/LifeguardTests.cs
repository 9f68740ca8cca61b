using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Swim;

namespace VolunteerCloud.Sdk.Tests.Membership;

/// <summary>The Lifeguard extensions, observed in the simulator.</summary>
public sealed class LifeguardTests
{
    private static readonly NodeId First = new(0);

    private static MembershipCluster Settled(SwimOptions options, int nodes = 10, ulong seed = 11)
    {
        var cluster = new MembershipCluster(new SwimMembershipFactory(options), seed);
        cluster.Add();
        cluster.AddMany(nodes - 1, First);
        cluster.RunFor(TimeSpan.FromSeconds(20));
        Assert.Null(cluster.Disagreement());
        return cluster;
    }

    private static SwimMembership Swim(MembershipCluster cluster, NodeId node) => (SwimMembership)cluster[node];

    [Fact]
    public void A_node_cut_off_from_everyone_loses_health_and_slows_its_probing_then_recovers()
    {
        using var cluster = Settled(new SwimOptions());
        var isolated = new NodeId(4);
        var probesBefore = Swim(cluster, isolated).Counters.ProbesSent;

        cluster.Simulation.Network.Partition([isolated]);
        cluster.RunFor(TimeSpan.FromSeconds(30));

        // Every probe fails and no nack comes back: the score climbs to its ceiling (7) and the probe interval
        // stretches up to 8 s, so far fewer than the 30 probes of a healthy node go out.
        Assert.Equal(7, Swim(cluster, isolated).HealthScore);
        Assert.InRange(Swim(cluster, isolated).Counters.ProbesSent - probesBefore, 5, 15);
        Assert.All(cluster.Live.Where(n => n != isolated), n => Assert.Equal(0, Swim(cluster, n).HealthScore));

        cluster.Simulation.Network.Heal();
        cluster.RunFor(TimeSpan.FromSeconds(60));
        Assert.Equal(0, Swim(cluster, isolated).HealthScore);
        Assert.Null(cluster.Disagreement());
    }

    [Fact]
    public void A_suspected_node_hears_of_it_and_refutes_before_it_is_declared_dead()
    {
        using var cluster = Settled(new SwimOptions());
        var victim = new NodeId(6);

        // Cut the victim off just long enough to be suspected (a probe interval and a bit), not to be declared dead.
        cluster.Simulation.Network.Partition([victim]);
        var suspected = false;
        for (var i = 0; i < 100 && !suspected; i++)
        {
            cluster.RunFor(TimeSpan.FromMilliseconds(100));
            suspected = cluster.Changes.Any(c => c.Change.Node == victim && c.Change.Current == MemberState.Suspect);
        }

        Assert.True(suspected);
        cluster.Simulation.Network.Heal();
        cluster.RunFor(TimeSpan.FromSeconds(30));

        Assert.True(Swim(cluster, victim).Counters.Refutations >= 1);
        Assert.DoesNotContain(cluster.Changes, c => c.Change.Node == victim && c.Change.Current == MemberState.Dead);
        Assert.All(cluster.Live, n => Assert.True(cluster[n].View.Single(m => m.Id == victim).Incarnation > 1));
        Assert.Null(cluster.Disagreement());
    }

    [Fact]
    public void Independent_confirmations_shorten_the_suspicion()
    {
        // 10 members: min = 4 s, max = 24 s, k = 2. A crash is confirmed by other probers, so members are declared
        // dead well before the 24 s an unconfirmed suspicion would take.
        using var cluster = Settled(new SwimOptions());
        var victim = new NodeId(3);
        var crashedAt = cluster.Simulation.Now;
        cluster.Crash(victim);
        cluster.RunFor(TimeSpan.FromSeconds(60));

        var suspectedAt = cluster.Changes.Where(c => c.Change.Node == victim && c.Change.Current == MemberState.Suspect).Min(c => c.At);
        var deadAt = cluster.Changes.Where(c => c.Change.Node == victim && c.Change.Current == MemberState.Dead).Min(c => c.At);
        Assert.InRange(deadAt - suspectedAt, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(20));
        Assert.True(deadAt - crashedAt < TimeSpan.FromSeconds(24));
    }

    [Fact]
    public void Without_the_suspicion_stage_a_failed_probe_is_a_death()
    {
        using var cluster = Settled(new SwimOptions { Suspicion = false });
        var victim = new NodeId(2);
        cluster.Crash(victim);
        cluster.RunFor(TimeSpan.FromSeconds(30));

        Assert.DoesNotContain(cluster.Changes, c => c.Change.Node == victim && c.Change.Current == MemberState.Suspect);
        Assert.All(cluster.Live, n => Assert.False(cluster[n].View.IsAlive(victim)));
    }

    [Fact]
    public void Dead_members_are_forgotten_after_GossipToTheDeadTime()
    {
        using var cluster = Settled(new SwimOptions { GossipToTheDeadTime = TimeSpan.FromSeconds(10) });
        var victim = new NodeId(8);
        cluster.Crash(victim);
        cluster.RunFor(TimeSpan.FromSeconds(60));

        Assert.All(cluster.Live, n => Assert.False(cluster[n].View.TryGetMember(victim, out _)));
        Assert.All(cluster.Live, n => Assert.Contains(cluster.Changes, c => c.Observer == n && c.Change.Node == victim && c.Change.Removed));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_two_sides_of_a_long_partition_find_each_other_again_by_reconnecting_to_forgotten_members(bool reconnect)
    {
        var options = new SwimOptions { ReconnectTimeout = reconnect ? TimeSpan.FromHours(24) : TimeSpan.Zero };
        using var cluster = Settled(options);
        var left = Enumerable.Range(0, 5).Select(i => new NodeId(i)).ToArray();
        cluster.Simulation.Network.Partition(left);
        cluster.RunFor(TimeSpan.FromMinutes(3)); // declared dead (suspicion ≈ 4 s) and forgotten (30 s later) on both sides
        Assert.All(left, n => Assert.False(cluster[n].View.TryGetMember(new NodeId(9), out _)));
        Assert.All(Enumerable.Range(5, 5), n => Assert.False(cluster[new NodeId(n)].View.TryGetMember(First, out _)));

        cluster.Simulation.Network.Heal();
        cluster.RunFor(TimeSpan.FromMinutes(3)); // a reconnect every 30 s with probability failed ÷ alive = 1/2
        if (reconnect)
        {
            Assert.Null(cluster.Disagreement());
            Assert.True(cluster.Live.Sum(n => cluster[n].Counters.ReconnectsAttempted) > 0);
        }
        else
        {
            Assert.NotNull(cluster.Disagreement()); // memberlist alone: each side has forgotten the other for good
        }
    }

    [Fact]
    public void A_malformed_message_is_counted_and_dropped()
    {
        using var cluster = Settled(new SwimOptions(), nodes: 3);
        var node = new NodeId(1);
        var bytes = VolunteerCloud.Wire.WireFormat.ToArray(new SwimAck(1, default));

        cluster.Simulation.ScheduleOnNode(TimeSpan.Zero, node, c =>
            Assert.True(cluster[node].TryHandleMessage(c, First, VolunteerCloud.Wire.WireFormat.Decode(bytes.AsSpan(0, bytes.Length - 1)))));
        cluster.RunFor(TimeSpan.FromSeconds(1));

        Assert.Equal(1, cluster[node].Counters.MalformedMessages);
    }
}
