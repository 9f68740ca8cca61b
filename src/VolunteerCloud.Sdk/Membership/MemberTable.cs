namespace VolunteerCloud.Membership;

/// <summary>
/// One node's table of members, compact enough for every node of a 10 000-node simulation to hold all the
/// others (about 25 bytes per member): parallel arrays addressed by slot, an open-addressing index from id
/// to slot, metadata only once some member has any, and state-change times only for members not alive.
/// </summary>
/// <remarks>
/// The index takes an id's low bits as its home position: dense simulator ids (0, 1, 2, ...) never collide
/// and stay in order, and the random ids of real hosts are uniform already.
/// </remarks>
internal sealed class MemberTable
{
    private const byte Free = 0xFF;
    private NodeId[] _ids = new NodeId[16];
    private uint[] _incarnations = new uint[16];
    private byte[] _states = new byte[16];
    private MemberMetadata[]? _metadata;
    private int[] _freeSlots = new int[4];
    private int _freeCount;
    private int _slotCount;
    private int _count;
    private int[] _index = CreateIndex(32);
    private readonly Dictionary<int, long> _changedAt = [];

    /// <summary>Members in the table.</summary>
    public int Count => _count;

    /// <summary>Slots in use or free: iterate 0..SlotCount and skip <see cref="IsFree"/>.</summary>
    public int SlotCount => _slotCount;

    public bool IsFree(int slot) => _states[slot] == Free;

    public NodeId IdOf(int slot) => _ids[slot];

    public MemberState StateOf(int slot) => (MemberState)_states[slot];

    public uint IncarnationOf(int slot) => _incarnations[slot];

    public MemberMetadata MetadataOf(int slot) => _metadata is null ? default : _metadata[slot];

    public Member MemberAt(int slot) => new(_ids[slot], StateOf(slot), _incarnations[slot], MetadataOf(slot));

    /// <summary>When the member left the alive state, in clock ticks; only for members not alive.</summary>
    public long ChangedAt(int slot) => _changedAt.TryGetValue(slot, out var ticks) ? ticks : long.MinValue;

    public bool TryFind(NodeId id, out int slot)
    {
        var mask = _index.Length - 1;
        for (var i = id.Value & mask; ; i = (i + 1) & mask)
        {
            slot = _index[i];
            if (slot < 0)
            {
                return false;
            }

            if (_ids[slot] == id)
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
            if (_slotCount == _ids.Length)
            {
                Grow();
            }

            slot = _slotCount++;
        }

        _ids[slot] = id;
        _incarnations[slot] = incarnation;
        _states[slot] = (byte)state;
        SetMetadata(slot, metadata);
        if (state != MemberState.Alive)
        {
            _changedAt[slot] = nowTicks;
        }

        _count++;
        if (_count * 2 > _index.Length)
        {
            Reindex(_index.Length * 2);
        }

        Insert(id, slot);
        return slot;
    }

    public void Remove(int slot)
    {
        DeleteFromIndex(_ids[slot]);
        _states[slot] = Free;
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
        var previous = (MemberState)_states[slot];
        _states[slot] = (byte)state;
        _incarnations[slot] = incarnation;
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

            _metadata = new MemberMetadata[_ids.Length];
        }

        _metadata[slot] = metadata;
    }

    private void Grow()
    {
        var size = _ids.Length * 2;
        Array.Resize(ref _ids, size);
        Array.Resize(ref _incarnations, size);
        Array.Resize(ref _states, size);
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
            if (_states[slot] != Free)
            {
                Insert(_ids[slot], slot);
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
        while (_ids[_index[hole]] != id)
        {
            hole = (hole + 1) & mask;
        }

        // Backward-shift deletion: move later entries of the same probe run into the hole.
        for (var next = (hole + 1) & mask; _index[next] >= 0; next = (next + 1) & mask)
        {
            var home = _ids[_index[next]].Value & mask;
            var movable = hole <= next ? home <= hole || home > next : home <= hole && home > next;
            if (movable)
            {
                _index[hole] = _index[next];
                hole = next;
            }
        }

        _index[hole] = -1;
    }
}
