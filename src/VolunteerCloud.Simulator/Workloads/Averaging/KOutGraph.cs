using VolunteerCloud.Randomness;

namespace VolunteerCloud.Simulator.Workloads.Averaging;

/// <summary>
/// A random directed graph in which every node has <see cref="Degree"/> distinct out-links to other nodes,
/// chosen uniformly (PeerSim's <c>WireKOut</c>). Stored as one flat array: 4 bytes per link, no per-node objects.
/// </summary>
public sealed class KOutGraph
{
    private readonly NodeId[] _links;

    private KOutGraph(int nodeCount, int degree, NodeId[] links)
    {
        NodeCount = nodeCount;
        Degree = degree;
        _links = links;
    }

    /// <summary>How many nodes the graph has (ids 0 to <see cref="NodeCount"/> - 1).</summary>
    public int NodeCount { get; }

    /// <summary>Out-links per node: the requested k, or every other node when there are fewer.</summary>
    public int Degree { get; }

    /// <summary>Wires <paramref name="nodeCount"/> nodes with <paramref name="k"/> random out-links each.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nodeCount"/> is not positive or <paramref name="k"/> is negative.</exception>
    public static KOutGraph Create(int nodeCount, int k, RandomSource random)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nodeCount);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentNullException.ThrowIfNull(random);
        var degree = Math.Min(k, nodeCount - 1);
        var links = new NodeId[(long)nodeCount * degree];
        for (var node = 0; node < nodeCount; node++)
        {
            var mine = links.AsSpan(node * degree, degree);
            if (degree == nodeCount - 1)
            {
                for (int other = 0, i = 0; other < nodeCount; other++)
                {
                    if (other != node)
                    {
                        mine[i++] = new NodeId(other);
                    }
                }

                continue;
            }

            for (var i = 0; i < degree;)
            {
                var candidate = new NodeId(random.NextInt32(nodeCount));
                if (candidate.Value != node && !mine[..i].Contains(candidate))
                {
                    mine[i++] = candidate;
                }
            }
        }

        return new KOutGraph(nodeCount, degree, links);
    }

    /// <summary>The out-links of <paramref name="node"/>.</summary>
    public ReadOnlySpan<NodeId> LinksOf(NodeId node) => _links.AsSpan(node.Value * Degree, Degree);
}
