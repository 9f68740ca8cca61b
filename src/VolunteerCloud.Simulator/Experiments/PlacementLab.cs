using VolunteerCloud.Containers;
using VolunteerCloud.Placement;
using VolunteerCloud.Randomness;

namespace VolunteerCloud.Simulator.Experiments;

/// <summary>Placement studies: balls into bins and rendezvous balance, against the published numbers (docs/references.md).</summary>
public static class PlacementLab
{
    private static readonly ResourceAmount Ball = new(1e-6, 1);

    /// <summary>Throws <paramref name="n"/> balls into <paramref name="n"/> bins with <paramref name="strategy"/>; returns the max load.</summary>
    public static int BallsIntoBins(IPlacementStrategy strategy, int n, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        var cluster = UniformCluster(n);
        var random = SplittableRandom.ForStream(seed, "placement.balls");
        var request = new PlacementRequest("balls", 0, Ball);
        var max = 0;
        for (var b = 0; b < n; b++)
        {
            var bin = strategy.Choose(cluster, request, random);
            cluster.Place(bin, Ball);
            max = Math.Max(max, cluster.ReplicasOf(bin));
        }

        return max;
    }

    /// <summary>
    /// Places <paramref name="keys"/> keys (apps with one replica) on <paramref name="nodes"/> nodes by rendezvous
    /// hashing — or, with <paramref name="twoChoices"/>, on the less loaded of each key's two highest-weight
    /// nodes — and returns max load / mean load.
    /// </summary>
    public static double RendezvousBalance(int keys, int nodes, bool twoChoices) => RendezvousLoads(keys, nodes, twoChoices).MaxOverMean;

    /// <summary>
    /// As <see cref="RendezvousBalance"/>, with the standard deviation of the loads over the binomial one
    /// (√(K·p·(1−p)), p = 1/nodes): about 1 when the hash spreads keys uniformly and independently.
    /// </summary>
    public static (double MaxOverMean, double SpreadRatio) RendezvousLoads(int keys, int nodes, bool twoChoices)
    {
        var load = new int[nodes];
        for (var k = 0; k < keys; k++)
        {
            var key = Rendezvous.Key("key", k);
            int first = -1, second = -1;
            double w1 = -1, w2 = -1;
            for (var n = 0; n < nodes; n++)
            {
                var w = Rendezvous.Weight(key, new NodeId(n));
                if (w > w1)
                {
                    (second, w2) = (first, w1);
                    (first, w1) = (n, w);
                }
                else if (w > w2)
                {
                    (second, w2) = (n, w);
                }
            }

            load[twoChoices && load[second] < load[first] ? second : first]++;
        }

        var mean = (double)keys / nodes;
        var sd = Math.Sqrt(load.Average(l => (l - mean) * (l - mean)));
        return (load.Max() / mean, sd / Math.Sqrt(keys * (1.0 / nodes) * (1 - (1.0 / nodes))));
    }

    internal static ClusterState UniformCluster(int n)
    {
        var cluster = new ClusterState(n);
        for (var i = 0; i < n; i++)
        {
            cluster.Add(new NodeId(i), new ResourceAmount(1e9, long.MaxValue / 2));
        }

        return cluster;
    }

    /// <summary>
    /// The mixed cluster of the placement-throughput study: 1–8 cores and 2–31 GiB per host, six regions, 10% of
    /// the hosts ineligible, sessions begun up to 100 h before "now" (100 h).
    /// </summary>
    public static ClusterState ThroughputCluster(int hosts, RandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var cluster = new ClusterState(hosts);
        for (var i = 0; i < hosts; i++)
        {
            var index = cluster.Add(new NodeId(i), new ResourceAmount(1 + random.NextInt32(8), (2L + random.NextInt32(30)) << 30), (ushort)random.NextInt32(6));
            cluster.HistoryOf(index).SessionStarted(TimeSpan.FromHours(random.NextDouble() * 100));
            if (random.NextBoolean(0.1))
            {
                cluster.SetEligible(index, false);
            }
        }

        cluster.Now = TimeSpan.FromHours(100);
        return cluster;
    }
}
