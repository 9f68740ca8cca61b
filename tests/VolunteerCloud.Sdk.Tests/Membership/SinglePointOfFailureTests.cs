using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Registry;
using VolunteerCloud.Membership.Swim;

namespace VolunteerCloud.Sdk.Tests.Membership;

/// <summary>The central registry's loss is visible; SWIM, with no special node, keeps working in the same scenario.</summary>
public sealed class SinglePointOfFailureTests
{
    private static readonly NodeId First = new(0);

    /// <summary>12 nodes settle; node 0 crashes; node 5 crashes 10 s later; 2 minutes pass.</summary>
    private static MembershipCluster Scenario(IMembershipProtocolFactory factory)
    {
        var cluster = new MembershipCluster(factory, seed: 3);
        cluster.Add();
        cluster.AddMany(11, First);
        cluster.RunFor(TimeSpan.FromSeconds(30));
        Assert.Null(cluster.Disagreement());
        cluster.Crash(First);
        cluster.RunFor(TimeSpan.FromSeconds(10));
        cluster.Crash(new NodeId(5));
        cluster.RunFor(TimeSpan.FromMinutes(2));
        return cluster;
    }

    [Fact]
    public void Without_its_registry_every_view_freezes()
    {
        using var cluster = Scenario(new CentralRegistryMembershipFactory(new CentralRegistryOptions { Registry = First }));
        var crashTime = TimeSpan.FromSeconds(30);

        // Nobody learns anything after the registry is gone: not its own death, not node 5's.
        Assert.DoesNotContain(cluster.Changes, c => c.At > crashTime && c.Observer != First);
        Assert.All(cluster.Live, node =>
        {
            Assert.True(cluster[node].View.IsAlive(First));
            Assert.True(cluster[node].View.IsAlive(new NodeId(5)));
        });
        Assert.NotNull(cluster.Disagreement());
    }

    [Fact]
    public void Swim_keeps_detecting_failures_in_the_same_scenario()
    {
        using var cluster = Scenario(new SwimMembershipFactory(new SwimOptions()));

        Assert.Null(cluster.Disagreement());
        Assert.All(cluster.Live, node =>
        {
            Assert.False(cluster[node].View.IsAlive(First));
            Assert.False(cluster[node].View.IsAlive(new NodeId(5)));
        });
    }
}
