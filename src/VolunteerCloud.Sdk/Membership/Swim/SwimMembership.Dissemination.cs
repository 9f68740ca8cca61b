using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership.Swim;

/// <summary>Dissemination and anti-entropy: the broadcast queue piggybacked on probes, gossip rounds, push-pull, joining and reconnecting.</summary>
internal sealed partial class SwimMembership
{
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

        var now = context.TicksSince(_started);
        var interval = _options.GossipInterval.Ticks;
        var rounds = now < _gossipPhaseTicks ? 0 : ((now - _gossipPhaseTicks) / interval) + 1;
        var next = _gossipPhaseTicks + (rounds * interval);
        context.SetTimer(TimeSpan.FromTicks(next - now), new TimerTag(TimerKinds.SwimGossipTick));
        _gossipArmed = true;
    }

    /// <returns>Whether there was anyone to gossip to.</returns>
    private bool GossipRound(NodeContext context)
    {
        var now = context.TicksSince(_started);
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
        var now = context.TicksSince(_started);
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

        context.SetTimer(_options.ReconnectInterval, new TimerTag(TimerKinds.SwimReconnect));
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
}
