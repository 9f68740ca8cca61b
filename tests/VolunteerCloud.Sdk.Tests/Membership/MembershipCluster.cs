using VolunteerCloud.Membership;
using VolunteerCloud.Simulator;
using VolunteerCloud.Simulator.Network;

namespace VolunteerCloud.Sdk.Tests.Membership;

/// <summary>A simulated cluster of membership nodes, with the truth (who is really up) kept beside it.</summary>
internal sealed class MembershipCluster : IDisposable
{
    private readonly IMembershipProtocolFactory _factory;
    private readonly Dictionary<NodeId, IMembershipProtocol> _protocols = [];
    private readonly HashSet<NodeId> _live = [];

    public MembershipCluster(IMembershipProtocolFactory factory, ulong seed, NetworkOptions? network = null)
    {
        _factory = factory;
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
        _live.Add(id);
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
        _live.Remove(node);
    }

    public void Restart(NodeId node, params NodeId[] seeds)
    {
        Simulation.Restart(node, CreateNode(node, seeds));
        _live.Add(node);
    }

    /// <summary>The node announces its leave now and its process exits <paramref name="linger"/> later.</summary>
    public void Leave(NodeId node, TimeSpan linger)
    {
        _live.Remove(node);
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

    public void Dispose() => Simulation.Dispose();

    private MembershipNode CreateNode(NodeId id, NodeId[] seeds)
    {
        var protocol = _factory.Create(new MembershipSetup(id, new MemberMetadata(1, 2000, 4096), seeds));
        protocol.Changed += (_, change) => Changes.Add((Simulation.Now, id, change));
        _protocols[id] = protocol;
        return new MembershipNode(protocol);
    }
}
