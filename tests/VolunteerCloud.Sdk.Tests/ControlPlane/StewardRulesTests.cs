using VolunteerCloud.Apps;
using VolunteerCloud.Availability;
using VolunteerCloud.Containers;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Placement;

namespace VolunteerCloud.Sdk.Tests.ControlPlane;

/// <summary>
/// The steward's rules, tested once: both fidelities (the real node's steward and the simulator's modelled one) call
/// these functions, so what they decide about the same facts is the same.
/// </summary>
public sealed class StewardRulesTests
{
    private static readonly ResidualUptimeEstimator Survival = new();
    private static readonly TimeSpan Now = TimeSpan.FromHours(10);

    private static ClusterState Cluster(int hosts, int eligible)
    {
        var cluster = new ClusterState();
        for (var i = 0; i < hosts; i++)
        {
            var index = cluster.Add(new NodeId(i), new ResourceAmount(4, 8L << 30), (ushort)(i % 3));
            cluster.SetEligible(index, i < eligible);
            cluster.HistoryOf(index).SessionStarted(TimeSpan.Zero);
        }

        cluster.Now = Now;
        return cluster;
    }

    [Fact]
    public void The_target_is_the_handlers_at_the_share_of_eligible_hosts_and_zero_for_a_removed_app()
    {
        var spec = new AppSpec("web", "web:1") { Replicas = 2, AvailabilityTarget = 0.999 };

        Assert.Equal(2, StewardRules.Target(spec, Cluster(10, 5), new ReactiveChurnHandler()));
        Assert.Equal(10, StewardRules.Target(spec, Cluster(10, 5), new ReplicationChurnHandler())); // a = 0.5: k = 10 for 99.9%
        Assert.Equal(2, StewardRules.Target(spec, new ClusterState(), new ReplicationChurnHandler())); // no hosts known: a = 1
        Assert.Equal(0, StewardRules.Target(null, Cluster(10, 5), new ReplicationChurnHandler()));
    }

    [Theory]
    [InlineData(59, true, false)]
    [InlineData(60, true, false)] // the deadline itself still waits
    [InlineData(61, true, true)]
    [InlineData(1, false, true)] // its host is gone
    public void A_pending_start_expires_after_its_deadline_or_with_its_host(int seconds, bool hostAlive, bool expired) =>
        Assert.Equal(expired, StewardRules.StartExpired(TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(60), hostAlive));

    [Fact]
    public void Copies_on_a_host_down_for_the_grace_period_are_lost_and_within_it_still_count()
    {
        var cluster = Cluster(3, 3);
        var reactive = new ReactiveChurnHandler(TimeSpan.FromSeconds(30));

        Assert.True(StewardRules.Judge(false, Now, Now - TimeSpan.FromSeconds(30), false, cluster, 0, reactive, Survival).Lost);
        Assert.Equal(new HostStanding(false, false, false), StewardRules.Judge(false, Now, Now - TimeSpan.FromSeconds(29), false, cluster, 0, reactive, Survival));
        Assert.Equal(new HostStanding(false, true, false), StewardRules.Judge(true, Now, TimeSpan.Zero, true, cluster, 0, reactive, Survival)); // reactive never migrates
    }

    [Fact]
    public void The_proactive_handler_moves_copies_off_a_live_host_on_notice_or_short_residual_uptime_never_off_a_down_one()
    {
        var cluster = Cluster(3, 3);
        cluster.HistoryOf(1).SessionEnded(Now); // host 1 is not up: its residual uptime is the population's from age 0
        var onNotice = new ProactiveChurnHandler(residualThresholdHours: 0);
        var predicting = new ProactiveChurnHandler(residualThresholdHours: 1e6);

        Assert.True(StewardRules.Judge(true, Now, TimeSpan.Zero, leaving: true, cluster, 0, onNotice, Survival).Migrate);
        Assert.False(StewardRules.Judge(true, Now, TimeSpan.Zero, leaving: false, cluster, 0, onNotice, Survival).Migrate);
        Assert.True(StewardRules.Judge(true, Now, TimeSpan.Zero, leaving: false, cluster, 0, predicting, Survival).Migrate);
        Assert.False(StewardRules.Judge(true, Now, TimeSpan.Zero, leaving: false, cluster, -1, predicting, Survival).Migrate); // unknown host: unbounded
        Assert.False(StewardRules.Judge(false, Now, Now, leaving: true, cluster, 0, onNotice, Survival).Migrate);
    }

    [Fact]
    public void Copies_enter_the_plan_as_pending_or_as_reported_with_their_hosts_standing()
    {
        var replica = new ReplicaId("web", 1, 7);

        Assert.Equal(new StewardCopy(replica, new NodeId(4), false, true, false), StewardRules.Pending(replica, new NodeId(4)));
        Assert.Equal(new StewardCopy(replica, new NodeId(4), true, false, true), StewardRules.Reported(replica, new NodeId(4), true, new HostStanding(false, false, true)));
    }

    [Fact]
    public void A_placement_request_avoids_the_hosts_in_use_and_their_regions_once_each()
    {
        var cluster = Cluster(6, 6); // regions 0, 1, 2, 0, 1, 2
        var spec = new AppSpec("web", "web:1") { Limits = new ResourceAmount(0.5, 256L << 20) };

        var request = StewardRules.Request(spec, 2, [new NodeId(0), new NodeId(3), new NodeId(4), new NodeId(99)], cluster);

        Assert.Equal(("web", 2, spec.Limits), (request.App, request.Replica, request.Limits));
        Assert.Equal([new NodeId(0), new NodeId(3), new NodeId(4), new NodeId(99)], request.Avoid.ToArray());
        Assert.Equal([(ushort)0, (ushort)1], request.UsedRegions.ToArray()); // host 99 is unknown: no region
    }
}
