namespace VolunteerCloud.Membership;

/// <summary>
/// One node's table of members, compact enough for every node of a 10 000-node simulation to hold all the
/// others (about 20 bytes per member): one 12-byte record per slot (id, incarnation, state: one cache line
/// holds five), an open-addressing index from id to slot, metadata only once some member has any, and
/// state-change times only for members not alive.
/// </summary>
/// <remarks>
/// The index takes an id's low bits as its home position: dense simulator ids (0, 1, 2, ...) never collide
/// and stay in order, and the random ids of real hosts are uniform already.
/// </remarks>
internal sealed class MemberTable
{
    private const byte Free = 0xFF;
    private Entry[] _entries;
    private MemberMetadata[]? _metadata;
    private int[] _freeSlots = new int[4];
    private int _freeCount;
    private int _slotCount;
    private int _count;
    private int[] _index;
    private readonly Dictionary<int, long> _changedAt = [];

    /// <summary>Creates a table with room for <paramref name="capacity"/> members before it grows.</summary>
    public MemberTable(int capacity = 16)
    {
        capacity = Math.Max(16, capacity);
        _entries = new Entry[capacity];
        _index = CreateIndex(IndexSizeFor(capacity));
    }

    /// <summary>How many index positions are taken (equals <see cref="Count"/>; for tests).</summary>
    internal int IndexedCount => _index.Count(i => i >= 0);

    /// <summary>Members in the table.</summary>
    public int Count => _count;

    /// <summary>Slots in use or free: iterate 0..SlotCount and skip <see cref="IsFree"/>.</summary>
    public int SlotCount => _slotCount;

    public bool IsFree(int slot) => _entries[slot].State == Free;

    public NodeId IdOf(int slot) => _entries[slot].Id;

    public MemberState StateOf(int slot) => (MemberState)_entries[slot].State;

    public uint IncarnationOf(int slot) => _entries[slot].Incarnation;

    public MemberMetadata MetadataOf(int slot) => _metadata is null ? default : _metadata[slot];

    public Member MemberAt(int slot)
    {
        ref readonly var entry = ref _entries[slot];
        return new Member(entry.Id, (MemberState)entry.State, entry.Incarnation, MetadataOf(slot));
    }

    /// <summary>When the member left the alive state, in clock ticks; only for members not alive.</summary>
    public long ChangedAt(int slot) => _changedAt.TryGetValue(slot, out var ticks) ? ticks : long.MinValue;

    public bool TryFind(NodeId id, out int slot)
    {
        var index = _index;
        var mask = index.Length - 1;
        for (var i = id.Value & mask; ; i = (i + 1) & mask)
        {
            slot = index[i];
            if (slot < 0)
            {
                return false;
            }

            if (_entries[slot].Id == id)
            {
                return true;
            }
        }
    }

    public int Add(NodeId id, MemberState state, uint incarnation, MemberMetadata metadata, long nowTicks)
    {
        int slot;
        if (_freeCount > 0)
        {
            slot = _freeSlots[--_freeCount];
        }
        else
        {
            if (_slotCount == _entries.Length)
            {
                Grow();
            }

            slot = _slotCount++;
        }

        _entries[slot] = new Entry { Id = id, Incarnation = incarnation, State = (byte)state };
        SetMetadata(slot, metadata);
        if (state != MemberState.Alive)
        {
            _changedAt[slot] = nowTicks;
        }

        _count++;
        if (IndexSizeFor(_count) > _index.Length)
        {
            Reindex(IndexSizeFor(_count)); // inserts every used slot, this one included
        }
        else
        {
            Insert(id, slot);
        }

        return slot;
    }

    public void Remove(int slot)
    {
        DeleteFromIndex(_entries[slot].Id);
        _entries[slot].State = Free;
        _changedAt.Remove(slot);
        if (_metadata is not null)
        {
            _metadata[slot] = default;
        }

        if (_freeCount == _freeSlots.Length)
        {
            Array.Resize(ref _freeSlots, _freeSlots.Length * 2);
        }

        _freeSlots[_freeCount++] = slot;
        _count--;
    }

    /// <summary>Sets state and incarnation; records when the member stops being alive.</summary>
    public void Set(int slot, MemberState state, uint incarnation, long nowTicks)
    {
        ref var entry = ref _entries[slot];
        var previous = (MemberState)entry.State;
        entry.State = (byte)state;
        entry.Incarnation = incarnation;
        if (state == MemberState.Alive)
        {
            _changedAt.Remove(slot);
        }
        else if (state != previous)
        {
            _changedAt[slot] = nowTicks;
        }
    }

    public void SetMetadata(int slot, MemberMetadata metadata)
    {
        if (_metadata is null)
        {
            if (metadata == default)
            {
                return;
            }

            _metadata = new MemberMetadata[_entries.Length];
        }

        _metadata[slot] = metadata;
    }

    /// <summary>How many members occupy slots [<paramref name="first"/>, <paramref name="end"/>).</summary>
    public int CountLive(int first, int end)
    {
        var count = 0;
        for (var slot = first; slot < end; slot++)
        {
            if (_entries[slot].State != Free)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// Writes the members in slots [<paramref name="first"/>, <paramref name="end"/>) without copying them out first,
    /// each through <see cref="Swim.SwimPushPull.WriteMember"/>: the one member format, so this path cannot drift from it.
    /// </summary>
    public void WriteMembers(ref Wire.WireWriter writer, int first, int end)
    {
        for (var slot = first; slot < end; slot++)
        {
            if (_entries[slot].State != Free)
            {
                Swim.SwimPushPull.WriteMember(ref writer, MemberAt(slot));
            }
        }
    }

    /// <summary>Index size: a power of two at most 3/4 full.</summary>
    private static int IndexSizeFor(int count) => (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(32, (count * 4 / 3) + 1));

    private void Grow()
    {
        var size = _entries.Length * 2;
        Array.Resize(ref _entries, size);
        if (_metadata is not null)
        {
            Array.Resize(ref _metadata, size);
        }
    }

    private static int[] CreateIndex(int size)
    {
        var index = new int[size];
        Array.Fill(index, -1);
        return index;
    }

    private void Reindex(int size)
    {
        _index = CreateIndex(size);
        for (var slot = 0; slot < _slotCount; slot++)
        {
            if (_entries[slot].State != Free)
            {
                Insert(_entries[slot].Id, slot);
            }
        }
    }

    private void Insert(NodeId id, int slot)
    {
        var mask = _index.Length - 1;
        var i = id.Value & mask;
        while (_index[i] >= 0)
        {
            i = (i + 1) & mask;
        }

        _index[i] = slot;
    }

    private void DeleteFromIndex(NodeId id)
    {
        var mask = _index.Length - 1;
        var hole = id.Value & mask;
        while (_entries[_index[hole]].Id != id)
        {
            hole = (hole + 1) & mask;
        }

        // Backward-shift deletion: move later entries of the same probe run into the hole.
        for (var next = (hole + 1) & mask; _index[next] >= 0; next = (next + 1) & mask)
        {
            var home = _entries[_index[next]].Id.Value & mask;
            var movable = hole <= next ? home <= hole || home > next : home <= hole && home > next;
            if (movable)
            {
                _index[hole] = _index[next];
                hole = next;
            }
        }

        _index[hole] = -1;
    }

    private struct Entry
    {
        public NodeId Id;
        public uint Incarnation;
        public byte State;
    }
}
