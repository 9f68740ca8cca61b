using VolunteerCloud.Apps;
using VolunteerCloud.Containers;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Swim;
using VolunteerCloud.Placement;
using VolunteerCloud.Simulator.Churn;
using VolunteerCloud.Simulator.Containers;
using VolunteerCloud.Simulator.ControlPlane;
using VolunteerCloud.Simulator.Network;

namespace VolunteerCloud.Simulator.Tests.ControlPlane;

public sealed class ControlPlaneTests
{
    private static ControlPlaneScenario Small(ulong seed) => new()
    {
        Hosts = 120,
        Apps = 12,
        Replicas = 3,
        Churn = new AvailabilityModel("microsoft99", ChurnPresets.Microsoft99.Up, ChurnPresets.Microsoft99.Down)
        {
            Reclaim = new ReclaimNotices(0.5, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)),
        },
        Duration = TimeSpan.FromHours(12),
        Seed = seed,
    };

    [Theory]
    [InlineData("reactive")]
    [InlineData("proactive")]
    [InlineData("replication")]
    public void Apps_stay_available_under_churn_and_every_invariant_holds(string handler)
    {
        IChurnHandler Make() => handler switch
        {
            "reactive" => new ReactiveChurnHandler(),
            "proactive" => new ProactiveChurnHandler(),
            _ => new ReplicationChurnHandler(),
        };
        var result = ControlPlaneLab.Run(Small(3) with { ChurnHandler = Make });
        Assert.True(result.InvariantViolations == 0, string.Join("; ", result.ViolationExamples));
        Assert.Equal(0, result.AppsLost);
        Assert.True(result.MeanAvailability > 0.97, $"{handler}: availability {result.MeanAvailability:P2} (seed 3)");
        Assert.True(result.MeanAnyAvailability > 0.999, $"{handler}: some replica up {result.MeanAnyAvailability:P3} (seed 3)");
        Assert.True(result.ReplicaStarts > 12 * 3, $"churn should have moved replicas: {result.ReplicaStarts} starts for 36 replicas");
    }

    [Fact]
    public void When_the_fixed_controller_dies_restoring_stops_but_leaderless_stewards_carry_on()
    {
        var crash = TimeSpan.FromHours(2);
        var leaderless = ControlPlaneLab.Run(Small(5) with { CrashControllerAt = crash });
        var controller = ControlPlaneLab.Run(Small(5) with { CrashControllerAt = crash, PinnedController = true });

        // Availability over the last 6 hours (samples are one minute apart from minute 10).
        double Late(ControlPlaneResult r) => r.AvailabilityOverTime.Skip(r.AvailabilityOverTime.Length - 360).Average();
        Assert.True(Late(leaderless) > 0.95, $"leaderless: {Late(leaderless):P1} whole in the last 6 h");
        Assert.True(Late(controller) < Late(leaderless) - 0.2, $"controller: {Late(controller):P1} vs leaderless {Late(leaderless):P1}");
        Assert.Equal(0, leaderless.AppsLost);
        Assert.Equal(0, leaderless.InvariantViolations);
    }

    [Fact]
    public void A_mass_failure_of_half_the_hosts_loses_no_app_and_every_app_is_whole_again()
    {
        var result = ControlPlaneLab.Run(Small(7) with { MassFailureShare = 0.5, MassFailureAt = TimeSpan.FromHours(3), Duration = TimeSpan.FromHours(6) });
        Assert.Equal(0, result.AppsLost);
        Assert.True(result.InvariantViolations == 0, string.Join("; ", result.ViolationExamples));
        Assert.True(result.WholeAgainSecondsAfterMassFailure is > 0 and < 1800, $"whole again after {result.WholeAgainSecondsAfterMassFailure} s");
    }

    [Theory]
    [InlineData(0.999, 0.81, 5)]
    [InlineData(0.999, 0.25, 20)] // 25 needed, capped at 20
    [InlineData(0.99, 0.5, 7)]
    [InlineData(0.9, 0.9, 1)]
    public void Replication_for_a_target_keeps_k_equal_log_1_minus_A_over_log_1_minus_a(double target, double hostAvailability, int k)
    {
        Assert.Equal(k, ReplicationChurnHandler.ReplicasFor(target, hostAvailability, 20));
        var handler = new ReplicationChurnHandler();
        Assert.Equal(Math.Max(2, k), handler.TargetReplicas(new AppSpec("a", "i") { Replicas = 2, AvailabilityTarget = target }, hostAvailability));
        Assert.Equal(2, handler.TargetReplicas(new AppSpec("a", "i") { Replicas = 2 }, hostAvailability));
    }

    [Fact]
    public void On_real_SWIM_a_deployed_app_runs_on_distinct_hosts_survives_a_host_crash_and_scales_and_is_removed()
    {
        const int n = 8;
        using var simulation = new Simulation(new SimulationOptions { Seed = 11, Network = { Latency = LatencyModel.Constant(TimeSpan.FromMilliseconds(5)) } });
        simulation.EnableContainers(new ContainerSimulationOptions
        {
            Images = { ["web:1"] = new SimulatedImage(20_000_000) },
            Hosts = _ => new SimulatedHost(new ResourceAmount(2, 4L << 30), 10_000_000_000, 100e6),
        });
        var factory = new SwimMembershipFactory(new SwimOptions());
        var seeds = new[] { new NodeId(0) };
        var options = new ControlPlaneOptions();
        ControlPlaneNode Create(NodeId id) => new(id, factory.Create(new MembershipSetup(id, new MemberMetadata(0, 2000, 4096), seeds)), new PowerOfChoicesPlacement(2), new ReactiveChurnHandler(TimeSpan.FromSeconds(5)), options);
        for (var i = 0; i < n; i++)
        {
            simulation.AddNode(Create(new NodeId(i)));
        }

        ControlPlaneNode Node(int i) => (ControlPlaneNode)simulation.GetNode(new NodeId(i))!;
        List<(int Host, ReplicaRecord Copy)> Running() =>
            [.. Enumerable.Range(0, n).Where(i => simulation.IsUp(new NodeId(i))).SelectMany(i => Node(i).LocalReplicas.Where(r => r.Running).Select(r => (i, r)))];

        simulation.RunFor(TimeSpan.FromSeconds(20)); // membership converges
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(5), c => Node(5).Deploy(c, new AppSpec("web", "web:1") { Replicas = 3, Limits = new ResourceAmount(1, 512L << 20) }));
        simulation.RunFor(TimeSpan.FromSeconds(60));
        var running = Running();
        Assert.Equal(3, running.Count);
        Assert.Equal(3, running.Select(r => r.Host).Distinct().Count());
        Assert.Equal([0, 1, 2], running.Select(r => r.Copy.Replica.Slot).Order());

        // Crash a host that runs a copy (not the steward, to see a plain reschedule; stewards are covered above).
        var steward = Node(0).StewardOf("web");
        var victim = running.First(r => new NodeId(r.Host) != steward).Host;
        simulation.Crash(new NodeId(victim));
        simulation.RunFor(TimeSpan.FromSeconds(60));
        running = Running();
        Assert.Equal(3, running.Count);
        Assert.DoesNotContain(victim, running.Select(r => r.Host));
        Assert.Equal(3, running.Select(r => r.Host).Distinct().Count());

        // The crashed host returns empty; scaling and removal go through any node.
        simulation.Restart(new NodeId(victim), Create(new NodeId(victim)));
        var via = victim == 2 ? 3 : 2; // not the restarted host: it has not learnt the desired state yet
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(via), c => Node(via).Scale(c, "web", 5));
        simulation.RunFor(TimeSpan.FromSeconds(90));
        Assert.Equal(5, Running().Count);
        Assert.Equal(5, Running().Select(r => r.Host).Distinct().Count());

        // A host that restarted and has not relearnt the desired state yet accepts a deploy of the same app: the
        // later change wins everywhere, although the node wrote it knowing no version of the app.
        simulation.Crash(new NodeId(6));
        simulation.Restart(new NodeId(6), Create(new NodeId(6)));
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(6), c =>
        {
            Assert.Empty(Node(6).Apps);
            Node(6).Deploy(c, new AppSpec("web", "web:1") { Replicas = 4, Limits = new ResourceAmount(1, 512L << 20) });
        });
        simulation.RunFor(TimeSpan.FromSeconds(90));
        Assert.All(Enumerable.Range(0, n), i => Assert.Equal(4, Node(i).Apps.Single().Replicas));
        Assert.Equal(4, Running().Count);

        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(7), c => Node(7).Remove(c, "web"));
        simulation.RunFor(TimeSpan.FromSeconds(90));
        Assert.Empty(Running());
        Assert.All(Enumerable.Range(0, n), i => Assert.Empty(Node(i).Apps));
    }

    [Fact]
    public void A_cluster_restarted_as_a_whole_gets_its_apps_back_from_snapshots_and_a_stale_snapshot_loses_to_later_changes()
    {
        const int n = 6;
        const ulong seed = 13;
        using var simulation = DaemonLikeCluster(seed, n, out var create);
        ControlPlaneNode Node(int i) => (ControlPlaneNode)simulation.GetNode(new NodeId(i))!;
        int Copies(string app) => Enumerable.Range(0, n).Sum(i => Node(i).LocalReplicas.Count(r => r.Running && r.Replica.App == app));
        AppSpec Spec(string name, int replicas) => new(name, "web:1") { Replicas = replicas, Limits = new ResourceAmount(0.25, 64L << 20) };
        string? cluster = null;
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(0), c => cluster = Node(0).FoundCluster(c)); // as the daemon's founder
        simulation.RunFor(TimeSpan.FromSeconds(20));
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(1), c => Node(1).Deploy(c, Spec("web", 3)));
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(2), c => Node(2).Deploy(c, Spec("api", 2)));
        simulation.RunFor(TimeSpan.FromSeconds(60));
        var stale = DesiredStateSnapshot.Encode(Node(3).DesiredEntries); // node 3 keeps this one and misses what follows
        Assert.Equal(3, DesiredStateSnapshot.Decode(stale).Count); // two apps and the cluster's id

        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(4), c => Node(4).Scale(c, "web", 2));
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(5), c => Node(5).Remove(c, "api"));
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(0), c => Node(0).Deploy(c, Spec("db", 1)));
        simulation.RunFor(TimeSpan.FromSeconds(60));
        Assert.Equal((2, 0, 1), (Copies("web"), Copies("api"), Copies("db")));

        // Only nodes 3 (stale) and 5 kept a snapshot; every node crashes, every copy is gone, all restart empty.
        var kept = new Dictionary<int, byte[]> { [3] = stale, [5] = DesiredStateSnapshot.Encode(Node(5).DesiredEntries) };
        for (var i = 0; i < n; i++)
        {
            simulation.Crash(new NodeId(i));
        }

        for (var i = 0; i < n; i++)
        {
            simulation.Restart(new NodeId(i), create(new NodeId(i)));
        }

        simulation.RunFor(TimeSpan.FromSeconds(20));
        Assert.All(Enumerable.Range(0, n), i => Assert.Empty(Node(i).Apps));
        foreach (var (i, bytes) in kept)
        {
            Assert.True(Node(i).State.Synced, $"node {i} has synced with a peer (seed {seed})");
            simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(i), c => Node(i).RestoreDesired(c, DesiredStateSnapshot.Decode(bytes)));
        }

        simulation.RunFor(TimeSpan.FromSeconds(90));
        Assert.All(Enumerable.Range(0, n), i => Assert.Equal(new[] { "db:1", "web:2" }, Node(i).Apps.Select(a => $"{a.Name}:{a.Replicas}").Order()));
        Assert.Equal((2, 0, 1), (Copies("web"), Copies("api"), Copies("db")));
        Assert.NotNull(cluster);
        Assert.All(Enumerable.Range(0, n), i => Assert.Equal(cluster, Node(i).ClusterId)); // the id came back with the apps
    }

    [Fact]
    public void The_founder_names_the_cluster_every_member_learns_its_id_and_entries_kept_in_another_cluster_are_refused_whole()
    {
        const int n = 4;
        const ulong seed = 17;
        using var simulation = DaemonLikeCluster(seed, n, out _);
        ControlPlaneNode Node(int i) => (ControlPlaneNode)simulation.GetNode(new NodeId(i))!;

        string? named = null, again = null;
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(0), c => named = Node(0).FoundCluster(c));
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(1), c => Node(1).Deploy(c, new AppSpec("web", "web:1") { Replicas = 2, Limits = new ResourceAmount(0.25, 64L << 20) }));
        simulation.RunFor(TimeSpan.FromSeconds(40));
        Assert.Matches("^[0-9a-f]{32}$", named);
        Assert.All(Enumerable.Range(0, n), i => Assert.Equal(named, Node(i).ClusterId)); // spread with the desired state
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(2), c => again = Node(2).FoundCluster(c));
        simulation.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(named, again); // a known id is never replaced

        var kept = Node(3).DesiredEntries.ToList();
        Assert.Equal(["app/web", "cluster/id"], kept.Select(e => e.Key).Order());
        Assert.Equal(named, ControlPlaneNode.ClusterIdOf(kept));

        // Entries a machine kept while it served another cluster: refused whole, nothing of them spreads.
        StateEntry[] foreign = [new("app/other", 99, new NodeId(7), false, new byte[] { 1 }), new("cluster/id", 1, new NodeId(7), false, new byte[16])];
        Exception? refused = null;
        var applied = -1;
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(2), c => refused = Record.Exception(() => Node(2).RestoreDesired(c, foreign)));
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(1), c => applied = Node(1).RestoreDesired(c, kept));
        simulation.RunFor(TimeSpan.FromSeconds(30));
        Assert.Contains($"kept in cluster {new string('0', 32)}; this node is in cluster {named}", Assert.IsType<ArgumentException>(refused).Message, StringComparison.Ordinal);
        Assert.All(Enumerable.Range(0, n), i => Assert.False(Node(i).State.TryGet("app/other", out _), $"node {i} (seed {seed})"));
        Assert.All(Enumerable.Range(0, n), i => Assert.Equal(named, Node(i).ClusterId));
        Assert.Equal(0, applied); // this cluster's own kept entries: merged, nothing newer in them
    }

    /// <summary>
    /// <paramref name="n"/> control-plane nodes configured as the daemon runs them (SWIM, anti-entropy every gossip
    /// round until synced, node 0 every node's seed) on simulated hosts with a <c>web:1</c> image; nodes are added.
    /// </summary>
    private static Simulation DaemonLikeCluster(ulong seed, int n, out Func<NodeId, ControlPlaneNode> create)
    {
        var simulation = new Simulation(new SimulationOptions { Seed = seed, Network = { Latency = LatencyModel.Constant(TimeSpan.FromMilliseconds(5)) } });
        simulation.EnableContainers(new ContainerSimulationOptions
        {
            Images = { ["web:1"] = new SimulatedImage(20_000_000) },
            Hosts = _ => new SimulatedHost(new ResourceAmount(2, 4L << 30), 10_000_000_000, 100e6),
        });
        var factory = new SwimMembershipFactory(new SwimOptions());
        var options = new ControlPlaneOptions { State = new ReplicatedStateOptions { ConfirmUntilSynced = true } };
        create = id => new ControlPlaneNode(id, factory.Create(new MembershipSetup(id, new MemberMetadata(0, 2000, 4096), [new NodeId(0)])), new PowerOfChoicesPlacement(2), new ReactiveChurnHandler(TimeSpan.FromSeconds(5)), options);
        for (var i = 0; i < n; i++)
        {
            simulation.AddNode(create(new NodeId(i)));
        }

        return simulation;
    }
}
