using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership.Heartbeat;

/// <summary>
/// Gossip-style failure detection: every node increments a heartbeat counter each round and sends its table
/// of counters to a few random members; tables merge by taking the newest (generation, heartbeat) per member;
/// a member whose counter stops growing for <see cref="HeartbeatGossipOptions.FailTimeout"/> (or whose phi
/// exceeds the threshold) is dead. Tables larger than a datagram travel in rotating slices.
/// </summary>
internal sealed class HeartbeatGossipMembership : IMembershipProtocol
{
    private const int EnvelopeAndCountBytes = 4;

    private readonly HeartbeatGossipOptions _options;
    private readonly MembershipSetup _setup;
    private readonly Dictionary<NodeId, Row> _rows = [];
    private readonly List<NodeId> _order = [];
    private readonly HashSet<NodeId> _ordered = [];

    // Forgotten members' last (generation, heartbeat): a peer that has not yet forgotten them must not bring
    // them back as news (van Renesse et al.'s T_cleanup). Kept for TombstoneFactor × ForgetAfter.
    private readonly Dictionary<NodeId, (ulong Generation, ulong Heartbeat, long ForgottenAt)> _tombstones = [];
    private const int TombstoneFactor = 10;
    private readonly HeartbeatEntry[] _scratch = new HeartbeatEntry[4096];
    private readonly NodeId[] _targets;
    private ulong _generation;
    private ulong _heartbeat;
    private int _rotation;
    private TimeSpan _started; // the protocol's times are ticks since it started
    private long _version;
    private MembershipView? _view;

    public HeartbeatGossipMembership(MembershipSetup setup, HeartbeatGossipOptions options)
    {
        ArgumentNullException.ThrowIfNull(setup);
        _options = OptionsGuard.EnsureValid(options).Clone();
        _setup = setup;
        _targets = new NodeId[_options.GossipNodes];
    }

    public NodeId Self => _setup.Self;

    public MembershipCounters Counters { get; } = new();

    public MembershipView View => _view is { } view && view.Version == _version ? view : _view = BuildView();

    public event MembershipChangedHandler? Changed;

    public void Start(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _started = context.Now;
        // Milliseconds: a node that crashes and restarts within a second must still outrank its previous life.
        _generation = (ulong)Math.Max(1, context.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        SetRow(context, Self, new Row { Generation = _generation, State = MemberState.Alive, Metadata = _setup.Metadata }, previous: null);
        foreach (var member in _setup.InitialMembers)
        {
            if (member.Id != Self && !_rows.ContainsKey(member.Id))
            {
                var row = new Row { Generation = member.Incarnation * 1000UL, State = member.State, Metadata = member.Metadata, HeardAt = context.TicksSince(_started), ChangedAt = context.TicksSince(_started) };
                Bootstrap(ref row);
                SetRow(context, member.Id, row, previous: null);
            }
        }

        foreach (var seed in _setup.Seeds)
        {
            if (seed != Self && _ordered.Add(seed))
            {
                // Seeds are contacted before anything is known of them; they stay out of the view until heard.
                _order.Add(seed);
            }
        }

        context.SetTimer(context.Random.NextTimeSpan(_options.GossipInterval), new TimerTag(TimerKinds.HeartbeatGossipTick));

        // Join: send the seeds this node's heartbeat now; a node that hears from a stranger answers with its
        // own table, so the newcomer learns the cluster in one round trip.
        var digest = BuildDigest();
        foreach (var seed in _setup.Seeds)
        {
            if (seed != Self)
            {
                context.Send(seed, digest);
            }
        }
    }

    /// <inheritdoc />
    public void JoinThrough(NodeContext context, NodeId seed)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (seed != Self)
        {
            context.Send(seed, BuildDigest()); // a node that hears from a stranger answers with its table
        }
    }

    public void Leave(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var row = _rows[Self];
        var previous = row.State;
        row.State = MemberState.Left;
        SetRow(context, Self, row, previous);
        Gossip(context);
    }

    public bool TryHandleMessage(NodeContext context, NodeId from, InboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!message.Is<HeartbeatDigest>())
        {
            return false;
        }

        HeartbeatDigest digest;
        try
        {
            digest = message.Read<HeartbeatDigest>();
        }
        catch (WireFormatException)
        {
            Counters.MalformedMessages++;
            return true;
        }

        // A digest from a node in a life this node did not hold alive (a newcomer, a restart — even before its
        // previous life was found dead — or a return from a leave): answer with the table, so that it learns
        // the cluster even if its seed dies right after.
        var now = context.TicksSince(_started);
        var before = _rows.TryGetValue(from, out var row) && row.State == MemberState.Alive ? row.Generation : (ulong?)null;
        foreach (var entry in digest.Entries.Items.Span)
        {
            Merge(context, entry, now);
        }

        if (_rows.TryGetValue(from, out var after) && after.State == MemberState.Alive && before != after.Generation)
        {
            context.Send(from, BuildDigest());
        }

        return true;
    }

    public bool TryHandleTimer(NodeContext context, TimerTag tag)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (tag.Kind != TimerKinds.HeartbeatGossipTick)
        {
            return false;
        }

        context.SetTimer(_options.GossipInterval, new TimerTag(TimerKinds.HeartbeatGossipTick));
        DetectFailures(context, context.TicksSince(_started));
        Gossip(context);
        return true;
    }

    private void Merge(NodeContext context, in HeartbeatEntry entry, long now)
    {
        if (entry.Node == Self)
        {
            return; // only this node speaks for itself
        }

        if (!_rows.TryGetValue(entry.Node, out var row))
        {
            if (entry.Leaving)
            {
                return; // never met it; nothing to forget
            }

            if (_tombstones.TryGetValue(entry.Node, out var tombstone))
            {
                if (!entry.IsNewerThan(tombstone.Generation, tombstone.Heartbeat))
                {
                    return; // a stale row of a member this node already buried
                }

                _tombstones.Remove(entry.Node);
            }

            var fresh = new Row { Generation = entry.Generation, Heartbeat = entry.Heartbeat, State = MemberState.Alive, Metadata = entry.Metadata, HeardAt = now };
            Bootstrap(ref fresh);
            SetRow(context, entry.Node, fresh, previous: null);
            return;
        }

        if (!entry.IsNewerThan(row.Generation, row.Heartbeat))
        {
            return;
        }

        if (entry.Generation == row.Generation)
        {
            // Phi accrual learns from intervals between increases within one life (an exponentially weighted
            // mean and variance rather than Akka's window of 1000 samples).
            var interval = now - row.HeardAt;
            var deviation = interval - row.MeanInterval;
            row.IntervalVariance = (0.9 * row.IntervalVariance) + (0.1 * deviation * deviation);
            row.MeanInterval = (0.9 * row.MeanInterval) + (0.1 * interval);
            row.Samples++;
        }
        else
        {
            Bootstrap(ref row);
        }

        var previous = row.State;
        row.Generation = entry.Generation;
        row.Heartbeat = entry.Heartbeat;
        row.Metadata = entry.Metadata;
        row.HeardAt = now;
        row.State = entry.Leaving ? MemberState.Left : MemberState.Alive;
        if (row.State != previous)
        {
            row.ChangedAt = now;
        }

        SetRow(context, entry.Node, row, previous);
    }

    private void DetectFailures(NodeContext context, long now)
    {
        if (_tombstones.Count > 0)
        {
            var horizon = TombstoneFactor * _options.ForgetAfter.Ticks;
            foreach (var (id, tombstone) in _tombstones.ToList())
            {
                if (now - tombstone.ForgottenAt > horizon)
                {
                    _tombstones.Remove(id);
                }
            }
        }

        List<NodeId>? forget = null;
        foreach (var id in _order)
        {
            if (id == Self || !_rows.TryGetValue(id, out var row))
            {
                continue;
            }

            if (row.State == MemberState.Alive && HasFailed(row, now))
            {
                Counters.DeathsDeclared++;
                row.State = MemberState.Dead;
                row.ChangedAt = now;
                SetRow(context, id, row, MemberState.Alive);
            }
            else if (row.State is MemberState.Dead or MemberState.Left && now - row.ChangedAt > _options.ForgetAfter.Ticks)
            {
                (forget ??= []).Add(id);
            }
        }

        if (forget is not null)
        {
            foreach (var id in forget)
            {
                _rows.Remove(id, out var row);
                _tombstones[id] = (row.Generation, row.Heartbeat, now);
                _order.Remove(id);
                _ordered.Remove(id);
                _version++;
                Changed?.Invoke(context, new MembershipChange(id, row.State, row.State, IncarnationOf(row), _version, Removed: true));
            }
        }
    }

    /// <summary>
    /// Akka's first-heartbeat estimate: before any interval is observed, assume one gossip interval with a
    /// standard deviation of a quarter of it, so that the first few (bursty) intervals cannot make phi jumpy.
    /// </summary>
    private void Bootstrap(ref Row row)
    {
        var interval = (double)_options.GossipInterval.Ticks;
        row.MeanInterval = interval;
        row.IntervalVariance = interval * interval / 16;
        row.Samples = 0;
    }

    private bool HasFailed(in Row row, long now)
    {
        var silence = now - row.HeardAt;
        if (!_options.PhiAccrual)
        {
            return silence > _options.FailTimeout.Ticks;
        }

        var mean = row.MeanInterval + _options.PhiAcceptablePause.Ticks;
        var deviation = Math.Max(Math.Sqrt(row.IntervalVariance), _options.PhiMinStandardDeviation.Ticks);

        // Akka's logistic approximation of the normal tail: phi = -log10(P(interval > silence)).
        var y = (silence - mean) / deviation;
        var e = Math.Exp(-y * (1.5976 + (0.070566 * y * y)));
        var phi = silence > mean ? -Math.Log10(e / (1.0 + e)) : -Math.Log10(1.0 - (1.0 / (1.0 + e)));
        return phi > _options.PhiThreshold;
    }

    private void Gossip(NodeContext context)
    {
        // The heartbeat grows every round, including the last ones of a leaving node, so that its leave is news.
        var self = _rows[Self];
        self.Heartbeat = ++_heartbeat;
        _rows[Self] = self;

        Counters.ProbesSent++;
        var digest = BuildDigest();
        foreach (var target in PickTargets(context))
        {
            context.Send(target, digest);
        }
    }

    /// <summary>This node's row, then as much of the rest of the table as fits a datagram, a rotating slice at a time.</summary>
    private HeartbeatDigest BuildDigest()
    {
        var self = _rows[Self];
        var count = 0;
        var budget = _options.UdpBufferSize - EnvelopeAndCountBytes;
        _scratch[count++] = ToEntry(Self, self);
        budget -= _scratch[0].EncodedLength;
        var others = _order.Count;
        var i = 0;
        for (; i < others && count < _scratch.Length; i++)
        {
            var id = _order[(_rotation + i) % others];
            if (id == Self || !_rows.TryGetValue(id, out var row) || row.State == MemberState.Dead)
            {
                continue;
            }

            var entry = ToEntry(id, row);
            var size = entry.EncodedLength;
            if (size > budget)
            {
                _rotation = (_rotation + i) % others;
                break;
            }

            budget -= size;
            _scratch[count++] = entry;
        }

        if (count == _scratch.Length && others > 0)
        {
            _rotation = (_rotation + i) % others; // full by count rather than bytes: rotate all the same
        }

        return new HeartbeatDigest(new WireList<HeartbeatEntry>(_scratch.AsMemory(0, count)));
    }

    private ReadOnlySpan<NodeId> PickTargets(NodeContext context)
    {
        var found = 0;
        for (var attempt = 0; attempt < 3 * _order.Count && found < _targets.Length; attempt++)
        {
            var id = _order[context.Random.NextInt32(_order.Count)];
            var eligible = id != Self
                && (!_rows.TryGetValue(id, out var row) || row.State is MemberState.Alive)
                && !_targets.AsSpan(0, found).Contains(id);
            if (eligible)
            {
                _targets[found++] = id;
            }
        }

        return _targets.AsSpan(0, found);
    }

    private static HeartbeatEntry ToEntry(NodeId id, in Row row) =>
        new(id, row.Generation, row.Heartbeat, row.State == MemberState.Left, row.Metadata);

    private void SetRow(NodeContext context, NodeId id, Row row, MemberState? previous)
    {
        if (_ordered.Add(id))
        {
            _order.Add(id);
        }

        var incarnationChanged = !_rows.TryGetValue(id, out var old) || old.Generation != row.Generation;
        _rows[id] = row;
        if (previous != row.State || incarnationChanged)
        {
            _version++;
            Changed?.Invoke(context, new MembershipChange(id, previous, row.State, IncarnationOf(row), _version));
        }
    }


    private MembershipView BuildView() =>
        new(Self, _version, _rows.Select(r => new Member(r.Key, r.Value.State, IncarnationOf(r.Value), r.Value.Metadata)));

    /// <summary>The incarnation a view shows: the generation in Unix seconds.</summary>
    private static uint IncarnationOf(in Row row) => (uint)Math.Min(row.Generation / 1000, uint.MaxValue);

    private struct Row
    {
        public ulong Generation;
        public ulong Heartbeat;
        public MemberState State;
        public MemberMetadata Metadata;
        public long HeardAt;
        public long ChangedAt;
        public double MeanInterval;
        public double IntervalVariance;
        public int Samples;
    }
}

