using VolunteerCloud.Randomness;

namespace VolunteerCloud.Placement;

/// <summary>A uniformly random host among those that fit (Sparrow's and balls-into-bins' one choice).</summary>
public sealed class RandomPlacement : IPlacementStrategy
{
    /// <inheritdoc />
    public string Name => StrategyNames.Random;

    /// <inheritdoc />
    public int Choose(ClusterState cluster, in PlacementRequest request, RandomSource random)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(random);
        return Sampling.RandomFit(cluster, request, random);
    }
}

/// <summary>The next host that fits after the last one chosen, in index order (the cursor is the strategy's only state).</summary>
public sealed class RoundRobinPlacement : IPlacementStrategy
{
    private int _cursor;

    /// <inheritdoc />
    public string Name => StrategyNames.RoundRobin;

    /// <inheritdoc />
    public int Choose(ClusterState cluster, in PlacementRequest request, RandomSource random)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var n = cluster.Count;
        for (var k = 0; k < n; k++)
        {
            var i = (_cursor + k) % n;
            if (cluster.Fits(i, request))
            {
                _cursor = (i + 1) % n;
                return i;
            }
        }

        return -1;
    }
}

/// <summary>A host with the fewest replicas among those that fit; ties broken at random. O(1) amortised through the state's load index.</summary>
public sealed class LeastLoadedPlacement : IPlacementStrategy
{
    /// <inheritdoc />
    public string Name => StrategyNames.LeastLoaded;

    /// <inheritdoc />
    public int Choose(ClusterState cluster, in PlacementRequest request, RandomSource random)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(random);
        for (var load = cluster.MinimumLoad; load < cluster.BucketCount; load++)
        {
            var i = Sampling.FromBucket(cluster, cluster.Bucket(load), request, random, avoidRegions: default);
            if (i >= 0)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// The power of d choices (Azar, Broder, Karlin, Upfal 1999; Mitzenmacher 2001): d hosts drawn at random among
/// those that fit, the one with the fewest replicas wins. Max load falls from ln n / ln ln n (one choice) to
/// ln ln n / ln d + O(1).
/// </summary>
public sealed class PowerOfChoicesPlacement : IPlacementStrategy
{
    /// <summary>Creates the strategy.</summary>
    /// <param name="choices">d, at least 1 (default 2).</param>
    public PowerOfChoicesPlacement(int choices = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(choices, 1);
        Choices = choices;
    }

    /// <summary>d.</summary>
    public int Choices { get; }

    /// <inheritdoc />
    public string Name => StrategyNames.PowerOf(Choices);

    /// <inheritdoc />
    public int Choose(ClusterState cluster, in PlacementRequest request, RandomSource random)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(random);
        var best = -1;
        for (var c = 0; c < Choices; c++)
        {
            var i = Sampling.RandomFit(cluster, request, random);
            if (i < 0)
            {
                return -1;
            }

            if (best < 0 || cluster.ReplicasOf(i) < cluster.ReplicasOf(best))
            {
                best = i;
            }
        }

        return best;
    }
}

/// <summary>
/// Rendezvous (highest random weight) hashing (Thaler and Ravishankar 1998): the fitting host with the highest
/// hash of (app, replica, host). Stable: a replica's host changes only when that host goes or fills up. O(n).
/// </summary>
public sealed class RendezvousPlacement : ScoringPlacement
{
    /// <inheritdoc />
    public override string Name => StrategyNames.Rendezvous;

    /// <inheritdoc />
    protected override double Score(ClusterState cluster, int index, in PlacementRequest request) =>
        Rendezvous.Weight(Rendezvous.Key(request.App, request.Replica), cluster.HostAt(index));
}

/// <summary>
/// Bin packing, best fit: the fitting host left with the least free CPU (then memory) after the replica, so
/// hosts fill up one by one and the rest stay free for large replicas. O(n).
/// </summary>
public sealed class BinPackPlacement : ScoringPlacement
{
    /// <inheritdoc />
    public override string Name => StrategyNames.BinPack;

    /// <inheritdoc />
    protected override double Score(ClusterState cluster, int index, in PlacementRequest request)
    {
        var free = cluster.FreeOf(index) - request.Limits;
        return -(free.Cpus * 1e6) - (free.MemoryBytes / (double)(1L << 30));
    }
}

/// <summary>
/// Spread: replicas of one app go to different hosts (always) and, when <see cref="Regions"/> is on, to regions
/// that hold none of the app's replicas yet; among those, the least-loaded host.
/// </summary>
public sealed class SpreadPlacement : IPlacementStrategy
{
    private readonly LeastLoadedPlacement _leastLoaded = new();

    /// <summary>Creates the strategy.</summary>
    /// <param name="regions">Prefer regions without a replica of the app (default true).</param>
    public SpreadPlacement(bool regions = true) => Regions = regions;

    /// <summary>Whether regions are spread over too.</summary>
    public bool Regions { get; }

    /// <inheritdoc />
    public string Name => Regions ? StrategyNames.SpreadRegions : StrategyNames.Spread;

    /// <inheritdoc />
    public int Choose(ClusterState cluster, in PlacementRequest request, RandomSource random)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(random);
        if (Regions && !request.UsedRegions.IsEmpty)
        {
            for (var load = cluster.MinimumLoad; load < cluster.BucketCount; load++)
            {
                var i = Sampling.FromBucket(cluster, cluster.Bucket(load), request, random, request.UsedRegions.Span);
                if (i >= 0)
                {
                    return i;
                }
            }
        }

        return _leastLoaded.Choose(cluster, request, random);
    }
}

/// <summary>Rendezvous weights: deterministic across processes and platforms (no string hash codes).</summary>
public static class Rendezvous
{
    /// <summary>A 64-bit key for (name, number): FNV-1a over the name's UTF-16 code units, mixed with the number.</summary>
    public static ulong Key(string name, int number = 0)
    {
        ArgumentNullException.ThrowIfNull(name);
        var hash = 0xCBF29CE484222325UL;
        foreach (var c in name)
        {
            hash = (hash ^ c) * 0x100000001B3UL;
        }

        return SplitMix64.Mix64(hash ^ ((ulong)(uint)number * SplitMix64.GoldenGamma));
    }

    /// <summary>The weight of <paramref name="node"/> for <paramref name="key"/>, uniform in [0, 1).</summary>
    public static double Weight(ulong key, NodeId node) =>
        (SplitMix64.Mix64(key ^ SplitMix64.Mix64((ulong)(uint)node.Value + SplitMix64.GoldenGamma)) >> 11) * (1.0 / (1UL << 53));

    /// <summary>The node with the highest weight for <paramref name="key"/> among <paramref name="nodes"/>, or null when empty.</summary>
    public static NodeId? Highest(ulong key, IEnumerable<NodeId> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        NodeId? best = null;
        var bestWeight = -1.0;
        foreach (var node in nodes)
        {
            var weight = Weight(key, node);
            if (weight > bestWeight || (weight == bestWeight && node.Value < best!.Value.Value))
            {
                best = node;
                bestWeight = weight;
            }
        }

        return best;
    }
}

internal static class Sampling
{
    /// <summary>Random probes into a load bucket before it is scanned.</summary>
    private const int BucketProbes = 16;

    /// <summary>
    /// A random host of a load bucket that fits (and is outside <paramref name="avoidRegions"/>): a few random probes,
    /// then a scan from a random start. Full hosts stay in low buckets, so probing first keeps this O(1) in practice.
    /// </summary>
    public static int FromBucket(ClusterState cluster, List<int> bucket, in PlacementRequest request, RandomSource random, ReadOnlySpan<ushort> avoidRegions)
    {
        var n = bucket.Count;
        if (n == 0)
        {
            return -1;
        }

        for (var p = 0; p < BucketProbes; p++)
        {
            var i = bucket[random.NextInt32(n)];
            if (Good(cluster, i, request, avoidRegions))
            {
                return i;
            }
        }

        var start = random.NextInt32(n);
        for (var k = 0; k < n; k++)
        {
            var i = bucket[(start + k) % n];
            if (Good(cluster, i, request, avoidRegions))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool Good(ClusterState cluster, int index, in PlacementRequest request, ReadOnlySpan<ushort> avoidRegions) =>
        (avoidRegions.IsEmpty || !avoidRegions.Contains(cluster.RegionOf(index))) && cluster.Fits(index, request);

    /// <summary>Tries before a random choice falls back to a scan from a random start (uniform enough when most hosts do not fit).</summary>
    private const int Attempts = 32;

    /// <summary>A uniformly random index that fits: rejection sampling, then a scan from a random start.</summary>
    public static int RandomFit(ClusterState cluster, in PlacementRequest request, RandomSource random)
    {
        var n = cluster.Count;
        if (n == 0 || cluster.EligibleCount == 0)
        {
            return -1;
        }

        for (var a = 0; a < Attempts; a++)
        {
            var i = random.NextInt32(n);
            if (cluster.Fits(i, request))
            {
                return i;
            }
        }

        var start = random.NextInt32(n);
        for (var k = 0; k < n; k++)
        {
            var i = (start + k) % n;
            if (cluster.Fits(i, request))
            {
                return i;
            }
        }

        return -1;
    }
}
