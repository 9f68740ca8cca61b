using System.Collections.Immutable;
using VolunteerCloud.Membership;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Simulator.ControlPlane;

/// <summary>
/// Modelled membership for large, long experiments: the simulator knows who is up, and every node's view follows
/// the truth after a fixed delay — <see cref="DetectionDelay"/> for departures (what SWIM with Lifeguard takes to
/// declare a crashed member dead), <see cref="JoinDelay"/> for arrivals. It costs no messages, so a 2 000-node,
/// 7-day churn study runs in minutes instead of hours; the membership studies (vcsim membership …) measure the
/// real protocols, and control-plane tests also run on real SWIM. All nodes share one view object.
/// </summary>
public sealed class OracleMembershipHub
{
    private readonly Simulation _simulation;
    private readonly Dictionary<NodeId, Member> _members = [];
    private readonly Dictionary<NodeId, OracleMembership> _protocols = [];
    private long _version;

    /// <summary>Creates the hub.</summary>
    /// <param name="simulation">The simulation.</param>
    /// <param name="detectionDelay">Delay before a departure shows in every view. Default 15 s: memberlist's LAN defaults at 2 000 members (first suspicion after about 2 probe periods, then a suspicion timeout of 4 × log10(2000) × 1 s ≈ 13 s).</param>
    /// <param name="joinDelay">Delay before an arrival shows. Default 1 s (a push-pull join).</param>
    public OracleMembershipHub(Simulation simulation, TimeSpan? detectionDelay = null, TimeSpan? joinDelay = null)
    {
        ArgumentNullException.ThrowIfNull(simulation);
        _simulation = simulation;
        DetectionDelay = detectionDelay ?? TimeSpan.FromSeconds(15);
        JoinDelay = joinDelay ?? TimeSpan.FromSeconds(1);
        View = new MembershipView(default, 0, []);
    }

    /// <summary>Delay before a departure shows.</summary>
    public TimeSpan DetectionDelay { get; }

    /// <summary>Delay before an arrival shows.</summary>
    public TimeSpan JoinDelay { get; }

    /// <summary>The view every node sees.</summary>
    public MembershipView View { get; private set; }

    /// <summary>Registers a node (before the run, or at once when it is added): alive in every view from the start.</summary>
    public void Register(NodeId node, MemberMetadata metadata)
    {
        _members[node] = new Member(node, MemberState.Alive, 0, metadata);
        Rebuild();
    }

    /// <summary>The protocol instance for one incarnation of a node.</summary>
    public IMembershipProtocol Create(NodeId node) => _protocols[node] = new OracleMembership(this, node);

    /// <summary>The node went down (crashed or left): every view shows it after the detection delay, unless it is back by then.</summary>
    public void Down(NodeId node) => _simulation.Schedule(DetectionDelay, () =>
    {
        if (!_simulation.IsUp(node))
        {
            Set(node, MemberState.Dead);
        }
    });

    /// <summary>The node came up: every view shows it after the join delay, unless it went down again.</summary>
    public void Up(NodeId node) => _simulation.Schedule(JoinDelay, () =>
    {
        if (_simulation.IsUp(node))
        {
            Set(node, MemberState.Alive);
        }
    });

    private void Set(NodeId node, MemberState state)
    {
        var member = _members[node];
        if (member.State == state)
        {
            return;
        }

        _members[node] = member with { State = state, Incarnation = member.Incarnation + 1 };
        Rebuild();
        var change = new MembershipChange(node, member.State, state, member.Incarnation + 1, View.Version);
        foreach (var (id, protocol) in _protocols)
        {
            if (_simulation.IsUp(id) && _simulation.GetNode(id) is not null)
            {
                _simulation.ScheduleOnNode(TimeSpan.Zero, id, context => protocol.Raise(context, change));
            }
        }
    }

    private void Rebuild() => View = new MembershipView(default, ++_version, _members.Values);

    private sealed class OracleMembership(OracleMembershipHub hub, NodeId self) : IMembershipProtocol
    {
        public NodeId Self { get; } = self;

        public MembershipView View => hub.View;

        public MembershipCounters Counters { get; } = new();

        public event MembershipChangedHandler? Changed;

        public void Start(NodeContext context)
        {
        }

        public bool TryHandleMessage(NodeContext context, NodeId from, InboundMessage message) => false;

        public bool TryHandleTimer(NodeContext context, TimerTag tag) => false;

        public void Leave(NodeContext context)
        {
        }

        public void Raise(NodeContext context, MembershipChange change)
        {
            if (hub._protocols.TryGetValue(Self, out var current) && ReferenceEquals(current, this))
            {
                Changed?.Invoke(context, change);
            }
        }
    }
}
