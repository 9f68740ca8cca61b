using VolunteerCloud.Membership;
using VolunteerCloud.Simulator;
using VolunteerCloud.Simulator.Network;

namespace VolunteerCloud.Testing;

/// <summary>A simulated cluster of membership nodes, with the truth (who is really up) kept beside it.</summary>
public sealed class MembershipCluster : IDisposable
{
    private readonly IMembershipProtocolFactory _factory;
    private readonly MemberMetadata _metadata;
    private readonly Dictionary<NodeId, IMembershipProtocol> _protocols = [];
    private readonly HashSet<NodeId> _live = [];
    private readonly Dictionary<NodeId, List<(TimeSpan From, TimeSpan To)>> _liveIntervals = [];

    /// <summary>An empty cluster; nodes are added with <see cref="Add"/>.</summary>
    /// <param name="factory">The membership protocol every node runs.</param>
    /// <param name="seed">The simulation's seed: the same seed, the same run.</param>
    /// <param name="network">The simulated network (default: reliable, 1–10 ms latency).</param>
    /// <param name="metadata">What every member announces about itself (default: region 1, 2 cores, 4 GiB).</param>
    public MembershipCluster(IMembershipProtocolFactory factory, ulong seed, NetworkOptions? network = null, MemberMetadata? metadata = null)
    {
        _factory = factory;
        _metadata = metadata ?? new MemberMetadata(1, 2000, 4096);
        Simulation = new Simulation(new SimulationOptions
        {
            Seed = seed,
            Network = network ?? new NetworkOptions { Latency = LatencyModel.Uniform(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(10)) },
        });
    }

    public Simulation Simulation { get; }

    /// <summary>The nodes that are really up and have not left.</summary>
    public IReadOnlySet<NodeId> Live => _live;

    /// <summary>Every view change on every node: when, who saw it, what.</summary>
    public List<(TimeSpan At, NodeId Observer, MembershipChange Change)> Changes { get; } = [];

    public IMembershipProtocol this[NodeId node] => _protocols[node];

    public NodeId Add(params NodeId[] seeds)
    {
        var id = new NodeId(Simulation.NodeCount);
        var node = CreateNode(id, seeds);
        Simulation.AddNode(node);
        MarkUp(id);
        return id;
    }

    public void AddMany(int count, params NodeId[] seeds)
    {
        for (var i = 0; i < count; i++)
        {
            Add(seeds);
        }
    }

    public void Crash(NodeId node)
    {
        Simulation.Crash(node);
        MarkDown(node);
    }

    public void Restart(NodeId node, params NodeId[] seeds)
    {
        Simulation.Restart(node, CreateNode(node, seeds));
        MarkUp(node);
    }

    /// <summary>
    /// Whether <paramref name="node"/> had been up without a break from its first start until <paramref name="time"/>:
    /// declaring such a node dead is a false positive. (A node that crashed and came back may still be declared
    /// dead late for its previous life; that is a true detection.)
    /// </summary>
    public bool WasContinuouslyLive(NodeId node, TimeSpan time) =>
        _liveIntervals.TryGetValue(node, out var intervals) && intervals[0].From <= time && time <= intervals[0].To;

    /// <summary>Whether <paramref name="node"/> was up and had not left at <paramref name="time"/>.</summary>
    public bool WasLiveAt(NodeId node, TimeSpan time) =>
        _liveIntervals.TryGetValue(node, out var intervals) && intervals.Any(i => i.From <= time && time <= i.To);

    private void MarkUp(NodeId node)
    {
        _live.Add(node);
        if (!_liveIntervals.TryGetValue(node, out var intervals))
        {
            _liveIntervals[node] = intervals = [];
        }

        intervals.Add((Simulation.Now, TimeSpan.MaxValue));
    }

    private void MarkDown(NodeId node)
    {
        _live.Remove(node);
        var intervals = _liveIntervals[node];
        if (intervals[^1].To == TimeSpan.MaxValue)
        {
            intervals[^1] = (intervals[^1].From, Simulation.Now);
        }
    }

    /// <summary>The node announces its leave now and its process exits <paramref name="linger"/> later.</summary>
    public void Leave(NodeId node, TimeSpan linger)
    {
        MarkDown(node);
        var protocol = _protocols[node];
        Simulation.ScheduleOnNode(TimeSpan.Zero, node, protocol.Leave);
        Simulation.Schedule(linger, () =>
        {
            if (Simulation.IsUp(node) && ReferenceEquals(_protocols[node], protocol))
            {
                Simulation.Crash(node);
            }
        });
    }

    public void RunFor(TimeSpan duration) => Simulation.RunFor(duration);

    /// <summary>Every live node believes exactly the live nodes alive. Returns the first disagreement, or null.</summary>
    public string? Disagreement()
    {
        foreach (var node in _live.Order())
        {
            var believed = _protocols[node].View.Alive.Select(m => m.Id).ToHashSet();
            if (!believed.SetEquals(_live))
            {
                return $"{node} believes [{string.Join(", ", believed.Order())}] alive; truly live: [{string.Join(", ", _live.Order())}] (t = {Simulation.Now})";
            }
        }

        return null;
    }

    /// <summary>Messages of the protocol that nodes dropped as malformed, summed over every node's current life.</summary>
    public long MalformedMessages => _protocols.Values.Sum(p => p.Counters.MalformedMessages);

    public void Dispose() => Simulation.Dispose();

    private MembershipNode CreateNode(NodeId id, NodeId[] seeds)
    {
        var protocol = _factory.Create(new MembershipSetup(id, _metadata, seeds));
        protocol.Changed += (_, change) => Changes.Add((Simulation.Now, id, change));
        _protocols[id] = protocol;
        return new MembershipNode(protocol);
    }
}
