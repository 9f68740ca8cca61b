using VolunteerCloud.Containers;
using VolunteerCloud.Randomness;

namespace VolunteerCloud.Placement;

/// <summary>One replica to place.</summary>
/// <param name="App">The app's name: rendezvous hashing and spreading key on it.</param>
/// <param name="Replica">The replica's number within the app (0, 1, …).</param>
/// <param name="Limits">The replica's CPU and memory limits: the host must have them free.</param>
public readonly record struct PlacementRequest(string App, int Replica, ResourceAmount Limits)
{
    /// <summary>Hosts that must not take this replica: those already running a replica of the app (never two on one host).</summary>
    public ReadOnlyMemory<NodeId> Avoid { get; init; }

    /// <summary>Regions that already hold a replica of the app; strategies that spread over regions prefer others.</summary>
    public ReadOnlyMemory<ushort> UsedRegions { get; init; }
}

/// <summary>
/// Where a replica goes. A strategy is a deterministic function of the request, the cluster state and the random
/// source (round-robin also of its own cursor): no clock, no IO, no threads. It only chooses; the caller records
/// the placement with <see cref="ClusterState.Place"/>.
/// </summary>
public interface IPlacementStrategy
{
    /// <summary>A short name for reports, e.g. <c>power-of-2</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Chooses a host for the replica: an index of <paramref name="cluster"/> that
    /// <see cref="ClusterState.Fits"/> the request, or −1 when no host does.
    /// </summary>
    int Choose(ClusterState cluster, in PlacementRequest request, RandomSource random);
}

/// <summary>Placement that ranks hosts by a score; the shared scan of the scoring strategies.</summary>
public abstract class ScoringPlacement : IPlacementStrategy
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public int Choose(ClusterState cluster, in PlacementRequest request, RandomSource random)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(random);
        var best = -1;
        var bestScore = double.NegativeInfinity;
        var ties = 0;
        for (var i = 0; i < cluster.Count; i++)
        {
            if (!cluster.Fits(i, request))
            {
                continue;
            }

            var score = Score(cluster, i, request);
            if (best < 0 || score > bestScore)
            {
                best = i;
                bestScore = score;
                ties = 1;
            }
            else if (score == bestScore && random.NextInt32(++ties) == 0)
            {
                best = i; // reservoir sampling: each of the tied hosts is kept with probability 1/ties
            }
        }

        return best;
    }

    /// <summary>The host's score for the request; the highest wins, ties are broken uniformly at random.</summary>
    protected abstract double Score(ClusterState cluster, int index, in PlacementRequest request);
}
