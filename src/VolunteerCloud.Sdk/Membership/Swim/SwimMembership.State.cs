using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership.Swim;

/// <summary>How updates change a member's state (memberlist's aliveNode, suspectNode, deadNode): suspicion, refutation, stale notices.</summary>
internal sealed partial class SwimMembership
{
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
            slot = AddMember(context, alive.Node, MemberState.Alive, alive.Incarnation, alive.Metadata, context.TicksSince(_started));
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
        SetState(context, slot, MemberState.Alive, alive.Incarnation, context.TicksSince(_started));
    }

    private void OnSuspect(NodeContext context, in GossipItem suspect)
    {
        if (!_members.TryFind(suspect.Node, out var slot) || suspect.Incarnation < _members.IncarnationOf(slot))
        {
            return;
        }

        var now = context.TicksSince(_started);
        if (_suspicions.TryGetValue(slot, out var suspicion))
        {
            if (suspicion.Confirm(suspect.From, now, out var remaining))
            {
                Broadcast(context, suspect);
                context.CancelTimer(suspicion.Timer);
                suspicion.Timer = context.SetTimer(TimeSpan.FromTicks(Math.Max(0, remaining)), new TimerTag(TimerKinds.SwimSuspicionTimeout, slot));
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
        SetState(context, slot, MemberState.Suspect, suspect.Incarnation, now);
        var members = _members.Count;
        var expected = _options.Lifeguard ? _options.SuspicionMult - 2 : 0;
        if (members - 2 < expected)
        {
            expected = 0;
        }

        var min = Suspicion.MinimumTimeoutTicks(_options.SuspicionMult, members, _options.ProbeInterval);
        var max = _options.Lifeguard ? _options.SuspicionMaxTimeoutMult * min : min;
        suspicion = new Suspicion(suspect.From, Math.Max(0, expected), min, max, now, now);
        suspicion.Timer = context.SetTimer(TimeSpan.FromTicks(suspicion.InitialTimeoutTicks), new TimerTag(TimerKinds.SwimSuspicionTimeout, slot));
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
        SetState(context, slot, dead.Node == dead.From ? MemberState.Left : MemberState.Dead, dead.Incarnation, context.TicksSince(_started));
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

        SetState(context, _selfSlot, MemberState.Alive, incarnation, context.TicksSince(_started));
        Broadcast(context, GossipItem.Alive(Self, incarnation, _setup.Metadata));
    }

    private void EndSuspicion(NodeContext context, int slot)
    {
        if (_suspicions.Remove(slot, out var suspicion))
        {
            context.CancelTimer(suspicion.Timer);
        }
    }
}
