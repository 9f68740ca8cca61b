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
internal sealed class SwimMembership : IMembershipProtocol
{
    private const int ProbeTickKind = 100;
    private const int ProbeTimeoutKind = 101;
    private const int ProbeDeadlineKind = 102;
    private const int SuspicionTimeoutKind = 103;
    private const int GossipTickKind = 104;
    private const int PushPullTickKind = 105;
    private const int RelayExpiryKind = 106;
    private const int JoinRetryKind = 107;
    private const int ReconnectKind = 108;

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
    private long _startTimestamp;
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

    public event EventHandler<MembershipChange>? Changed;

    public void Start(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _startTimestamp = context.TimeProvider.GetTimestamp();
        var now = Now(context);
        _incarnation = 1;
        _gossipPhaseTicks = context.Random.NextInt64(_options.GossipInterval.Ticks);
        _selfSlot = AddMember(Self, MemberState.Alive, _incarnation, _setup.Metadata, now);
        Broadcast(context, GossipItem.Alive(Self, _incarnation, _setup.Metadata));
        foreach (var member in _setup.InitialMembers)
        {
            if (member.Id != Self && !_members.TryFind(member.Id, out _))
            {
                // A suspicion needs a timer this node never started: an initial suspect counts as alive.
                var state = member.State == MemberState.Suspect ? MemberState.Alive : member.State;
                AddMember(member.Id, state, member.Incarnation, member.Metadata, now);
            }
        }

        ResetProbeOrder(context);
        var firstProbe = _options.RandomProbeStart ? context.Random.NextTimeSpan(_options.ProbeInterval) : _options.ProbeInterval;
        context.SetTimer(firstProbe, new TimerTag(ProbeTickKind));
        context.SetTimer(context.Random.NextTimeSpan(PushPullInterval()), new TimerTag(PushPullTickKind));
        if (_setup.Seeds.Any(seed => seed != Self))
        {
            Join(context);
            context.SetTimer(_options.JoinRetryInterval, new TimerTag(JoinRetryKind));
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
            case ProbeTickKind:
                context.SetTimer(_options.ProbeInterval, new TimerTag(ProbeTickKind));
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
            case ProbeTimeoutKind:
                OnProbeTimeout(context, (uint)tag.Argument);
                return true;
            case ProbeDeadlineKind:
                OnProbeDeadline(context, (uint)tag.Argument);
                return true;
            case SuspicionTimeoutKind:
                OnSuspicionTimeout(context, tag.Argument);
                return true;
            case GossipTickKind:
                _gossipArmed = false;
                if (GossipRound(context))
                {
                    ArmGossip(context); // with no one to gossip to, the next member that appears re-arms it
                }

                return true;
            case PushPullTickKind:
                context.SetTimer(PushPullInterval(), new TimerTag(PushPullTickKind));
                PushPullWithRandomMember(context);
                return true;
            case RelayExpiryKind:
                OnRelayExpiry(context, (uint)tag.Argument);
                return true;
            case ReconnectKind:
                Reconnect(context);
                return true;
            case JoinRetryKind:
                context.SetTimer(_options.JoinRetryInterval, new TimerTag(JoinRetryKind));
                if (!KnowsAnotherLiveMember())
                {
                    Join(context);
                }

                return true;
            default:
                return false;
        }
    }

    // ---- Probing -------------------------------------------------------------------------------------

    private void ProbeNext(NodeContext context)
    {
        var target = NextProbeTarget(context);
        if (target < 0)
        {
            return;
        }

        var seq = ++_sequence;
        var targetId = _members.IdOf(target);
        _probe = new ProbeState { Active = true, Sequence = seq, Target = targetId, Incarnation = _members.IncarnationOf(target) };
        Counters.ProbesSent++;
        if (_options.Lifeguard && _members.StateOf(target) == MemberState.Suspect)
        {
            // Buddy system: tell the suspect it is suspected, in the probe itself, and nothing else.
            var scratch = GossipScratch;
            scratch[0] = GossipItem.Suspect(targetId, _members.IncarnationOf(target), Self);
            context.Send(targetId, new SwimPing(seq, targetId, new WireList<GossipItem>(scratch.AsMemory(0, 1))));
        }
        else
        {
            context.Send(targetId, new SwimPing(seq, targetId, TakeGossip(WireLength.VarUInt(seq) + WireLength.NodeId(targetId))));
        }

        // One timer at a time: the deadline is set only when the direct probe has failed (rarely).
        _probe.Deadline = ScaleByHealth(_options.ProbeInterval);
        _probe.Timer = context.SetTimer(_options.ProbeTimeout, new TimerTag(ProbeTimeoutKind, (int)seq));
    }

    /// <summary>memberlist's probe(): the next member in a shuffled round-robin order, skipping self, dead and left.</summary>
    private int NextProbeTarget(NodeContext context)
    {
        for (var checkedCount = 0; ;)
        {
            if (checkedCount >= _probeCount)
            {
                return -1;
            }

            if (_probeIndex >= _probeCount)
            {
                ResetProbeOrder(context);
                _probeIndex = 0;
                checkedCount++;
                continue;
            }

            var slot = _probeOrder[_probeIndex++];
            if (slot == _selfSlot || _members.IsFree(slot) || _members.StateOf(slot) is MemberState.Dead or MemberState.Left)
            {
                checkedCount++;
                continue;
            }

            return slot;
        }
    }

    /// <summary>At each wrap-around: forget members dead or left for longer than GossipToTheDeadTime, then reshuffle.</summary>
    private void ResetProbeOrder(NodeContext context)
    {
        var now = Now(context);
        var horizon = _options.GossipToTheDeadTime.Ticks;
        if (_probeOrder.Length < _members.SlotCount)
        {
            _probeOrder = new int[_members.SlotCount];
        }

        _probeCount = 0;
        for (var slot = 0; slot < _members.SlotCount; slot++)
        {
            if (_members.IsFree(slot))
            {
                continue;
            }

            if (_members.StateOf(slot) is MemberState.Dead or MemberState.Left && now - _members.ChangedAt(slot) > horizon)
            {
                var forgotten = _members.MemberAt(slot);
                _staleNotices.Remove(forgotten.Id);
                _members.Remove(slot);
                if (forgotten.State == MemberState.Dead && _options.ReconnectTimeout > TimeSpan.Zero)
                {
                    (_failed ??= [])[forgotten.Id] = now;
                    if (!_reconnectArmed)
                    {
                        context.SetTimer(_options.ReconnectInterval, new TimerTag(ReconnectKind));
                        _reconnectArmed = true;
                    }
                }

                _version++;
                Changed?.Invoke(this, new MembershipChange(forgotten.Id, forgotten.State, forgotten.State, forgotten.Incarnation, _version, Removed: true));
                continue;
            }

            _probeOrder[_probeCount++] = slot;
        }

        context.Random.Shuffle(_probeOrder.AsSpan(0, _probeCount));
    }

    private void OnProbeTimeout(NodeContext context, uint seq)
    {
        if (!_probe.Active || _probe.Sequence != seq)
        {
            return;
        }

        _probe.Timer = context.SetTimer(_probe.Deadline - _options.ProbeTimeout, new TimerTag(ProbeDeadlineKind, (int)seq));
        if (!_members.TryFind(_probe.Target, out _))
        {
            return;
        }

        var count = RandomMembers(context, _options.IndirectChecks, slot => slot != _selfSlot && _members.IdOf(slot) != _probe.Target && _members.StateOf(slot) == MemberState.Alive);
        for (var i = 0; i < count; i++)
        {
            var peer = _members.IdOf(_peerScratch[i]);
            var wantNack = _options.Lifeguard;
            if (wantNack)
            {
                _probe.ExpectedNacks++;
            }

            Counters.IndirectProbesSent++;
            var header = WireLength.VarUInt(seq) + WireLength.NodeId(_probe.Target) + 1;
            context.Send(peer, new SwimPingRequest(seq, _probe.Target, wantNack, TakeGossip(header)));
        }
    }

    private void OnProbeDeadline(NodeContext context, uint seq)
    {
        if (!_probe.Active || _probe.Sequence != seq)
        {
            return;
        }

        _probe.Active = false;
        Counters.ProbesFailed++;
        if (_options.Lifeguard)
        {
            AdjustHealth(_probe.ExpectedNacks > 0 ? Math.Max(0, _probe.ExpectedNacks - _probe.Nacks) : 1);
        }

        if (!_members.TryFind(_probe.Target, out var slot))
        {
            RunPendingProbe(context);
            return;
        }

        // Suspect the incarnation that was probed (as memberlist does): a refutation that arrived meanwhile wins.
        var incarnation = _probe.Incarnation;
        if (_options.Suspicion)
        {
            var wasAlive = _members.StateOf(slot) == MemberState.Alive;
            OnSuspect(context, GossipItem.Suspect(_probe.Target, incarnation, Self));
            if (wasAlive && _members.StateOf(slot) == MemberState.Suspect)
            {
                Counters.SuspicionsRaised++;
            }
        }
        else if (_members.StateOf(slot) is MemberState.Alive or MemberState.Suspect)
        {
            Counters.DeathsDeclared++;
            OnDead(context, GossipItem.Dead(_probe.Target, incarnation, Self));
        }

        RunPendingProbe(context);
    }

    private void RunPendingProbe(NodeContext context)
    {
        if (_tickPending)
        {
            _tickPending = false;
            ProbeNext(context);
        }
    }

    private void OnPing(NodeContext context, NodeId from, SwimPing ping)
    {
        if (ping.Target != Self)
        {
            return; // meant for a node that used to have this id or address
        }

        ApplyGossip(context, ping.Gossip);
        context.Send(from, new SwimAck(ping.Sequence, TakeGossip(WireLength.VarUInt(ping.Sequence))));
    }

    private void OnPingRequest(NodeContext context, NodeId from, SwimPingRequest request)
    {
        ApplyGossip(context, request.Gossip);
        var seq = ++_sequence;
        var timer = context.SetTimer(_options.ProbeTimeout, new TimerTag(RelayExpiryKind, (int)seq));
        _relays[seq] = new Relay(from, request.Sequence, request.WantNack, timer);
        context.Send(request.Target, new SwimPing(seq, request.Target, TakeGossip(WireLength.VarUInt(seq) + WireLength.NodeId(request.Target))));
    }

    private void OnAck(NodeContext context, SwimAck ack)
    {
        ApplyGossip(context, ack.Gossip);
        if (_probe.Active && ack.Sequence == _probe.Sequence)
        {
            _probe.Active = false;
            context.CancelTimer(_probe.Timer);
            if (_options.Lifeguard)
            {
                AdjustHealth(-1);
            }

            RunPendingProbe(context);
        }
        else if (_relays.Remove(ack.Sequence, out var relay))
        {
            context.CancelTimer(relay.Timer);
            context.Send(relay.Origin, new SwimAck(relay.OriginSequence, TakeGossip(WireLength.VarUInt(relay.OriginSequence))));
        }
    }

    private void OnNack(NodeContext context, SwimNack nack)
    {
        ApplyGossip(context, nack.Gossip);
        if (_probe.Active && nack.Sequence == _probe.Sequence)
        {
            _probe.Nacks++;
        }
    }

    private void OnRelayExpiry(NodeContext context, uint seq)
    {
        if (_relays.Remove(seq, out var relay) && relay.WantNack)
        {
            context.Send(relay.Origin, new SwimNack(relay.OriginSequence, TakeGossip(WireLength.VarUInt(relay.OriginSequence))));
        }
    }

    // ---- State transitions (memberlist state.go aliveNode / suspectNode / deadNode) -------------------

    private void ApplyGossip(NodeContext context, WireList<GossipItem> gossip)
    {
        foreach (var item in gossip.Items.Span)
        {
            if (item.Incarnation == uint.MaxValue)
            {
                continue; // could never be refuted (the incarnation cannot grow): refused as malformed
            }

            switch (item.Kind)
            {
                case GossipKind.Alive:
                    OnAlive(context, item);
                    break;
                case GossipKind.Suspect:
                    OnSuspect(context, item);
                    break;
                default:
                    OnDead(context, item);
                    break;
            }
        }
    }

    private void OnAlive(NodeContext context, in GossipItem alive)
    {
        if (_leaving && alive.Node == Self)
        {
            return;
        }

        if (!_members.TryFind(alive.Node, out var slot))
        {
            slot = AddMember(alive.Node, MemberState.Alive, alive.Incarnation, alive.Metadata, Now(context));
            InsertIntoProbeOrder(context, slot);
            Broadcast(context, alive);
            return;
        }

        if (alive.Node == Self)
        {
            if (alive.Incarnation < _incarnation || (alive.Incarnation == _incarnation && alive.Metadata == _setup.Metadata))
            {
                return;
            }

            Refute(context, alive.Incarnation);
            return;
        }

        if (alive.Incarnation <= _members.IncarnationOf(slot))
        {
            if (_members.StateOf(slot) is MemberState.Dead or MemberState.Left)
            {
                TellStale(context, slot);
            }

            return;
        }

        EndSuspicion(context, slot);
        _staleNotices.Remove(alive.Node);
        Broadcast(context, alive);
        _members.SetMetadata(slot, alive.Metadata);
        SetState(slot, MemberState.Alive, alive.Incarnation, Now(context));
    }

    private void OnSuspect(NodeContext context, in GossipItem suspect)
    {
        if (!_members.TryFind(suspect.Node, out var slot) || suspect.Incarnation < _members.IncarnationOf(slot))
        {
            return;
        }

        var now = Now(context);
        if (_suspicions.TryGetValue(slot, out var suspicion))
        {
            if (suspicion.Confirm(suspect.From, now, out var remaining))
            {
                Broadcast(context, suspect);
                context.CancelTimer(suspicion.Timer);
                suspicion.Timer = context.SetTimer(TimeSpan.FromTicks(Math.Max(0, remaining)), new TimerTag(SuspicionTimeoutKind, slot));
            }

            return;
        }

        if (_members.StateOf(slot) != MemberState.Alive)
        {
            return;
        }

        if (suspect.Node == Self)
        {
            Refute(context, suspect.Incarnation);
            return;
        }

        Broadcast(context, suspect);
        SetState(slot, MemberState.Suspect, suspect.Incarnation, now);
        var members = _members.Count;
        var expected = _options.Lifeguard ? _options.SuspicionMult - 2 : 0;
        if (members - 2 < expected)
        {
            expected = 0;
        }

        var min = Suspicion.MinimumTimeoutTicks(_options.SuspicionMult, members, _options.ProbeInterval);
        var max = _options.Lifeguard ? _options.SuspicionMaxTimeoutMult * min : min;
        suspicion = new Suspicion(suspect.From, Math.Max(0, expected), min, max, now, now);
        suspicion.Timer = context.SetTimer(TimeSpan.FromTicks(suspicion.InitialTimeoutTicks), new TimerTag(SuspicionTimeoutKind, slot));
        _suspicions[slot] = suspicion;
    }

    private void OnSuspicionTimeout(NodeContext context, int slot)
    {
        if (!_suspicions.TryGetValue(slot, out var suspicion)
            || _members.IsFree(slot)
            || _members.StateOf(slot) != MemberState.Suspect
            || _members.ChangedAt(slot) != suspicion.ChangedAtTicks)
        {
            return;
        }

        _suspicions.Remove(slot);
        Counters.DeathsDeclared++;
        OnDead(context, GossipItem.Dead(_members.IdOf(slot), _members.IncarnationOf(slot), Self));
    }

    private void OnDead(NodeContext context, in GossipItem dead)
    {
        if (!_members.TryFind(dead.Node, out var slot) || dead.Incarnation < _members.IncarnationOf(slot))
        {
            return;
        }

        EndSuspicion(context, slot);
        if (_members.StateOf(slot) is MemberState.Dead or MemberState.Left)
        {
            return;
        }

        if (dead.Node == Self && !_leaving)
        {
            Refute(context, dead.Incarnation);
            return;
        }

        Broadcast(context, dead);
        SetState(slot, dead.Node == dead.From ? MemberState.Left : MemberState.Dead, dead.Incarnation, Now(context));
    }

    /// <summary>
    /// Someone still announces a member alive at an incarnation this node holds dead or left: most likely the
    /// member restarted and began again at incarnation 1. Tell it directly what this node holds, so that it
    /// refutes at once instead of waiting for a push-pull to bring it the news (VolunteerCloud's addition to
    /// memberlist; without it such a member can flap between left and alive until every node forgets it).
    /// </summary>
    private void TellStale(NodeContext context, int slot)
    {
        var node = _members.IdOf(slot);
        var incarnation = _members.IncarnationOf(slot);
        if (_staleNotices.TryGetValue(node, out var told) && told >= incarnation)
        {
            return; // once per member and incarnation
        }

        _staleNotices[node] = incarnation;
        Counters.StaleNotices++;
        var scratch = GossipScratch;
        scratch[0] = GossipItem.Dead(node, incarnation, _members.StateOf(slot) == MemberState.Left ? node : Self);
        context.Send(node, new SwimGossip(new WireList<GossipItem>(scratch.AsMemory(0, 1))));
    }

    private void Refute(NodeContext context, uint accusedIncarnation)
    {
        var incarnation = _incarnation + 1;
        if (accusedIncarnation >= incarnation)
        {
            incarnation = accusedIncarnation + 1;
        }

        _incarnation = incarnation;
        Counters.Refutations++;
        if (_options.Lifeguard)
        {
            AdjustHealth(1);
        }

        SetState(_selfSlot, MemberState.Alive, incarnation, Now(context));
        Broadcast(context, GossipItem.Alive(Self, incarnation, _setup.Metadata));
    }

    private void EndSuspicion(NodeContext context, int slot)
    {
        if (_suspicions.Remove(slot, out var suspicion))
        {
            context.CancelTimer(suspicion.Timer);
        }
    }

    // ---- Dissemination ----------------------------------------------------------------------------------

    private void Broadcast(NodeContext context, in GossipItem item)
    {
        _broadcasts.Enqueue(item);
        _hasBroadcasts = true;
        ArmGossip(context);
    }

    private WireList<GossipItem> TakeGossip(int headerBytes)
    {
        // Checked on every probe message: a field of this object, so an idle queue costs no cache miss.
        if (!_hasBroadcasts)
        {
            return WireList<GossipItem>.Empty;
        }

        var scratch = GossipScratch;
        var count = _broadcasts.Take(scratch, _options.UdpBufferSize - headerBytes - EnvelopeAndCountBytes, RetransmitLimit());
        _hasBroadcasts = !_broadcasts.IsEmpty;
        return count == 0 ? WireList<GossipItem>.Empty : new WireList<GossipItem>(scratch.AsMemory(0, count));
    }

    private int RetransmitLimit() => SwimMath.RetransmitLimit(_options.RetransmitMult, _members.Count);

    /// <summary>
    /// Gossip rounds run at the node's own phase, every GossipInterval, but only while updates wait: a round
    /// with nothing to send is never scheduled, which is what memberlist's ticker amounts to.
    /// </summary>
    private void ArmGossip(NodeContext context)
    {
        if (_gossipArmed || !_hasBroadcasts || _options.GossipNodes == 0)
        {
            return;
        }

        var now = Now(context);
        var interval = _options.GossipInterval.Ticks;
        var rounds = now < _gossipPhaseTicks ? 0 : ((now - _gossipPhaseTicks) / interval) + 1;
        var next = _gossipPhaseTicks + (rounds * interval);
        context.SetTimer(TimeSpan.FromTicks(next - now), new TimerTag(GossipTickKind));
        _gossipArmed = true;
    }

    /// <returns>Whether there was anyone to gossip to.</returns>
    private bool GossipRound(NodeContext context)
    {
        var now = Now(context);
        var horizon = _options.GossipToTheDeadTime.Ticks;
        var count = RandomMembers(context, _options.GossipNodes, slot =>
            slot != _selfSlot && _members.StateOf(slot) switch
            {
                MemberState.Alive or MemberState.Suspect => true,
                MemberState.Dead => now - _members.ChangedAt(slot) <= horizon,
                _ => false,
            });
        for (var i = 0; i < count; i++)
        {
            var gossip = TakeGossip(0);
            if (gossip.Count == 0)
            {
                break;
            }

            context.Send(_members.IdOf(_peerScratch[i]), new SwimGossip(gossip));
        }

        return count > 0;
    }

    // ---- Anti-entropy and joining -----------------------------------------------------------------------

    private TimeSpan PushPullInterval() => SwimMath.PushPullInterval(_options.PushPullInterval, _members.Count);

    private void Join(NodeContext context)
    {
        foreach (var seed in _setup.Seeds)
        {
            if (seed != Self)
            {
                SendState(context, seed, join: true, reply: false);
            }
        }
    }

    /// <summary>
    /// Serf's reconnect: with probability failed ÷ alive, a push-pull with one random forgotten dead member. If it
    /// is alive (the partition healed), the exchange merges the two sides' views: each learns the other's members,
    /// and a member told it is dead refutes with a new incarnation.
    /// </summary>
    private void Reconnect(NodeContext context)
    {
        _reconnectArmed = false;
        var failed = _failed!;
        var now = Now(context);
        foreach (var (id, forgottenAt) in failed)
        {
            if (now - forgottenAt > _options.ReconnectTimeout.Ticks || _members.TryFind(id, out _))
            {
                failed.Remove(id); // removing during enumeration is allowed for Dictionary since .NET Core 3.0
            }
        }

        if (failed.Count == 0 || _leaving)
        {
            return;
        }

        context.SetTimer(_options.ReconnectInterval, new TimerTag(ReconnectKind));
        _reconnectArmed = true;
        var alive = 0;
        for (var slot = 0; slot < _members.SlotCount; slot++)
        {
            alive += !_members.IsFree(slot) && _members.StateOf(slot) == MemberState.Alive ? 1 : 0;
        }

        if (context.Random.NextDouble() * alive <= failed.Count)
        {
            Counters.ReconnectsAttempted++;
            SendState(context, failed.ElementAt(context.Random.NextInt32(failed.Count)).Key, join: false, reply: false);
        }
    }

    private void PushPullWithRandomMember(NodeContext context)
    {
        if (RandomMembers(context, 1, slot => slot != _selfSlot && _members.StateOf(slot) == MemberState.Alive) == 1)
        {
            Counters.PushPullsStarted++;
            SendState(context, _members.IdOf(_peerScratch[0]), join: false, reply: false);
        }
    }

    private void SendState(NodeContext context, NodeId to, bool join, bool reply)
    {
        // Chunks of up to MembersPerChunk members and MaxChunkBytes, written straight from the table: members with long
        // addresses reach the byte limit first, and a chunk must fit one datagram.
        int first = 0, inChunk = 0, bytes = 0, chunk = 0;
        for (var slot = 0; slot < _members.SlotCount; slot++)
        {
            if (_members.IsFree(slot))
            {
                continue;
            }

            var length = SwimPushPull.EncodedLength(_members.MemberAt(slot));
            if (inChunk == SwimPushPull.MembersPerChunk || bytes + length > SwimPushPull.MaxChunkBytes)
            {
                context.Send(to, new SwimPushPull(join, reply, chunk++, default) { Table = _members, FirstSlot = first, EndSlot = slot });
                first = slot;
                inChunk = 0;
                bytes = 0;
            }

            inChunk++;
            bytes += length;
        }

        if (inChunk > 0 || chunk == 0)
        {
            context.Send(to, new SwimPushPull(join, reply, chunk, default) { Table = _members, FirstSlot = first, EndSlot = _members.SlotCount });
        }
    }

    private void OnPushPull(NodeContext context, NodeId from, ReadOnlySpan<byte> body)
    {
        // Read member by member instead of materialising the list: a 10 000-member state is 5 chunks a time. The whole
        // chunk is checked before any of it is applied, so a malformed one changes nothing (it would otherwise insert
        // the members read before the fault, some of them read from the middle of others).
        var check = new WireReader(body);
        var (_, reply, chunk, count) = SwimPushPull.ReadHeader(ref check);
        var members = check;
        for (var i = 0; i < count; i++)
        {
            SwimPushPull.ReadMember(ref check);
        }

        check.EnsureEnd();
        for (var i = 0; i < count; i++)
        {
            var remote = SwimPushPull.ReadMember(ref members);
            if (remote.Incarnation == uint.MaxValue || IsAlreadyKnown(remote))
            {
                continue;
            }

            switch (remote.State)
            {
                case MemberState.Alive:
                    OnAlive(context, GossipItem.Alive(remote.Id, remote.Incarnation, remote.Metadata));
                    break;
                case MemberState.Left:
                    OnDead(context, GossipItem.Dead(remote.Id, remote.Incarnation, remote.Id));
                    break;
                default:
                    OnSuspect(context, GossipItem.Suspect(remote.Id, remote.Incarnation, Self));
                    break;
            }
        }

        if (!reply && chunk == 0)
        {
            SendState(context, from, join: false, reply: true);
        }
    }

    /// <summary>
    /// Whether merging <paramref name="remote"/> would change nothing: alive or gone at the incarnation this node
    /// already holds (the common case of a push-pull between converged nodes). Suspects are always merged, as
    /// they may confirm a suspicion.
    /// </summary>
    private bool IsAlreadyKnown(in Member remote)
    {
        if (remote.Id == Self || !_members.TryFind(remote.Id, out var slot) || _members.IncarnationOf(slot) != remote.Incarnation)
        {
            return false;
        }

        var local = _members.StateOf(slot);
        return remote.State switch
        {
            MemberState.Alive => local is MemberState.Alive or MemberState.Suspect, // else OnAlive tells the member it is stale
            MemberState.Dead or MemberState.Left => local is MemberState.Dead or MemberState.Left,
            _ => false,
        };
    }

    private bool KnowsAnotherLiveMember()
    {
        for (var slot = 0; slot < _members.SlotCount; slot++)
        {
            if (slot != _selfSlot && !_members.IsFree(slot) && _members.StateOf(slot) == MemberState.Alive)
            {
                return true;
            }
        }

        return false;
    }

    // ---- Helpers --------------------------------------------------------------------------------------

    private long Now(NodeContext context) => context.TimeProvider.GetElapsedTime(_startTimestamp).Ticks;

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

    private int AddMember(NodeId id, MemberState state, uint incarnation, MemberMetadata metadata, long now)
    {
        _staleNotices.Remove(id);
        var slot = _members.Add(id, state, incarnation, metadata, now);
        RaiseChanged(id, null, state, incarnation);
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

    private void SetState(int slot, MemberState state, uint incarnation, long now)
    {
        var previous = _members.StateOf(slot);
        _members.Set(slot, state, incarnation, now);
        RaiseChanged(_members.IdOf(slot), previous, state, incarnation);
    }

    private void RaiseChanged(NodeId node, MemberState? previous, MemberState current, uint incarnation)
    {
        _version++;
        Changed?.Invoke(this, new MembershipChange(node, previous, current, incarnation, _version));
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

/// <summary>memberlist's scaling formulas (util.go), where N counts every member known, this node included.</summary>
internal static class SwimMath
{
    /// <summary>retransmitLimit: RetransmitMult · ⌈log10(N + 1)⌉.</summary>
    public static int RetransmitLimit(int retransmitMult, int members) =>
        retransmitMult * (int)Math.Ceiling(Math.Log10(members + 1));

    /// <summary>pushPullScale: the interval, times ⌈log2 N − log2 32⌉ + 1 above 32 members.</summary>
    public static TimeSpan PushPullInterval(TimeSpan interval, int members) =>
        members <= 32 ? interval : interval * (Math.Ceiling(Math.Log2(members) - Math.Log2(32)) + 1);
}
