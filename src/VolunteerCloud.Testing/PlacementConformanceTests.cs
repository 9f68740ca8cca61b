using FsCheck.Xunit;
using Xunit;
using VolunteerCloud.Containers;
using VolunteerCloud.Placement;
using VolunteerCloud.Randomness;

namespace VolunteerCloud.Testing;

/// <summary>
/// What every placement strategy must do. Derive, implement <see cref="Create"/>, and the suite runs against it:
/// capacity and constraints are respected, non-eligible hosts are never chosen, a host is found whenever one fits,
/// and choices are a function of the seed.
/// </summary>
public abstract class PlacementConformanceTests
{
    protected abstract IPlacementStrategy Create();

    private static readonly ResourceAmount Small = new(0.5, 512L << 20);

    /// <summary>A random cluster from a seed: sizes, regions, some hosts ineligible, some partly full.</summary>
    protected static ClusterState RandomCluster(ulong seed, int hosts)
    {
        var random = new SplittableRandom(seed);
        var cluster = new ClusterState(hosts);
        for (var i = 0; i < hosts; i++)
        {
            var index = cluster.Add(new NodeId(i * 3), new ResourceAmount(1 + random.NextInt32(8), (1L + random.NextInt32(16)) << 30), (ushort)random.NextInt32(4));
            for (var r = random.NextInt32(4); r > 0; r--)
            {
                var limits = new ResourceAmount(0.5 * (1 + random.NextInt32(4)), (256L << 20) * (1 + random.NextInt32(8)));
                if ((cluster.AllocatedOf(index) + limits).FitsWithin(cluster.CapacityOf(index)))
                {
                    cluster.Place(index, limits);
                }
            }

            if (random.NextBoolean(0.2))
            {
                cluster.SetEligible(index, false);
            }

            cluster.HistoryOf(index).SessionStarted(TimeSpan.FromHours(random.NextInt32(100)));
            for (var s = random.NextInt32(10); s > 0; s--)
            {
                cluster.HistoryOf(index).Record(0.1 + random.NextExponential(5));
            }
        }

        cluster.Now = TimeSpan.FromHours(100);
        return cluster;
    }

    [Property(MaxTest = 60)]
    public void A_choice_always_fits_and_is_found_whenever_some_host_fits(ulong seed, byte hostCount, byte cpuPick, byte avoidCount)
    {
        var cluster = RandomCluster(seed, 1 + (hostCount % 60));
        var strategy = Create();
        var random = new SplittableRandom(seed ^ 0x5EED);
        var limits = new ResourceAmount(0.25 * (1 + (cpuPick % 16)), (256L << 20) * (1 + (cpuPick % 12)));
        var avoid = Enumerable.Range(0, avoidCount % 5).Select(k => cluster.HostAt((k * 7) % cluster.Count)).ToArray();
        var request = new PlacementRequest("app", 0, limits) { Avoid = avoid, UsedRegions = new ushort[] { 1 } };

        for (var round = 0; round < 20; round++)
        {
            var anyFits = Enumerable.Range(0, cluster.Count).Any(i => cluster.Fits(i, request));
            var chosen = strategy.Choose(cluster, request, random);
            if (!anyFits)
            {
                Assert.Equal(-1, chosen);
                return;
            }

            Assert.True(chosen >= 0, $"{strategy.Name}: no host chosen although one fits (seed {seed})");
            Assert.True(cluster.IsEligible(chosen), $"{strategy.Name}: chose an ineligible host (seed {seed})");
            Assert.DoesNotContain(cluster.HostAt(chosen), avoid);
            Assert.True((cluster.AllocatedOf(chosen) + limits).FitsWithin(cluster.CapacityOf(chosen)), $"{strategy.Name}: over capacity (seed {seed})");
            cluster.Place(chosen, limits);
        }
    }

    [Property(MaxTest = 30)]
    public void Choices_are_a_function_of_the_seed(ulong seed)
    {
        int[] Run()
        {
            var cluster = RandomCluster(seed, 40);
            var strategy = Create();
            var random = new SplittableRandom(seed);
            var choices = new List<int>();
            for (var r = 0; r < 30; r++)
            {
                var request = new PlacementRequest($"app{r % 7}", r % 3, Small);
                var chosen = strategy.Choose(cluster, request, random);
                choices.Add(chosen);
                if (chosen >= 0)
                {
                    cluster.Place(chosen, Small);
                }
            }

            return [.. choices];
        }

        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Replicas_of_one_app_never_share_a_host_when_the_caller_passes_them_as_avoided()
    {
        var cluster = new ClusterState();
        for (var i = 0; i < 5; i++)
        {
            cluster.Add(new NodeId(i), new ResourceAmount(16, 64L << 30), (ushort)(i % 2));
        }

        var strategy = Create();
        var random = new SplittableRandom(3);
        var placed = new List<NodeId>();
        for (var r = 0; r < 6; r++)
        {
            var chosen = strategy.Choose(cluster, new PlacementRequest("web", r, Small) { Avoid = placed.ToArray() }, random);
            if (r < 5)
            {
                Assert.True(chosen >= 0);
                placed.Add(cluster.HostAt(chosen));
                cluster.Place(chosen, Small);
            }
            else
            {
                Assert.Equal(-1, chosen); // five hosts, five replicas: the sixth has nowhere to go
            }
        }

        Assert.Equal(5, placed.Distinct().Count());
    }

    [Fact]
    public void An_empty_or_fully_ineligible_cluster_gives_no_host()
    {
        var cluster = new ClusterState();
        var strategy = Create();
        Assert.Equal(-1, strategy.Choose(cluster, new PlacementRequest("a", 0, Small), new SplittableRandom(1)));
        cluster.Add(new NodeId(1), new ResourceAmount(4, 8L << 30));
        cluster.SetEligible(0, false);
        Assert.Equal(-1, strategy.Choose(cluster, new PlacementRequest("a", 0, Small), new SplittableRandom(1)));
        cluster.SetEligible(0, true);
        Assert.Equal(0, strategy.Choose(cluster, new PlacementRequest("a", 0, Small), new SplittableRandom(1)));
    }
}

