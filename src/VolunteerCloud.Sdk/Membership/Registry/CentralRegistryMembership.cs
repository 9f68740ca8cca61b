using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership.Registry;

/// <summary>
/// The central-controller baseline: every member heartbeats to one fixed registry node, which alone decides
/// who is alive and pushes its view to everyone. When the registry is lost, every view freezes.
/// </summary>
internal sealed class CentralRegistryMembership : IMembershipProtocol
{
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
    private TimeSpan _started; // the protocol's times are ticks since it started
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

    public event MembershipChangedHandler? Changed;

    private bool IsRegistry => Self == _registry;

    public void Start(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _started = context.Now;
        _generation = (uint)Math.Clamp(context.TimeProvider.GetUtcNow().ToUnixTimeSeconds(), 1, uint.MaxValue);
        Set(context, Self, MemberState.Alive, _generation, _setup.Metadata, context.TicksSince(_started));
        foreach (var member in _setup.InitialMembers)
        {
            if (member.Id != Self)
            {
                Set(context, member.Id, member.State, member.Incarnation, member.Metadata, context.TicksSince(_started));
            }
        }

        if (IsRegistry)
        {
            _registryVersion++;
            context.SetTimer(_options.ViewPushInterval, new TimerTag(TimerKinds.RegistryViewPushTick));
        }
        else
        {
            SendHeartbeat(context);
        }

        context.SetTimer(context.Random.NextTimeSpan(_options.HeartbeatInterval), new TimerTag(TimerKinds.RegistryHeartbeatTick));
    }

    public void Leave(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _leaving = true;
        if (!IsRegistry)
        {
            SendHeartbeat(context);
        }

        Set(context, Self, MemberState.Left, _generation, _setup.Metadata, context.TicksSince(_started));
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
            case TimerKinds.RegistryHeartbeatTick:
                context.SetTimer(_options.HeartbeatInterval, new TimerTag(TimerKinds.RegistryHeartbeatTick));
                if (IsRegistry)
                {
                    ExpireMembers(context, context.TicksSince(_started));
                }
                else
                {
                    SendHeartbeat(context);
                }

                return true;
            case TimerKinds.RegistryViewPushTick:
                context.SetTimer(_options.ViewPushInterval, new TimerTag(TimerKinds.RegistryViewPushTick));
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
        var now = context.TicksSince(_started);
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

            Set(context, from, state, heartbeat.Generation, heartbeat.Metadata, now);
            _registryVersion++;
        }

        var updated = _entries[from];
        updated.HeardAt = now;
        _entries[from] = updated;
    }

    private void ExpireMembers(NodeContext context, long now)
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
            Set(context, id, MemberState.Dead, entry.Incarnation, entry.Metadata, now);
            _registryVersion++;
        }

        foreach (var id in forget ?? [])
        {
            Forget(context, id);
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
        var now = context.TicksSince(_started);
        foreach (var id in _entries.Keys.ToList())
        {
            if (id != Self && !_pending.ContainsKey(id))
            {
                Forget(context, id);
            }
        }

        foreach (var member in _pending.Values)
        {
            if (member.Id != Self)
            {
                Set(context, member.Id, member.State, member.Incarnation, member.Metadata, now);
            }
        }

        _pending.Clear();
    }

    private void Set(NodeContext context, NodeId id, MemberState state, uint incarnation, MemberMetadata metadata, long now)
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
        Changed?.Invoke(context, new MembershipChange(id, previous, state, incarnation, _version));
    }

    private void Forget(NodeContext context, NodeId id)
    {
        _entries.Remove(id, out var entry);
        _version++;
        Changed?.Invoke(context, new MembershipChange(id, entry.State, entry.State, entry.Incarnation, _version, Removed: true));
    }


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
    public string Name => StrategyNames.Registry;

    /// <inheritdoc />
    public IMembershipProtocol Create(MembershipSetup setup) => new CentralRegistryMembership(setup, _options);
}
