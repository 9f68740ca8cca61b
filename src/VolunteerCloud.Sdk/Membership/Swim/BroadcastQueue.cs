namespace VolunteerCloud.Membership.Swim;

/// <summary>
/// memberlist's TransmitLimitedQueue: updates waiting to be piggybacked, least-sent first. A newer update
/// about a member replaces any queued one; an update is dropped after the retransmit limit.
/// </summary>
/// <remarks>
/// Within one transmit count memberlist takes the largest update that fits, newest on ties; updates here
/// differ by a few bytes, so this queue takes the newest that fits. Unlike memberlist it has a ceiling
/// (<see cref="SwimOptions"/> has none to set it: 4096, Serf's MaxQueueDepth default); beyond it the most-sent
/// updates go first, as memberlist's Prune would drop them.
/// </remarks>
internal sealed class BroadcastQueue
{
    public const int MaxQueued = 4096;

    private GossipItem[] _items = new GossipItem[8];
    private int[] _transmits = new int[8];
    private int[] _freeSlots = new int[8];
    private int _freeCount;
    private int _slotCount;
    private readonly Dictionary<NodeId, int> _byNode = [];
    private List<int>[] _tiers = [[], [], [], []];
    private readonly List<int> _promoted = [];

    /// <summary>Updates waiting to be sent.</summary>
    public int Count => _byNode.Count;

    /// <summary>Whether nothing waits (read on every probe, so kept beside the queue's other hot fields).</summary>
    public bool IsEmpty => _byNode.Count == 0;

    public void Enqueue(in GossipItem item)
    {
        if (_byNode.Remove(item.Node, out var old))
        {
            Release(old); // still listed in its tier; skipped there and dropped lazily
        }

        if (_byNode.Count >= MaxQueued)
        {
            DropMostSent();
        }

        var slot = _freeCount > 0 ? _freeSlots[--_freeCount] : NewSlot();
        _items[slot] = item;
        _transmits[slot] = 0;
        _byNode[item.Node] = slot;
        var fresh = _tiers[0];
        fresh.Add(slot);
        if (fresh.Count > (2 * _byNode.Count) + 64)
        {
            // Replaced updates linger in their tier until visited; sweep them when they pile up.
            fresh.RemoveAll(s => !IsQueued(s, 0));
        }
    }

    /// <summary>
    /// Takes updates for one message: least-sent first, newest first among equals, while they fit
    /// <paramref name="byteBudget"/>. Each taken update counts one transmission more and is dropped at
    /// <paramref name="transmitLimit"/>.
    /// </summary>
    /// <returns>How many updates were written to <paramref name="destination"/>.</returns>
    public int Take(Span<GossipItem> destination, int byteBudget, int transmitLimit)
    {
        var taken = 0;
        for (var tier = 0; tier < _tiers.Length && taken < destination.Length && byteBudget > 0; tier++)
        {
            var list = _tiers[tier];
            for (var i = list.Count - 1; i >= 0 && taken < destination.Length; i--)
            {
                var slot = list[i];
                if (!IsQueued(slot, tier))
                {
                    list.RemoveAt(i);
                    continue;
                }

                var size = _items[slot].EncodedLength;
                if (size > byteBudget)
                {
                    continue;
                }

                byteBudget -= size;
                destination[taken++] = _items[slot];
                list.RemoveAt(i);
                if (++_transmits[slot] >= transmitLimit)
                {
                    _byNode.Remove(_items[slot].Node);
                    Release(slot);
                }
                else
                {
                    _promoted.Add(slot);
                }
            }
        }

        // Taken newest first; appended oldest first, so that each tier stays newest-last.
        for (var i = _promoted.Count - 1; i >= 0; i--)
        {
            TierOf(_transmits[_promoted[i]]).Add(_promoted[i]);
        }

        _promoted.Clear();
        return taken;
    }

    private bool IsQueued(int slot, int tier) =>
        _transmits[slot] == tier && _byNode.TryGetValue(_items[slot].Node, out var live) && live == slot;

    private List<int> TierOf(int transmits)
    {
        while (transmits >= _tiers.Length)
        {
            var grown = new List<int>[_tiers.Length * 2];
            _tiers.CopyTo(grown, 0);
            for (var i = _tiers.Length; i < grown.Length; i++)
            {
                grown[i] = [];
            }

            _tiers = grown;
        }

        return _tiers[transmits];
    }

    private void DropMostSent()
    {
        for (var tier = _tiers.Length - 1; tier >= 0; tier--)
        {
            var list = _tiers[tier];
            while (list.Count > 0)
            {
                var slot = list[0];
                list.RemoveAt(0);
                if (IsQueued(slot, tier))
                {
                    _byNode.Remove(_items[slot].Node);
                    Release(slot);
                    return;
                }
            }
        }
    }

    private void Release(int slot)
    {
        _transmits[slot] = -1;
        if (_freeCount == _freeSlots.Length)
        {
            Array.Resize(ref _freeSlots, _freeSlots.Length * 2);
        }

        _freeSlots[_freeCount++] = slot;
    }

    private int NewSlot()
    {
        if (_slotCount == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
            Array.Resize(ref _transmits, _transmits.Length * 2);
        }

        return _slotCount++;
    }
}
