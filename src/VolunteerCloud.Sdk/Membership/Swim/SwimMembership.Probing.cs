using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership.Swim;

/// <summary>SWIM's failure detector: the randomized round-robin probe, indirect probes through K members, and the probes this node relays for others.</summary>
internal sealed partial class SwimMembership
{
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
        _probe.Timer = context.SetTimer(_options.ProbeTimeout, new TimerTag(TimerKinds.SwimProbeTimeout, (int)seq));
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
        var now = context.TicksSince(_started);
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
                        context.SetTimer(_options.ReconnectInterval, new TimerTag(TimerKinds.SwimReconnect));
                        _reconnectArmed = true;
                    }
                }

                _version++;
                Changed?.Invoke(context, new MembershipChange(forgotten.Id, forgotten.State, forgotten.State, forgotten.Incarnation, _version, Removed: true));
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

        _probe.Timer = context.SetTimer(_probe.Deadline - _options.ProbeTimeout, new TimerTag(TimerKinds.SwimProbeDeadline, (int)seq));
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
        var timer = context.SetTimer(_options.ProbeTimeout, new TimerTag(TimerKinds.SwimRelayExpiry, (int)seq));
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
}
