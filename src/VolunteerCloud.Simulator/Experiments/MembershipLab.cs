using VolunteerCloud.Membership;
using VolunteerCloud.Simulator.Network;

namespace VolunteerCloud.Simulator.Experiments;

/// <summary>A simulated cluster of membership nodes for experiments.</summary>
public sealed class MembershipLab : IDisposable
{
    private readonly IMembershipProtocol[] _protocols;

    private MembershipLab(Simulation simulation, IMembershipProtocol[] protocols)
    {
        Simulation = simulation;
        _protocols = protocols;
    }

    /// <summary>The simulation.</summary>
    public Simulation Simulation { get; }

    /// <summary>How many nodes the cluster started with.</summary>
    public int Size => _protocols.Length;

    /// <summary>The protocol instance node <paramref name="node"/> started with.</summary>
    public IMembershipProtocol this[NodeId node] => _protocols[node.Value];

    /// <summary>Every protocol instance, by node id.</summary>
    public IReadOnlyList<IMembershipProtocol> Protocols => _protocols;

    /// <summary>
    /// Starts <paramref name="nodes"/> nodes at time zero. Converged: every node already knows every other as
    /// alive (incarnation 1), so a study of steady-state behaviour need not simulate the bootstrap. Otherwise
    /// every node joins through node 0.
    /// </summary>
    public static MembershipLab Start(int nodes, IMembershipProtocolFactory factory, ulong seed, NetworkOptions network, bool converged = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 1);
        ArgumentNullException.ThrowIfNull(factory);
        var simulation = new Simulation(new SimulationOptions { Seed = seed, ExpectedNodes = nodes, Network = network });
        var everyone = converged
            ? Enumerable.Range(0, nodes).Select(i => new Member(new NodeId(i), MemberState.Alive, 1, MemberMetadata.None)).ToArray()
            : [];
        NodeId[] seeds = converged ? [] : [new NodeId(0)];
        var protocols = new IMembershipProtocol[nodes];
        for (var i = 0; i < nodes; i++)
        {
            protocols[i] = factory.Create(new MembershipSetup(new NodeId(i), MemberMetadata.None, seeds) { InitialMembers = everyone });
            simulation.AddNode(new MembershipNode(protocols[i]));
        }

        return new MembershipLab(simulation, protocols);
    }

    /// <summary>Sums one counter over every node.</summary>
    public long Sum(Func<MembershipCounters, long> counter) => _protocols.Sum(p => counter(p.Counters));

    /// <inheritdoc />
    public void Dispose() => Simulation.Dispose();
}
