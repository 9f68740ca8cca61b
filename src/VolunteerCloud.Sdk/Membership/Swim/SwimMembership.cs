using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership.Swim;

/// <summary>
/// SWIM (Das, Gupta, Motivala, DSN 2002) with the Lifeguard extensions (Dadgar, Phillips, Currey, 2018),
/// following HashiCorp memberlist: randomized round-robin probes, ping-req through K members, suspicion
/// refuted by incarnation, infection-style dissemination piggybacked on every probe message, gossip rounds,
/// and periodic full-state push-pull. Lifeguard: a local health multiplier that stretches this node's own
/// probe interval while it misses acks and nacks, suspicion timeouts that shrink with independent
/// confirmations, and the buddy system (a suspect learns of its suspicion in the probe itself).
/// </summary>
/// <remarks>
/// Deviations from memberlist, all deliberate: probes and push-pull are datagrams (memberlist falls back to
/// TCP); an update replaces any queued update about the same member (memberlist keys refutations by
/// address); piggybacked updates are applied before a probe is answered, so an ack can already carry the
/// refutation; gossip rounds with nothing to send are not scheduled at all (memberlist ticks and returns);
/// a member announced alive at an incarnation this node holds dead or left is told so directly (see
/// <see cref="TellStale"/>).
/// </remarks>
internal sealed partial class SwimMembership : IMembershipProtocol
{

    // Envelope (version byte, type) and a list count of up to two bytes.
    private const int EnvelopeAndCountBytes = 4;

    private readonly SwimOptions _options;
    private readonly MembershipSetup _setup;
    // Encoding buffers are shared by all instances on a thread: their contents never outlive one Send, and a
    // 10 000-node simulation would otherwise spend 800 MB on them.
    [ThreadStatic]
    private static GossipItem[]? t_gossipScratch;

    private readonly MemberTable _members;
    private readonly BroadcastQueue _broadcasts = new();
    private readonly Dictionary<int, Suspicion> _suspicions = [];
    private readonly Dictionary<uint, Relay> _relays = [];
    private readonly Dictionary<NodeId, uint> _staleNotices = [];
    private Dictionary<NodeId, long>? _failed; // forgotten dead members to reconnect to, and when (created on the first)
    private bool _reconnectArmed;
    private readonly int[] _peerScratch;
    private int[] _probeOrder = new int[16];
    private int _probeCount;
    private int _probeIndex;
    private ProbeState _probe;
    private uint _sequence;
    private uint _incarnation;
    private int _selfSlot = -1;
    private int _awareness;
    private bool _leaving;
    private bool _gossipArmed;
    private bool _tickPending;
    private bool _hasBroadcasts;
    private long _gossipPhaseTicks;
    private TimeSpan _started; // the protocol's times are ticks since it started
    private long _version;
    private MembershipView? _view;

    public SwimMembership(MembershipSetup setup, SwimOptions options)
    {
        ArgumentNullException.ThrowIfNull(setup);
        _options = OptionsGuard.EnsureValid(options); // the factory's private copy, shared by all its nodes
        _setup = setup;
        _members = new MemberTable(setup.InitialMembers.Count + 1);
        _peerScratch = new int[Math.Max(_options.IndirectChecks, Math.Max(_options.GossipNodes, 1))];
    }

    private static GossipItem[] GossipScratch => t_gossipScratch ??= new GossipItem[GossipItem.MaxPerMessage];

    public NodeId Self => _setup.Self;

    public MembershipCounters Counters { get; } = new();

    /// <summary>The local health multiplier's score, 0 (healthy) to AwarenessMaxMultiplier − 1.</summary>
    public int HealthScore => _awareness;

    /// <summary>This node's own incarnation.</summary>
    public uint Incarnation => _incarnation;

    /// <summary>Updates waiting to be piggybacked.</summary>
    public int QueuedBroadcasts => _broadcasts.Count;

    public MembershipView View => _view is { } view && view.Version == _version ? view : _view = BuildView();

    public event MembershipChangedHandler? Changed;

    public void Start(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _started = context.Now;
        var now = context.TicksSince(_started);
        _incarnation = 1;
        _gossipPhaseTicks = context.Random.NextInt64(_options.GossipInterval.Ticks);
        _selfSlot = AddMember(context, Self, MemberState.Alive, _incarnation, _setup.Metadata, now);
        Broadcast(context, GossipItem.Alive(Self, _incarnation, _setup.Metadata));
        foreach (var member in _setup.InitialMembers)
        {
            if (member.Id != Self && !_members.TryFind(member.Id, out _))
            {
                // A suspicion needs a timer this node never started: an initial suspect counts as alive.
                var state = member.State == MemberState.Suspect ? MemberState.Alive : member.State;
                AddMember(context, member.Id, state, member.Incarnation, member.Metadata, now);
            }
        }

        ResetProbeOrder(context);
        var firstProbe = _options.RandomProbeStart ? context.Random.NextTimeSpan(_options.ProbeInterval) : _options.ProbeInterval;
        context.SetTimer(firstProbe, new TimerTag(TimerKinds.SwimProbeTick));
        context.SetTimer(context.Random.NextTimeSpan(PushPullInterval()), new TimerTag(TimerKinds.SwimPushPullTick));
        if (_setup.Seeds.Any(seed => seed != Self))
        {
            Join(context);
            context.SetTimer(_options.JoinRetryInterval, new TimerTag(TimerKinds.SwimJoinRetry));
        }
    }

    /// <inheritdoc />
    public void JoinThrough(NodeContext context, NodeId seed)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (seed != Self)
        {
            SendState(context, seed, join: true, reply: false);
        }
    }

    public void Leave(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _leaving = true;
        OnDead(context, GossipItem.Dead(Self, _incarnation, Self));
    }

    public bool TryHandleMessage(NodeContext context, NodeId from, InboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            if (message.Is<SwimPing>())
            {
                OnPing(context, from, message.Read<SwimPing>());
            }
            else if (message.Is<SwimAck>())
            {
                OnAck(context, message.Read<SwimAck>());
            }
            else if (message.Is<SwimPingRequest>())
            {
                OnPingRequest(context, from, message.Read<SwimPingRequest>());
            }
            else if (message.Is<SwimNack>())
            {
                OnNack(context, message.Read<SwimNack>());
            }
            else if (message.Is<SwimGossip>())
            {
                ApplyGossip(context, message.Read<SwimGossip>().Gossip);
            }
            else if (message.Is<SwimPushPull>())
            {
                OnPushPull(context, from, message.Body);
            }
            else
            {
                return false;
            }

            return true;
        }
        catch (WireFormatException)
        {
            Counters.MalformedMessages++;
            return true;
        }
    }

    public bool TryHandleTimer(NodeContext context, TimerTag tag)
    {
        ArgumentNullException.ThrowIfNull(context);
        switch (tag.Kind)
        {
            case TimerKinds.SwimProbeTick:
                context.SetTimer(_options.ProbeInterval, new TimerTag(TimerKinds.SwimProbeTick));
                if (_probe.Active)
                {
                    // Like Go's ticker, keep one missed tick: the next probe starts as soon as this one ends.
                    _tickPending = true;
                }
                else
                {
                    ProbeNext(context);
                }

                return true;
            case TimerKinds.SwimProbeTimeout:
                OnProbeTimeout(context, (uint)tag.Argument);
                return true;
            case TimerKinds.SwimProbeDeadline:
                OnProbeDeadline(context, (uint)tag.Argument);
                return true;
            case TimerKinds.SwimSuspicionTimeout:
                OnSuspicionTimeout(context, tag.Argument);
                return true;
            case TimerKinds.SwimGossipTick:
                _gossipArmed = false;
                if (GossipRound(context))
                {
                    ArmGossip(context); // with no one to gossip to, the next member that appears re-arms it
                }

                return true;
            case TimerKinds.SwimPushPullTick:
                context.SetTimer(PushPullInterval(), new TimerTag(TimerKinds.SwimPushPullTick));
                PushPullWithRandomMember(context);
                return true;
            case TimerKinds.SwimRelayExpiry:
                OnRelayExpiry(context, (uint)tag.Argument);
                return true;
            case TimerKinds.SwimReconnect:
                Reconnect(context);
                return true;
            case TimerKinds.SwimJoinRetry:
                context.SetTimer(_options.JoinRetryInterval, new TimerTag(TimerKinds.SwimJoinRetry));
                if (!KnowsAnotherLiveMember())
                {
                    Join(context);
                }

                return true;
            default:
                return false;
        }
    }

    // ---- Helpers --------------------------------------------------------------------------------------


    private TimeSpan ScaleByHealth(TimeSpan timeout) => _options.Lifeguard ? timeout * (_awareness + 1) : timeout;

    private void AdjustHealth(int delta) => _awareness = Math.Clamp(_awareness + delta, 0, _options.AwarenessMaxMultiplier - 1);

    /// <summary>memberlist's kRandomNodes: up to k distinct members passing the filter, in at most 3·n random draws.</summary>
    private int RandomMembers(NodeContext context, int k, Func<int, bool> eligible)
    {
        var slots = _members.SlotCount;
        var found = 0;
        for (var attempt = 0; attempt < 3 * slots && found < k; attempt++)
        {
            var slot = context.Random.NextInt32(slots);
            if (_members.IsFree(slot) || !eligible(slot) || _peerScratch.AsSpan(0, found).Contains(slot))
            {
                continue;
            }

            _peerScratch[found++] = slot;
        }

        return found;
    }

    private int AddMember(NodeContext context, NodeId id, MemberState state, uint incarnation, MemberMetadata metadata, long now)
    {
        _staleNotices.Remove(id);
        var slot = _members.Add(id, state, incarnation, metadata, now);
        RaiseChanged(context, id, null, state, incarnation);
        return slot;
    }

    private void InsertIntoProbeOrder(NodeContext context, int slot)
    {
        if (_probeCount == _probeOrder.Length)
        {
            Array.Resize(ref _probeOrder, _probeOrder.Length * 2);
        }

        // Appended, then swapped with a random position (memberlist's random insertion).
        var position = context.Random.NextInt32(_probeCount + 1);
        _probeOrder[_probeCount++] = _probeOrder[position];
        _probeOrder[position] = slot;
    }

    private void SetState(NodeContext context, int slot, MemberState state, uint incarnation, long now)
    {
        var previous = _members.StateOf(slot);
        _members.Set(slot, state, incarnation, now);
        RaiseChanged(context, _members.IdOf(slot), previous, state, incarnation);
    }

    private void RaiseChanged(NodeContext context, NodeId node, MemberState? previous, MemberState current, uint incarnation)
    {
        _version++;
        Changed?.Invoke(context, new MembershipChange(node, previous, current, incarnation, _version));
    }

    private MembershipView BuildView()
    {
        var members = new List<Member>(_members.Count);
        for (var slot = 0; slot < _members.SlotCount; slot++)
        {
            if (!_members.IsFree(slot))
            {
                members.Add(_members.MemberAt(slot));
            }
        }

        return new MembershipView(Self, _version, members);
    }

    private struct ProbeState
    {
        public bool Active;
        public uint Sequence;
        public NodeId Target;
        public uint Incarnation;
        public int ExpectedNacks;
        public int Nacks;
        public TimeSpan Deadline;
        public TimerId Timer;
    }

    private readonly record struct Relay(NodeId Origin, uint OriginSequence, bool WantNack, TimerId Timer);
}
