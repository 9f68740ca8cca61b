using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Heartbeat;
using VolunteerCloud.Membership.Registry;
using VolunteerCloud.Membership.Swim;
using VolunteerCloud.Testing;

namespace VolunteerCloud.Sdk.Tests.Membership;

// The Sdk's own protocols against the conformance suite that VolunteerCloud.Testing ships.

public sealed class SwimConformanceTests : MembershipConformanceTests
{
    protected override IMembershipProtocolFactory CreateFactory() => new SwimMembershipFactory(new SwimOptions());

    protected override TimeSpan SettleTime => TimeSpan.FromSeconds(60);

    /// <summary>
    /// Found by FsCheck: node 0 leaves, and later restarts (at incarnation 1 again) while others still hold it
    /// "left at 1"; they tell it so (a stale notice), it refutes, and the views agree.
    /// </summary>
    [Fact]
    public void A_member_that_rejoins_at_an_old_incarnation_is_told_and_refutes()
    {
        using var cluster = Cluster(seed: 36);
        RunScript(cluster, [181, 146, 121, 255, 21, 254, 9, 165, 135, 33, 215, 27]);
        Settle(cluster);

        Assert.True(cluster.Live.Sum(n => cluster[n].Counters.StaleNotices) > 0);
        Assert.True(cluster[new NodeId(0)].Counters.Refutations > 0);
    }
}

/// <summary>Members that announce nothing about themselves, as in every <c>vcsim membership</c> study: their join and push-pull messages were malformed until #21.</summary>
public sealed class SwimWithoutMetadataConformanceTests : MembershipConformanceTests
{
    protected override IMembershipProtocolFactory CreateFactory() => new SwimMembershipFactory(new SwimOptions());

    protected override TimeSpan SettleTime => TimeSpan.FromSeconds(60);

    protected override MemberMetadata Metadata => MemberMetadata.None;
}

/// <summary>Members that announce a gossip address and an API port, as real hosts do: the largest members the table holds.</summary>
public sealed class SwimWithAddressesConformanceTests : MembershipConformanceTests
{
    protected override IMembershipProtocolFactory CreateFactory() => new SwimMembershipFactory(new SwimOptions());

    protected override TimeSpan SettleTime => TimeSpan.FromSeconds(60);

    protected override MemberMetadata Metadata => new(3, 4000, 8192) { Address = "volunteer-host.example.org:7946", ApiPort = 8080 };
}

public sealed class SwimWithoutLifeguardConformanceTests : MembershipConformanceTests
{
    protected override IMembershipProtocolFactory CreateFactory() => new SwimMembershipFactory(new SwimOptions { Lifeguard = false });

    protected override TimeSpan SettleTime => TimeSpan.FromSeconds(60);
}

public sealed class HeartbeatGossipConformanceTests : MembershipConformanceTests
{
    protected override IMembershipProtocolFactory CreateFactory() => new HeartbeatGossipMembershipFactory(new HeartbeatGossipOptions());

    protected override TimeSpan SettleTime => TimeSpan.FromSeconds(60);

    /// <summary>Found by FsCheck: node 4 restarts through node 2 before node 2 has found its previous life dead, and node 2 crashes 0.4 s later.</summary>
    [Fact]
    public void A_restart_answered_before_its_seed_dies_is_not_left_alone()
    {
        using var cluster = Cluster(seed: 0);
        RunScript(cluster, [38, 166, 17, 55, 41, 187, 185, 38, 11, 61]);
        Settle(cluster);
    }
}

public sealed class HeartbeatPhiAccrualConformanceTests : MembershipConformanceTests
{
    protected override IMembershipProtocolFactory CreateFactory() => new HeartbeatGossipMembershipFactory(new HeartbeatGossipOptions { PhiAccrual = true });

    protected override TimeSpan SettleTime => TimeSpan.FromSeconds(60);

    /// <summary>Found by FsCheck: without Akka's first-heartbeat estimate, phi judged a newcomer dead from two bursty intervals.</summary>
    [Fact]
    public void A_newcomer_is_not_judged_on_its_first_bursty_heartbeats()
    {
        using var cluster = Cluster(seed: 28);
        RunScript(cluster, [5, 56, 13, 55, 121, 5, 133, 68, 21, 184]);
        cluster.RunFor(SettleTime);

        Assert.DoesNotContain(cluster.Changes, c => c.Change.Current == MemberState.Dead && !c.Change.Removed
            && cluster.WasLiveAt(c.Observer, c.At) && cluster.WasContinuouslyLive(c.Change.Node, c.At));
    }
}

public sealed class CentralRegistryConformanceTests : MembershipConformanceTests
{
    protected override IMembershipProtocolFactory CreateFactory() => new CentralRegistryMembershipFactory(new CentralRegistryOptions { Registry = new NodeId(0) });

    protected override TimeSpan SettleTime => TimeSpan.FromSeconds(60);

    protected override bool FirstNodeMayFail => false;
}
