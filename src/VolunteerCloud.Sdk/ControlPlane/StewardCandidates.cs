using VolunteerCloud.Membership;
using VolunteerCloud.Placement;

namespace VolunteerCloud.ControlPlane;

/// <summary>
/// For each app, the 32 members with the highest rendezvous weight for it, best first: its steward is the first of
/// them alive, so a membership change concerns only the apps that have the member among their candidates.
/// </summary>
internal sealed class StewardCandidates(NodeId self, IMembershipProtocol membership)
{
    private const int Count = 32;

    private readonly Dictionary<string, NodeId[]> _candidates = new(StringComparer.Ordinal);
    private readonly Dictionary<NodeId, List<string>> _candidateOf = [];

    /// <summary>The app's steward: the live member with the highest rendezvous weight (this node counts as live).</summary>
    public NodeId StewardOf(string app)
    {
        var view = membership.View;
        foreach (var candidate in Of(app))
        {
            if (candidate == self || view.IsAlive(candidate))
            {
                return candidate;
            }
        }

        // Every candidate is gone: scan everyone (rare: 32 candidates all down).
        var key = Rendezvous.Key(app);
        return Rendezvous.Highest(key, view.Alive.Select(m => m.Id).Append(self)) ?? self;
    }

    /// <summary>Ranks the members for an app the first time it is seen.</summary>
    public void Know(string app)
    {
        if (!_candidates.ContainsKey(app))
        {
            Set(app, Top(app));
        }
    }

    /// <summary>Forgets an app (its steward has stopped every copy of it).</summary>
    public void Forget(string app)
    {
        Set(app, []);
        _candidates.Remove(app);
    }

    /// <summary>The apps that have <paramref name="node"/> among their candidates.</summary>
    public bool TryGetAppsOf(NodeId node, out List<string> apps) => _candidateOf.TryGetValue(node, out apps!);

    /// <summary>A member seen for the first time takes its place among each app's candidates.</summary>
    public void Add(NodeId node)
    {
        foreach (var (app, top) in _candidates.ToArray())
        {
            var updated = Insert(top, app, node);
            if (!ReferenceEquals(updated, top))
            {
                Set(app, updated);
            }
        }
    }

    private NodeId[] Of(string app)
    {
        if (!_candidates.TryGetValue(app, out var top))
        {
            Set(app, top = Top(app));
        }

        return top;
    }

    private void Set(string app, NodeId[] top)
    {
        if (_candidates.TryGetValue(app, out var old))
        {
            foreach (var node in old)
            {
                _candidateOf[node].Remove(app);
            }
        }

        _candidates[app] = top;
        foreach (var node in top)
        {
            (_candidateOf.TryGetValue(node, out var apps) ? apps : _candidateOf[node] = []).Add(app);
        }
    }

    private NodeId[] Top(string app)
    {
        // The 32 highest weights among every known member and this node: one pass, a small sorted buffer.
        var key = Rendezvous.Key(app);
        var ids = new NodeId[Count];
        var weights = new double[Count];
        var count = 0;
        void Offer(NodeId id)
        {
            var weight = Rendezvous.Weight(key, id);
            if (count == Count && !Better(weight, id, weights[count - 1], ids[count - 1]))
            {
                return;
            }

            var at = count < Count ? count++ : count - 1;
            while (at > 0 && Better(weight, id, weights[at - 1], ids[at - 1]))
            {
                ids[at] = ids[at - 1];
                weights[at] = weights[at - 1];
                at--;
            }

            ids[at] = id;
            weights[at] = weight;
        }

        var selfSeen = false;
        foreach (var member in membership.View.Members)
        {
            selfSeen |= member.Id == self;
            Offer(member.Id);
        }

        if (!selfSeen)
        {
            Offer(self);
        }

        return ids[..count];
    }

    private static bool Better(double weight, NodeId id, double otherWeight, NodeId other) =>
        weight > otherWeight || (weight == otherWeight && id.Value < other.Value);

    private static NodeId[] Insert(NodeId[] top, string app, NodeId node)
    {
        if (top.Contains(node))
        {
            return top;
        }

        var key = Rendezvous.Key(app);
        var weight = Rendezvous.Weight(key, node);
        if (top.Length >= Count && weight <= Rendezvous.Weight(key, top[^1]))
        {
            return top;
        }

        return [.. top.Append(node).OrderByDescending(id => Rendezvous.Weight(key, id)).ThenBy(id => id.Value).Take(Count)];
    }
}
