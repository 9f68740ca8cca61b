using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership.Registry;

/// <summary>Settings of central-registry membership: the Deis-like baseline with one point of failure.</summary>
public sealed class CentralRegistryOptions : ISelfValidatingOptions
{
    /// <summary>The one node that decides who is alive. Required.</summary>
    public NodeId? Registry { get; set; }

    /// <summary>Time between a member's heartbeats to the registry. Default: 1 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The registry declares a member dead after this long without a heartbeat. Default: 5 s.</summary>
    public TimeSpan FailTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the registry remembers dead and departed members. Default: 30 s.</summary>
    public TimeSpan ForgetAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The registry pushes its view to every live member at most this often when it changed, and at least every 10 intervals. Default: 1 s.</summary>
    public TimeSpan ViewPushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    public IEnumerable<string> Validate() =>
        (Registry is { Value: >= 0 } ? [] : new[] { $"{nameof(Registry)} must name the registry node." })
            .Concat(OptionsGuard.Positive(HeartbeatInterval, nameof(HeartbeatInterval)))
            .Concat(OptionsGuard.Positive(FailTimeout, nameof(FailTimeout)))
            .Concat(OptionsGuard.Positive(ForgetAfter, nameof(ForgetAfter)))
            .Concat(OptionsGuard.Positive(ViewPushInterval, nameof(ViewPushInterval)));

    /// <summary>A copy for one node.</summary>
    public CentralRegistryOptions Clone() => (CentralRegistryOptions)MemberwiseClone();
}

/// <summary>A member's heartbeat to the registry. Type 32.</summary>
/// <param name="Generation">When the member last started (Unix seconds).</param>
/// <param name="Leaving">The member is leaving on purpose.</param>
/// <param name="Metadata">The member's metadata.</param>
public readonly record struct RegistryHeartbeat(uint Generation, bool Leaving, MemberMetadata Metadata) : IWireMessage<RegistryHeartbeat>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(32);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteVarUInt32(Generation);
        writer.WriteBoolean(Leaving);
        Metadata.Write(ref writer);
    }

    /// <inheritdoc />
    public static RegistryHeartbeat Read(ref WireReader reader) =>
        new(reader.ReadVarUInt32(), reader.ReadBoolean(), MemberMetadata.Read(ref reader));
}

/// <summary>The registry's view, pushed to members in chunks. Type 33.</summary>
/// <param name="Generation">When the registry last started (Unix seconds): a restarted registry's views win over its old life's.</param>
/// <param name="Version">The registry's view version within its generation: members keep the newest complete one.</param>
/// <param name="Chunk">This chunk's number, from 0.</param>
/// <param name="ChunkCount">How many chunks the view has.</param>
/// <param name="Members">The members in this chunk.</param>
public readonly record struct RegistryView(uint Generation, long Version, int Chunk, int ChunkCount, WireList<Member> Members) : IWireMessage<RegistryView>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(33);

    /// <summary>The most chunks a view may have.</summary>
    public const int MaxChunks = 1024;

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteVarUInt32(Generation);
        writer.WriteVarInt64(Version);
        writer.WriteVarUInt32((uint)Chunk);
        writer.WriteVarUInt32((uint)ChunkCount);
        writer.WriteVarUInt32((uint)Members.Count);
        foreach (var member in Members.Items.Span)
        {
            Swim.SwimPushPull.WriteMember(ref writer, member);
        }
    }

    /// <inheritdoc />
    public static RegistryView Read(ref WireReader reader)
    {
        var generation = reader.ReadVarUInt32();
        var version = reader.ReadVarInt64();
        var chunk = reader.ReadVarUInt32();
        var chunkCount = reader.ReadVarUInt32();
        if (chunkCount is < 1 or > MaxChunks || chunk >= chunkCount)
        {
            throw new WireFormatException($"Chunk {chunk} of {chunkCount} is not valid.");
        }

        var count = reader.ReadCount(Swim.SwimPushPull.MembersPerChunk, minimumElementBytes: 6);
        var members = new Member[count];
        for (var i = 0; i < count; i++)
        {
            members[i] = Swim.SwimPushPull.ReadMember(ref reader);
        }

        return new RegistryView(generation, version, (int)chunk, (int)chunkCount, members);
    }
}

/// <summary>
/// The central-controller baseline: every member heartbeats to one fixed registry node, which alone decides
/// who is alive and pushes its view to everyone. When the registry is lost, every view freezes.
/// </summary>
internal sealed class CentralRegistryMembership : IMembershipProtocol
{
    private const int HeartbeatTickKind = 120;
    private const int ViewPushTickKind = 121;
    private const int RefreshEvery = 10;

    private readonly CentralRegistryOptions _options;
    private readonly MembershipSetup _setup;
    private readonly NodeId _registry;
    private readonly SortedDictionary<NodeId, Entry> _entries = [];
    private readonly Dictionary<NodeId, Member> _pending = [];
    private readonly HashSet<int> _pendingChunks = [];
    private uint _generation;
    private bool _leaving;
    private long _registryVersion;
    private long _pushedVersion = -1;
    private (uint Generation, long Version) _received = (0, -1);
    private int _pushRounds;
    private long _startTimestamp;
    private long _version;
    private MembershipView? _view;

    public CentralRegistryMembership(MembershipSetup setup, CentralRegistryOptions options)
    {
        ArgumentNullException.ThrowIfNull(setup);
        _options = OptionsGuard.EnsureValid(options).Clone();
        _setup = setup;
        _registry = _options.Registry!.Value;
    }

    public NodeId Self => _setup.Self;

    public MembershipCounters Counters { get; } = new();

    public MembershipView View => _view is { } view && view.Version == _version ? view : _view = BuildView();

    public event EventHandler<MembershipChange>? Changed;

    private bool IsRegistry => Self == _registry;

    public void Start(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _startTimestamp = context.TimeProvider.GetTimestamp();
        _generation = (uint)Math.Clamp(context.TimeProvider.GetUtcNow().ToUnixTimeSeconds(), 1, uint.MaxValue);
        Set(Self, MemberState.Alive, _generation, _setup.Metadata, Now(context));
        foreach (var member in _setup.InitialMembers)
        {
            if (member.Id != Self)
            {
                Set(member.Id, member.State, member.Incarnation, member.Metadata, Now(context));
            }
        }

        if (IsRegistry)
        {
            _registryVersion++;
            context.SetTimer(_options.ViewPushInterval, new TimerTag(ViewPushTickKind));
        }
        else
        {
            SendHeartbeat(context);
        }

        context.SetTimer(context.Random.NextTimeSpan(_options.HeartbeatInterval), new TimerTag(HeartbeatTickKind));
    }

    public void Leave(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _leaving = true;
        if (!IsRegistry)
        {
            SendHeartbeat(context);
        }

        Set(Self, MemberState.Left, _generation, _setup.Metadata, Now(context));
    }

    public bool TryHandleMessage(NodeContext context, NodeId from, InboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            if (message.Is<RegistryHeartbeat>())
            {
                if (IsRegistry)
                {
                    OnHeartbeat(context, from, message.Read<RegistryHeartbeat>());
                }

                return true;
            }

            if (message.Is<RegistryView>())
            {
                if (!IsRegistry && from == _registry)
                {
                    OnView(context, message.Read<RegistryView>());
                }

                return true;
            }
        }
        catch (WireFormatException)
        {
            Counters.MalformedMessages++;
            return true;
        }

        return false;
    }

    public bool TryHandleTimer(NodeContext context, TimerTag tag)
    {
        ArgumentNullException.ThrowIfNull(context);
        switch (tag.Kind)
        {
            case HeartbeatTickKind:
                context.SetTimer(_options.HeartbeatInterval, new TimerTag(HeartbeatTickKind));
                if (IsRegistry)
                {
                    ExpireMembers(Now(context));
                }
                else
                {
                    SendHeartbeat(context);
                }

                return true;
            case ViewPushTickKind:
                context.SetTimer(_options.ViewPushInterval, new TimerTag(ViewPushTickKind));
                if (_registryVersion != _pushedVersion || ++_pushRounds >= RefreshEvery)
                {
                    PushView(context);
                }

                return true;
            default:
                return false;
        }
    }

    private void SendHeartbeat(NodeContext context)
    {
        Counters.ProbesSent++;
        context.Send(_registry, new RegistryHeartbeat(_generation, _leaving, _setup.Metadata));
    }

    private void OnHeartbeat(NodeContext context, NodeId from, RegistryHeartbeat heartbeat)
    {
        var now = Now(context);
        var known = _entries.TryGetValue(from, out var entry);
        if (known && heartbeat.Generation < entry.Incarnation)
        {
            return; // from a previous life
        }

        if (!known && heartbeat.Leaving)
        {
            return; // a member that left long enough ago to be forgotten, still winding down
        }

        var state = heartbeat.Leaving ? MemberState.Left : MemberState.Alive;
        if (!known || entry.State != state || entry.Incarnation != heartbeat.Generation || entry.Metadata != heartbeat.Metadata)
        {
            if (known && entry.State is MemberState.Left && heartbeat.Generation == entry.Incarnation && !heartbeat.Leaving)
            {
                return; // a heartbeat overtaken by its own leave
            }

            Set(from, state, heartbeat.Generation, heartbeat.Metadata, now);
            _registryVersion++;
        }

        var updated = _entries[from];
        updated.HeardAt = now;
        _entries[from] = updated;
    }

    private void ExpireMembers(long now)
    {
        List<NodeId>? forget = null;
        List<NodeId>? dead = null;
        foreach (var (id, entry) in _entries)
        {
            if (id == Self)
            {
                continue;
            }

            if (entry.State == MemberState.Alive && now - entry.HeardAt > _options.FailTimeout.Ticks)
            {
                (dead ??= []).Add(id);
            }
            else if (entry.State is MemberState.Dead or MemberState.Left && now - entry.ChangedAt > _options.ForgetAfter.Ticks)
            {
                (forget ??= []).Add(id);
            }
        }

        foreach (var id in dead ?? [])
        {
            var entry = _entries[id];
            Counters.DeathsDeclared++;
            Set(id, MemberState.Dead, entry.Incarnation, entry.Metadata, now);
            _registryVersion++;
        }

        foreach (var id in forget ?? [])
        {
            Forget(id);
            _registryVersion++;
        }
    }

    private void PushView(NodeContext context)
    {
        _pushedVersion = _registryVersion;
        _pushRounds = 0;
        var members = _entries.Select(e => new Member(e.Key, e.Value.State, e.Value.Incarnation, e.Value.Metadata)).ToArray();
        var chunks = members.Chunk(Swim.SwimPushPull.MembersPerChunk).ToArray();
        if (chunks.Length > RegistryView.MaxChunks)
        {
            throw new InvalidOperationException($"A view of {members.Length} members needs more than {RegistryView.MaxChunks} chunks.");
        }

        foreach (var (id, entry) in _entries)
        {
            if (id == Self || entry.State != MemberState.Alive)
            {
                continue;
            }

            for (var chunk = 0; chunk < chunks.Length; chunk++)
            {
                context.Send(id, new RegistryView(_generation, _registryVersion, chunk, chunks.Length, chunks[chunk]));
            }
        }
    }

    private void OnView(NodeContext context, RegistryView view)
    {
        var key = (view.Generation, view.Version);
        if (key.CompareTo(_received) < 0)
        {
            return; // older than the view being assembled or adopted
        }

        if (key.CompareTo(_received) > 0)
        {
            _pending.Clear();
            _pendingChunks.Clear();
            _received = key;
        }

        if (!_pendingChunks.Add(view.Chunk))
        {
            return; // a duplicate
        }

        foreach (var member in view.Members.Items.Span)
        {
            _pending[member.Id] = member;
        }

        if (_pendingChunks.Count != view.ChunkCount)
        {
            return; // wait for every chunk, in whatever order they come
        }

        // The registry's word is final: adopt its view, keeping only this node's own state for itself.
        var now = Now(context);
        foreach (var id in _entries.Keys.ToList())
        {
            if (id != Self && !_pending.ContainsKey(id))
            {
                Forget(id);
            }
        }

        foreach (var member in _pending.Values)
        {
            if (member.Id != Self)
            {
                Set(member.Id, member.State, member.Incarnation, member.Metadata, now);
            }
        }

        _pending.Clear();
    }

    private void Set(NodeId id, MemberState state, uint incarnation, MemberMetadata metadata, long now)
    {
        var known = _entries.TryGetValue(id, out var entry);
        var previous = known ? entry.State : (MemberState?)null;
        var changed = !known || entry.State != state || entry.Incarnation != incarnation || entry.Metadata != metadata;
        if (!changed)
        {
            return;
        }

        _entries[id] = new Entry
        {
            State = state,
            Incarnation = incarnation,
            Metadata = metadata,
            HeardAt = known ? entry.HeardAt : now,
            ChangedAt = previous == state ? entry.ChangedAt : now,
        };
        _version++;
        Changed?.Invoke(this, new MembershipChange(id, previous, state, incarnation, _version));
    }

    private void Forget(NodeId id)
    {
        _entries.Remove(id, out var entry);
        _version++;
        Changed?.Invoke(this, new MembershipChange(id, entry.State, entry.State, entry.Incarnation, _version, Removed: true));
    }

    private long Now(NodeContext context) => context.TimeProvider.GetElapsedTime(_startTimestamp).Ticks;

    private MembershipView BuildView() =>
        new(Self, _version, _entries.Select(e => new Member(e.Key, e.Value.State, e.Value.Incarnation, e.Value.Metadata)));

    private struct Entry
    {
        public MemberState State;
        public uint Incarnation;
        public MemberMetadata Metadata;
        public long HeardAt;
        public long ChangedAt;
    }
}

/// <summary>Creates central-registry membership instances.</summary>
public sealed class CentralRegistryMembershipFactory : IMembershipProtocolFactory
{
    private readonly CentralRegistryOptions _options;

    /// <summary>Creates the factory; the options are checked now.</summary>
    /// <exception cref="ArgumentException">The options are invalid (for example no registry is named).</exception>
    public CentralRegistryMembershipFactory(CentralRegistryOptions options) => _options = OptionsGuard.EnsureValid(options).Clone();

    /// <inheritdoc />
    public string Name => "central-registry";

    /// <inheritdoc />
    public IMembershipProtocol Create(MembershipSetup setup) => new CentralRegistryMembership(setup, _options);
}
