using Microsoft.Extensions.DependencyInjection;
using VolunteerCloud.Containers;
using VolunteerCloud.Availability;
using VolunteerCloud.Placement;
using VolunteerCloud.Randomness;

namespace VolunteerCloud.Sdk.Tests.Placement;

public sealed class PlacementStrategyTests
{
    private static readonly ResourceAmount One = new(1, 1L << 30);

    private static ClusterState Uniform(int hosts, double cpus = 1000)
    {
        var cluster = new ClusterState(hosts);
        for (var i = 0; i < hosts; i++)
        {
            cluster.Add(new NodeId(i), new ResourceAmount(cpus, 1L << 50), (ushort)(i % 4));
        }

        return cluster;
    }

    private static int[] Fill(IPlacementStrategy strategy, ClusterState cluster, int balls, ulong seed)
    {
        var random = new SplittableRandom(seed);
        var request = new PlacementRequest("app", 0, new ResourceAmount(0.001, 1));
        for (var b = 0; b < balls; b++)
        {
            cluster.Place(strategy.Choose(cluster, request, random), request.Limits);
        }

        return Enumerable.Range(0, cluster.Count).Select(cluster.ReplicasOf).ToArray();
    }

    [Fact]
    public void Balls_into_bins_max_load_falls_with_more_choices_as_published()
    {
        // n = 10^4 balls into 10^4 bins (docs/references.md): max ≈ 6–7 with one choice, 3 with two.
        var one = Fill(new RandomPlacement(), Uniform(10_000), 10_000, 1).Max();
        var two = Fill(new PowerOfChoicesPlacement(2), Uniform(10_000), 10_000, 1).Max();
        var three = Fill(new PowerOfChoicesPlacement(3), Uniform(10_000), 10_000, 1).Max();
        Assert.InRange(one, 5, 9);
        Assert.InRange(two, 3, 4);
        Assert.InRange(three, 2, 3);
        Assert.Equal(1, Fill(new LeastLoadedPlacement(), Uniform(10_000), 10_000, 1).Max());
        Assert.Equal(1, Fill(new RoundRobinPlacement(), Uniform(10_000), 10_000, 1).Max());
    }

    [Fact]
    public void Least_loaded_and_round_robin_stay_even_as_hosts_come_and_go()
    {
        var cluster = Uniform(100);
        var random = new SplittableRandom(2);
        var strategy = new LeastLoadedPlacement();
        for (var b = 0; b < 1000; b++)
        {
            if (b % 50 == 0)
            {
                cluster.SetEligible(random.NextInt32(100), false);
            }

            var chosen = strategy.Choose(cluster, new PlacementRequest("a", 0, One), random);
            Assert.Equal(Enumerable.Range(0, 100).Where(cluster.IsEligible).Min(cluster.ReplicasOf), cluster.ReplicasOf(chosen));
            cluster.Place(chosen, One);
        }
    }

    [Fact]
    public void Rendezvous_is_stable_a_replica_moves_only_when_its_host_goes()
    {
        var cluster = Uniform(50);
        var strategy = new RendezvousPlacement();
        var random = new SplittableRandom(1);
        var before = Enumerable.Range(0, 200).Select(k => strategy.Choose(cluster, new PlacementRequest($"app{k}", 0, One), random)).ToArray();
        cluster.SetEligible(7, false);
        var after = Enumerable.Range(0, 200).Select(k => strategy.Choose(cluster, new PlacementRequest($"app{k}", 0, One), random)).ToArray();
        for (var k = 0; k < 200; k++)
        {
            if (before[k] != 7)
            {
                Assert.Equal(before[k], after[k]);
            }
            else
            {
                Assert.NotEqual(7, after[k]);
            }
        }

        Assert.Contains(7, before);
        Assert.Equal(Rendezvous.Key("x", 1), Rendezvous.Key("x", 1));
        Assert.NotEqual(Rendezvous.Key("x", 1), Rendezvous.Key("x", 2));
        Assert.Equal(0xC850F03F92A375F3UL, Rendezvous.Key("web", 0)); // pinned (computed independently): the same in every process and on every platform
    }

    [Fact]
    public void Bin_pack_fills_one_host_before_the_next_and_spread_uses_new_regions_first()
    {
        var cluster = Uniform(4, cpus: 2);
        var pack = new BinPackPlacement();
        var random = new SplittableRandom(1);
        var first = pack.Choose(cluster, new PlacementRequest("a", 0, One), random);
        cluster.Place(first, One);
        Assert.Equal(first, pack.Choose(cluster, new PlacementRequest("b", 0, One), random));

        var spread = new SpreadPlacement();
        var fresh = Uniform(8);
        var used = new List<ushort>();
        var hosts = new List<NodeId>();
        for (var r = 0; r < 4; r++)
        {
            var chosen = spread.Choose(fresh, new PlacementRequest("web", r, One) { Avoid = hosts.ToArray(), UsedRegions = used.ToArray() }, random);
            Assert.DoesNotContain(fresh.RegionOf(chosen), used);
            used.Add(fresh.RegionOf(chosen));
            hosts.Add(fresh.HostAt(chosen));
            fresh.Place(chosen, One);
        }
    }

    [Fact]
    public void Availability_aware_prefers_hosts_with_a_longer_predicted_residual_uptime()
    {
        var cluster = Uniform(3);
        cluster.Now = TimeSpan.FromHours(100);

        // Host 0: up for 50 h with the population's decreasing hazard; host 1: just came up; host 2: a history of
        // long sessions (its own fit).
        cluster.HistoryOf(0).SessionStarted(TimeSpan.FromHours(50));
        cluster.HistoryOf(1).SessionStarted(TimeSpan.FromHours(99.9));
        var steady = cluster.HistoryOf(2);
        foreach (var hours in new[] { 300.0, 250, 410, 280, 350, 330 })
        {
            steady.Record(hours);
        }

        steady.SessionStarted(TimeSpan.FromHours(99));
        var strategy = new AvailabilityAwarePlacement();
        var residual = Enumerable.Range(0, 3).Select(i => strategy.PredictedResidualHours(cluster, i)).ToArray();
        Assert.True(residual[0] > residual[1], $"older host {residual[0]} h vs new host {residual[1]} h");
        Assert.True(residual[2] > residual[0], $"steady host {residual[2]} h vs {residual[0]} h");
        Assert.Equal(2, strategy.Choose(cluster, new PlacementRequest("a", 0, One), new SplittableRandom(1)));
    }

    [Fact]
    public void Survival_maths_matches_closed_forms_and_numerical_integration()
    {
        // Shape 1 is exponential: memoryless, the residual is the mean at every age.
        foreach (var age in new[] { 0.0, 0.5, 3, 40, 400 })
        {
            Assert.Equal(7.0, Survival.WeibullResidualMean(1, 7, age), 1e-9);
        }

        // At age 0 the residual is the mean, λ Γ(1 + 1/k).
        Assert.Equal(2.964 * Math.Exp(Survival.LogGamma(1 + (1 / 0.393))), Survival.WeibullResidualMean(0.393, 2.964, 0), 1e-9);

        // Other ages: ∫_a^∞ S(x) dx / S(a) by the trapezoid rule on a fine log grid.
        foreach (var (k, lambda, age) in new[] { (0.393, 2.964, 5.0), (0.55, 35.3, 100.0), (2.0, 10.0, 3.0), (0.8, 1.0, 0.9), (1.5, 4.0, 20.0) })
        {
            double S(double x) => Math.Exp(-Math.Pow(x / lambda, k));
            double integral = 0, previous = age;
            for (var i = 1; i <= 400_000; i++)
            {
                var x = age + (Math.Pow(1.00005, i) - 1) * Math.Max(lambda, 1);
                integral += (S(previous) + S(x)) / 2 * (x - previous);
                previous = x;
            }

            var expected = integral / S(age);
            Assert.True(Math.Abs(Survival.WeibullResidualMean(k, lambda, age) / expected - 1) < 1e-4, $"k {k}, λ {lambda}, a {age}: {Survival.WeibullResidualMean(k, lambda, age)} vs {expected}");
        }

        Assert.Equal(Math.Log(24), Survival.LogGamma(5), 1e-12);
        Assert.Equal(Math.Log(Math.Sqrt(Math.PI)), Survival.LogGamma(0.5), 1e-12);
    }

    [Fact]
    public void The_weibull_fit_recovers_its_parameters()
    {
        var random = new SplittableRandom(4);
        var samples = Enumerable.Range(0, 20_000).Select(_ => 5 * Math.Pow(-Math.Log(1 - random.NextDouble()), 1 / 0.6)).ToArray();
        var (shape, scale) = Survival.FitWeibull(samples);
        Assert.Equal(0.6, shape, 0.02);
        Assert.Equal(5, scale, 0.2);
        Assert.Throws<ArgumentException>(() => Survival.FitWeibull([1.0]));
        Assert.Throws<ArgumentException>(() => Survival.FitWeibull([1.0, 0]));
        Assert.Equal(50, Survival.FitWeibull([2.0, 2.0, 2.0]).Shape, 1e-6);
    }

    [Fact]
    public void The_placement_strategy_is_chosen_through_dependency_injection()
    {
        var defaults = new ServiceCollection().AddVolunteerCloud().BuildServiceProvider();
        Assert.Equal("power-of-2", defaults.GetRequiredService<IPlacementStrategyFactory>().Create().Name);

        var chosen = new ServiceCollection().AddVolunteerCloud(vc => vc.UseAvailabilityAwarePlacement(minimumHistory: 3)).BuildServiceProvider();
        var factory = chosen.GetRequiredService<IPlacementStrategyFactory>();
        Assert.Equal("availability-aware", factory.Create().Name);
        Assert.NotSame(factory.Create(), factory.Create());

        var custom = new ServiceCollection().AddVolunteerCloud(vc => vc.UsePlacement(() => new RoundRobinPlacement())).BuildServiceProvider();
        Assert.Equal("round-robin", custom.GetRequiredService<IPlacementStrategyFactory>().Create().Name);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceCollection().AddVolunteerCloud(vc => vc.UseAvailabilityAwarePlacement(minimumHistory: 1)));
    }

    [Fact]
    public void Cluster_state_refuses_bad_input()
    {
        var cluster = new ClusterState();
        cluster.Add(new NodeId(1), One);
        Assert.Contains("already", Assert.Throws<ArgumentException>(() => cluster.Add(new NodeId(1), One)).Message);
        Assert.Throws<ArgumentException>(() => cluster.Add(new NodeId(2), new ResourceAmount(-1, 0)));
        Assert.Contains("no replica", Assert.Throws<InvalidOperationException>(() => cluster.Release(0, One)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => cluster.HostAt(5));
        Assert.Equal(-1, cluster.IndexOf(new NodeId(9)));
    }
}
