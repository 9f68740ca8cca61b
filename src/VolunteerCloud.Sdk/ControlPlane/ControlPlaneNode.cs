using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using VolunteerCloud.Apps;
using VolunteerCloud.Containers;
using VolunteerCloud.Membership;
using VolunteerCloud.Placement;
using VolunteerCloud.Wire;

namespace VolunteerCloud.ControlPlane;

/// <summary>Options of the control plane. Every default is named.</summary>
public sealed class ControlPlaneOptions
{
    /// <summary>The replicated state's gossip and anti-entropy.</summary>
    public ReplicatedStateOptions State { get; set; } = new();

    /// <summary>How often a steward reconciles its apps (it also does so shortly after every relevant change). Default 5 s.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How soon after a change a steward reconciles. Default 200 ms (changes arriving together are handled together).</summary>
    public TimeSpan ReconcileDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a steward waits for a started copy to show up in its host's report before it places it again. Default 2 min.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The Deis-like baseline: when set, this one node stewards every app and no other node does — the same loop
    /// pinned to a fixed controller, a single point of failure. Default null: leaderless stewards.
    /// </summary>
    public NodeId? PinnedController { get; set; }

    /// <summary>Timer kinds: 200 and 201 for the replicated state, this one for reconciling. Default 210.</summary>
    public int ReconcileTimerKind { get; set; } = 210;

    /// <summary>A copy (the replicated-state options are shared).</summary>
    public ControlPlaneOptions Clone() => (ControlPlaneOptions)MemberwiseClone();

    /// <summary>Checks the options.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(State);
        State.Validate();
        if (ReconcileInterval <= TimeSpan.Zero || ReconcileDelay < TimeSpan.Zero || StartTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ReconcileInterval), "ReconcileInterval and StartTimeout must be positive, ReconcileDelay not negative.");
        }
    }
}

/// <summary>Counters of one control-plane node.</summary>
public sealed class ControlPlaneCounters
{
    /// <summary>Copies this node, as a steward, asked a host to start.</summary>
    public long StartsRequested { get; internal set; }

    /// <summary>Copies this node, as a steward, asked a host to stop.</summary>
    public long StopsRequested { get; internal set; }

    /// <summary>Control messages sent (start and stop commands; the replicated state counts its own).</summary>
    public long CommandsSent { get; internal set; }

    /// <summary>Containers this node started as a host.</summary>
    public long ContainersStarted { get; internal set; }

    /// <summary>Start requests refused as a host (no capacity, or already running a copy of the app).</summary>
    public long StartsRefused { get; internal set; }

    /// <summary>Reconcile passes run as a steward.</summary>
    public long Reconciles { get; internal set; }
}

/// <summary>
/// A volunteer node's control plane: the desired state (app name → spec) and the actual state (each host's
/// report of the replicas it runs) replicated on every node; for each app a steward — the live member with the
/// highest rendezvous weight for the app, or the pinned controller in the Deis-like baseline — reconciles desired
/// against actual with the placement strategy and the churn handler; and the host role that runs the copies it is
/// asked to through the node's container runtime. Any node accepts deploy, scale and remove. Sans-IO.
/// </summary>
public sealed class ControlPlaneNode : INode
{
    /// <summary>The prefix of the desired state's keys in the replicated state (<c>app/</c> and the app's name).</summary>
    internal const string AppPrefix = "app/";

    /// <summary>The key of the cluster's id in the replicated state (<see cref="FoundCluster"/>).</summary>
    internal const string ClusterKey = "cluster/id";

    /// <summary>How many random bytes a cluster's id has.</summary>
    private const int ClusterIdBytes = 16;

    private const string NodePrefix = "node/";
    private const int StewardCandidates = 32;

    private readonly ControlPlaneOptions _options;
    private readonly IPlacementStrategy _placement;
    private readonly IChurnHandler _churn;
    private readonly AvailabilityAwarePlacement _survival;
    private readonly ReplicatedState _state;
    private readonly Dictionary<string, (AppSpec Spec, byte[] Encoded)> _apps = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _appNames = new(StringComparer.Ordinal);
    private readonly Dictionary<NodeId, NodeReport> _reports = [];
    private readonly Dictionary<NodeId, List<(ReplicaId Replica, ResourceAmount Limits)>> _applied = [];
    private readonly Dictionary<string, HashSet<NodeId>> _appHosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NodeId[]> _candidates = new(StringComparer.Ordinal);
    private readonly Dictionary<NodeId, List<string>> _candidateOf = [];
    private readonly SortedSet<string> _stewarded = new(StringComparer.Ordinal);
    private readonly Dictionary<(string App, int Slot), Pending> _pending = [];
    private readonly Dictionary<NodeId, TimeSpan> _downSince = [];
    private readonly ClusterState _cluster = new();
    private readonly Dictionary<ReplicaId, LocalCopy> _local = [];
    private readonly Dictionary<ContainerId, ReplicaId> _byContainer = [];
    private NodeContext? _context;
    private bool _leaving;
    private bool _reconcileArmed;
    private TimerId _reconcileTimer;
    private TimeSpan _reconcileDue;
    private long _serial;

    /// <summary>Creates the node.</summary>
    public ControlPlaneNode(NodeId self, IMembershipProtocol membership, IPlacementStrategy placement, IChurnHandler churn, ControlPlaneOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(membership);
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentNullException.ThrowIfNull(churn);
        _options = options ?? new ControlPlaneOptions();
        _options.Validate();
        Self = self;
        Membership = membership;
        _placement = placement;
        _churn = churn;
        _survival = placement as AvailabilityAwarePlacement ?? new AvailabilityAwarePlacement();
        _state = new ReplicatedState(self, _options.State, RandomPeer, () => Math.Max(1, Membership.View.Count));
        _state.Changed += OnStateChanged;
        membership.Changed += OnMembershipChanged;
    }

    /// <summary>This node.</summary>
    public NodeId Self { get; }

    /// <summary>The membership protocol it runs.</summary>
    public IMembershipProtocol Membership { get; }

    /// <summary>The replicated desired and actual state.</summary>
    public ReplicatedState State => _state;

    /// <summary>What this node has done.</summary>
    public ControlPlaneCounters Counters { get; } = new();

    /// <summary>The desired state as this node knows it.</summary>
    public IEnumerable<AppSpec> Apps => _appNames.Where(_apps.ContainsKey).Select(name => _apps[name].Spec);

    /// <summary>
    /// The desired state's entries as stamped in the replicated state — every app's, tombstones of removed apps
    /// included, and the cluster's id once it has one — for <see cref="DesiredStateSnapshot"/>;
    /// <see cref="DesiredVersion"/> tells when they changed.
    /// </summary>
    public IEnumerable<StateEntry> DesiredEntries => _state.Entries.Where(e => IsKeptKey(e.Key));

    /// <summary>
    /// The cluster's id as this node knows it (32 lowercase hex digits): chosen by the node that founded the cluster
    /// (<see cref="FoundCluster"/>) and spread with the desired state; null until gossip has brought it, and in a
    /// cluster no node named. Two clusters that merge end with one id (last writer wins).
    /// </summary>
    public string? ClusterId => _state.TryGet(ClusterKey, out var entry) ? ClusterIdOf([entry]) : null;

    /// <summary>
    /// Names the cluster this node founds: a random id (from the node's seeded source) written into the replicated
    /// state, so the desired state a node keeps between lives (<see cref="DesiredEntries"/>) says which cluster it
    /// is of, and is not restored into another one (<see cref="RestoreDesired"/>). Call once the node holds what it
    /// kept from an earlier life (that may name the cluster already), during one of its inputs. Does nothing when
    /// the node knows an id.
    /// </summary>
    /// <returns>The cluster's id.</returns>
    public string FoundCluster(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (ClusterId is { } known)
        {
            return known;
        }

        _context = context;
        var id = new byte[ClusterIdBytes];
        for (var i = 0; i < id.Length; i += sizeof(ulong))
        {
            BinaryPrimitives.WriteUInt64LittleEndian(id.AsSpan(i), context.Random.NextUInt64());
        }

        _state.Write(ClusterKey, id, 0, context);
        return Convert.ToHexStringLower(id);
    }

    /// <summary>
    /// The cluster id that kept entries (<see cref="DesiredEntries"/>, <see cref="DesiredStateSnapshot.Decode"/>)
    /// name, or null when they name none (kept before the cluster was named, or by a version without ids).
    /// </summary>
    public static string? ClusterIdOf(IEnumerable<StateEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var entry in entries)
        {
            if (entry.Key == ClusterKey && !entry.Deleted && entry.Value.Length > 0)
            {
                return Convert.ToHexStringLower(entry.Value.Span);
            }
        }

        return null;
    }

    /// <summary>Counts the changes to <see cref="DesiredEntries"/> (a local deploy, scale or remove, or one merged from a peer).</summary>
    public long DesiredVersion { get; private set; }

    /// <summary>
    /// Merges desired-state entries kept from an earlier life (<see cref="DesiredStateSnapshot"/>). Each is applied
    /// only if its stamp beats what the node holds, exactly as if a peer had sent it, and what is applied is gossiped
    /// on: a cluster restarted as a whole gets back every app some node had kept. Restore once the node holds the
    /// cluster's current state — it founded the cluster, or a few anti-entropy exchanges have passed since it first
    /// synced with a peer (the first sync can be the first of several repair messages) — so a stale entry meets the
    /// newer one or the tombstone and loses, rather than at start, where a restarted steward would act on a spec the
    /// cluster has since changed. One restored too early still loses at the next exchange (last writer wins), after
    /// a steward may have acted on it. Call during one of this node's inputs.
    /// </summary>
    /// <returns>How many entries were applied.</returns>
    /// <exception cref="ArgumentException">An entry is not an app's nor the cluster's id, or the entries were kept in
    /// another cluster (they name an id other than <see cref="ClusterId"/>; check with <see cref="ClusterIdOf"/>).
    /// Nothing is applied then.</exception>
    public int RestoreDesired(NodeContext context, IEnumerable<StateEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(entries);
        var all = entries.ToList();
        if (all.FirstOrDefault(e => !IsKeptKey(e.Key)) is { Key: not null } stray)
        {
            throw new ArgumentException($"'{stray.Key}' is neither an app's entry nor the cluster's id.", nameof(entries));
        }

        if (ClusterIdOf(all) is { } kept && ClusterId is { } current && kept != current)
        {
            throw new ArgumentException($"The entries were kept in cluster {kept}; this node is in cluster {current}.", nameof(entries));
        }

        _context = context;
        var applied = 0;
        foreach (var entry in all)
        {
            if (_state.Merge(entry))
            {
                applied++;
            }
        }

        _state.ArmGossip(context);
        return applied;
    }

    /// <summary>Whether this node holds the desired state of <paramref name="app"/> (it is among <see cref="Apps"/>).</summary>
    public bool KnowsApp(string app) => _apps.ContainsKey(app);

    /// <summary>The apps this node stewards now.</summary>
    public IReadOnlyCollection<string> Stewarded => _stewarded;

    /// <summary>The copies this node runs or starts, as a host.</summary>
    public IEnumerable<ReplicaRecord> LocalReplicas => _local.Select(l => new ReplicaRecord(l.Key, l.Value.Running));

    /// <summary>Every host's last report, as this node knows them.</summary>
    public IReadOnlyDictionary<NodeId, NodeReport> Reports => _reports;

    /// <inheritdoc />
    public void OnStart(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _serial = (long)(context.Random.NextUInt64() >> 2);
        Membership.Start(context);
        _state.Start(context);
        foreach (var member in Membership.View)
        {
            Track(member);
        }

        RefreshStewardship(context);
    }

    /// <inheritdoc />
    public void OnMessage(NodeContext context, NodeId from, InboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        if (Membership.TryHandleMessage(context, from, message) || _state.TryHandleMessage(context, from, message))
        {
            return;
        }

        try
        {
            if (message.Is<StartReplica>())
            {
                OnStartReplica(context, message.Read<StartReplica>());
            }
            else if (message.Is<StopReplica>())
            {
                var replica = message.Read<StopReplica>().Replica;
                if (_local.TryGetValue(replica, out var copy))
                {
                    context.Containers.Stop(copy.Container);
                }
            }
        }
        catch (WireFormatException)
        {
            // Malformed command: dropped.
        }
    }

    /// <inheritdoc />
    public void OnTimer(NodeContext context, TimerTag tag)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        if (Membership.TryHandleTimer(context, tag) || _state.TryHandleTimer(context, tag))
        {
            return;
        }

        if (tag.Kind == _options.ReconcileTimerKind)
        {
            _reconcileArmed = false;
            foreach (var app in _stewarded.ToArray())
            {
                Reconcile(context, app);
            }

            if (_stewarded.Count > 0)
            {
                ArmReconcile(context, _options.ReconcileInterval);
            }
        }
    }

    /// <inheritdoc />
    public void OnContainerEvent(NodeContext context, ContainerEvent containerEvent)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        if (!_byContainer.TryGetValue(containerEvent.Container, out var replica))
        {
            return;
        }

        if (containerEvent.Kind == ContainerEventKind.Started)
        {
            if (IsRemoved(replica.App))
            {
                context.Containers.Stop(containerEvent.Container); // removed while it was starting: never reported running
                return;
            }

            _local[replica] = _local[replica] with { Running = true };
        }
        else
        {
            var wasRunning = _local[replica].Running;
            _local.Remove(replica);
            _byContainer.Remove(containerEvent.Container);
            if (!wasRunning)
            {
                return; // never reported
            }
        }

        PublishReport(context);
    }

    /// <summary>Deploys or updates an app: written to the desired state, spread to every node. Call during one of this node's inputs.</summary>
    public void Deploy(NodeContext context, AppSpec spec)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(spec);
        _state.Write(AppPrefix + spec.Name, AppSpecCodec.Encode(spec), AppVersionFloor(context), context);
        PushChange(context, spec.Name);
    }

    /// <summary>Sets an app's replica count.</summary>
    /// <exception cref="KeyNotFoundException">No app has that name.</exception>
    public void Scale(NodeContext context, string app, int replicas)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!_apps.TryGetValue(app, out var current))
        {
            throw new KeyNotFoundException($"No app is called '{app}'.");
        }

        Deploy(context, current.Spec with { Replicas = replicas });
    }

    /// <summary>Removes an app: its replicas are stopped everywhere.</summary>
    public void Remove(NodeContext context, string app)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(app);
        _state.Delete(AppPrefix + app, AppVersionFloor(context), context);
        PushChange(context, app);
    }

    /// <summary>
    /// A change to an app goes at once to its steward and to <see cref="ImmediatePeers"/> random live members, as
    /// well as into the gossip: the steward acts on it one hop later rather than after gossip rounds (a deploy's
    /// latency), and the change is on its way to other nodes before the API acknowledges it — a node that crashes
    /// right after acknowledging a deploy (and before its gossip timer fires) loses nothing. Gossip and anti-entropy
    /// still carry it everywhere.
    /// </summary>
    private void PushChange(NodeContext context, string app)
    {
        if (!_state.TryGet(AppPrefix + app, out var entry))
        {
            return;
        }

        var steward = StewardOf(app);
        Span<int> sent = stackalloc int[ImmediatePeers + 1];
        var count = 0;
        if (steward != Self)
        {
            sent[count++] = steward.Value;
        }

        for (var attempt = 0; attempt < 4 * ImmediatePeers && count < sent.Length; attempt++)
        {
            if (RandomPeer(context.Random) is { } peer && !sent[..count].Contains(peer.Value))
            {
                sent[count++] = peer.Value;
            }
        }

        foreach (var to in sent[..count])
        {
            context.Send(new NodeId(to), new StateEntries(new[] { entry }));
            Counters.CommandsSent++;
        }
    }

    /// <summary>Random live members a change is sent to at once besides its steward.</summary>
    private const int ImmediatePeers = 2;

    /// <summary>The owner reclaims the machine soon: the report says so, and stewards move the replicas off it.</summary>
    public void AnnounceLeaving(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _leaving = true;
        PublishReport(context);
    }

    private NodeId? RandomPeer(Randomness.RandomSource random)
    {
        var members = Membership.View.Members;
        if (members.Length < 2)
        {
            return null;
        }

        for (var attempt = 0; attempt < 16; attempt++)
        {
            var member = members[random.NextInt32(members.Length)];
            if (member.State == MemberState.Alive && member.Id != Self)
            {
                return member.Id;
            }
        }

        return null;
    }

    private void OnStartReplica(NodeContext context, StartReplica command)
    {
        var replica = command.Replica;
        if (_local.ContainsKey(replica) || _leaving)
        {
            return;
        }

        if (_local.Keys.Any(r => r.App == replica.App) || IsRemoved(replica.App))
        {
            Counters.StartsRefused++; // never two copies of one app on one host
            return;
        }

        var spec = AppSpecCodec.Decode(command.Spec.Span);
        if (!context.Containers.TryRun(spec.ToContainerSpec(replica.ToString()), out var container))
        {
            Counters.StartsRefused++;
            return;
        }

        Counters.ContainersStarted++;
        _local[replica] = new LocalCopy(container, false);
        _byContainer[container] = replica;

        // Not published yet: the steward tracks its pending start; the report changes when the copy runs (or fails).
    }

    private NodeReport LocalReport() =>
        new(_leaving, [.. _local.Where(l => l.Value.Running).OrderBy(l => l.Key.App, StringComparer.Ordinal).ThenBy(l => l.Key.Slot).Select(l => new ReplicaRecord(l.Key, true))]);

    private void PublishReport(NodeContext context)
    {
        var report = LocalReport();
        _state.Write(NodePrefix + Self.Value.ToString(CultureInfo.InvariantCulture), report.Encode(), context.TimeProvider.GetUtcNow().UtcTicks, context);
    }

    private void OnStateChanged(StateEntry entry)
    {
        if (entry.Key == ClusterKey)
        {
            DesiredVersion++; // kept with the desired state
            return;
        }

        if (IsDesiredKey(entry.Key))
        {
            DesiredVersion++;
            var name = entry.Key[AppPrefix.Length..];
            if (entry.Deleted)
            {
                _apps.Remove(name);
                if (_context is { } here)
                {
                    StopLocalCopies(here, name);
                }
            }
            else
            {
                try
                {
                    _apps[name] = (AppSpecCodec.Decode(entry.Value.Span), entry.Value.ToArray());
                }
                catch (WireFormatException)
                {
                    return;
                }
            }

            _appNames.Add(name); // removed apps stay listed until their steward has stopped every copy
            if (!_candidates.ContainsKey(name))
            {
                SetCandidates(name, TopCandidates(name));
            }

            if (_context is { } context)
            {
                RefreshStewardship(context, [name]);
            }
        }
        else if (entry.Key.StartsWith(NodePrefix, StringComparison.Ordinal) &&
                 int.TryParse(entry.Key.AsSpan(NodePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            NodeReport report;
            try
            {
                report = entry.Deleted ? NodeReport.Empty : NodeReport.Decode(entry.Value.Span);
            }
            catch (WireFormatException)
            {
                return;
            }

            if (id == Self.Value && _context is { } self && !report.Equals(LocalReport()))
            {
                // A report of ours that this incarnation did not write (a restarted host runs nothing, whatever its
                // last life reported): publish the truth, which is newer.
                PublishReport(self);
                return;
            }

            ApplyReport(new NodeId(id), report);
        }
    }

    private void ApplyReport(NodeId host, NodeReport report)
    {
        var index = _cluster.IndexOf(host);
        if (_applied.Remove(host, out var old))
        {
            foreach (var (replica, limits) in old)
            {
                if (index >= 0)
                {
                    _cluster.Release(index, limits);
                }

                if (_appHosts.TryGetValue(replica.App, out var hosts))
                {
                    hosts.Remove(host);
                }
            }
        }

        _reports[host] = report;
        var applied = new List<(ReplicaId, ResourceAmount)>(report.Replicas.Length);
        var touched = false;
        foreach (var record in report.Replicas)
        {
            var limits = _apps.TryGetValue(record.Replica.App, out var app) ? app.Spec.Limits : AppSpec.DefaultLimits;
            if (index >= 0)
            {
                _cluster.Place(index, limits);
            }

            applied.Add((record.Replica, limits));
            if (!_appHosts.TryGetValue(record.Replica.App, out var hosts))
            {
                _appHosts[record.Replica.App] = hosts = [];
            }

            hosts.Add(host);
            touched |= _stewarded.Contains(record.Replica.App);
            if (_pending.TryGetValue((record.Replica.App, record.Replica.Slot), out var pending) && pending.Replica == record.Replica)
            {
                ResolvePending(record.Replica.App, record.Replica.Slot); // the report accounts for it now
            }
        }

        _applied[host] = applied;
        if (index >= 0)
        {
            _cluster.SetEligible(index, Membership.View.IsAlive(host) && !report.Leaving);
        }

        if ((touched || report.Leaving || old is { Count: > 0 }) && _context is { } context && _stewarded.Count > 0)
        {
            ArmReconcile(context, _options.ReconcileDelay);
        }
    }

    private void OnMembershipChanged(object? sender, MembershipChange change)
    {
        var context = _context;
        var now = context?.TimeProvider.GetElapsedTime(0) ?? TimeSpan.Zero;
        if (Membership.View.TryGetMember(change.Node, out var member))
        {
            Track(member);
        }

        var index = _cluster.IndexOf(change.Node);
        var alive = change.Current == MemberState.Alive && !change.Removed;
        if (index >= 0)
        {
            _cluster.SetEligible(index, alive && !(_reports.TryGetValue(change.Node, out var report) && report.Leaving));
            var history = _cluster.HistoryOf(index);
            if (alive && history.UpSince is null)
            {
                history.SessionStarted(now);
            }
            else if (!alive && history.UpSince is not null)
            {
                history.SessionEnded(now);
            }
        }

        if (alive)
        {
            _downSince.Remove(change.Node);
        }
        else
        {
            _downSince.TryAdd(change.Node, now);
        }

        if (context is not null && _appNames.Count > 0)
        {
            // Only apps that have the node among their candidates can change steward.
            if (_options.PinnedController is null && _candidateOf.TryGetValue(change.Node, out var apps) && apps.Count > 0)
            {
                RefreshStewardship(context, [.. apps]);
            }
        }
    }

    private void Track(Member member)
    {
        if (_cluster.IndexOf(member.Id) >= 0)
        {
            return;
        }

        var capacity = new ResourceAmount(member.Metadata.CpuMillicores / 1000.0, (long)member.Metadata.MemoryMegabytes << 20);
        var index = _cluster.Add(member.Id, capacity, member.Metadata.Region);
        _cluster.SetEligible(index, member.State == MemberState.Alive);
        if (member.State == MemberState.Alive)
        {
            _cluster.HistoryOf(index).SessionStarted(_context?.TimeProvider.GetElapsedTime(0) ?? TimeSpan.Zero);
        }

        if (_applied.TryGetValue(member.Id, out var applied))
        {
            foreach (var (_, limits) in applied)
            {
                _cluster.Place(index, limits);
            }
        }

        foreach (var (app, top) in _candidates.ToArray())
        {
            var updated = Insert(top, app, member.Id);
            if (!ReferenceEquals(updated, top))
            {
                SetCandidates(app, updated);
            }
        }
    }

    private void SetCandidates(string app, NodeId[] top)
    {
        if (_candidates.TryGetValue(app, out var old))
        {
            foreach (var node in old)
            {
                _candidateOf[node].Remove(app);
            }
        }

        _candidates[app] = top;
        foreach (var node in top)
        {
            (_candidateOf.TryGetValue(node, out var apps) ? apps : _candidateOf[node] = []).Add(app);
        }
    }

    private NodeId[] TopCandidates(string app)
    {
        // The 32 highest weights among every known member and this node: one pass, a small sorted buffer.
        var key = Rendezvous.Key(app);
        var ids = new NodeId[StewardCandidates];
        var weights = new double[StewardCandidates];
        var count = 0;
        void Offer(NodeId id)
        {
            var weight = Rendezvous.Weight(key, id);
            if (count == StewardCandidates && !Better(weight, id, weights[count - 1], ids[count - 1]))
            {
                return;
            }

            var at = count < StewardCandidates ? count++ : count - 1;
            while (at > 0 && Better(weight, id, weights[at - 1], ids[at - 1]))
            {
                ids[at] = ids[at - 1];
                weights[at] = weights[at - 1];
                at--;
            }

            ids[at] = id;
            weights[at] = weight;
        }

        var selfSeen = false;
        foreach (var member in Membership.View.Members)
        {
            selfSeen |= member.Id == Self;
            Offer(member.Id);
        }

        if (!selfSeen)
        {
            Offer(Self);
        }

        return ids[..count];
    }

    private static bool Better(double weight, NodeId id, double otherWeight, NodeId other) =>
        weight > otherWeight || (weight == otherWeight && id.Value < other.Value);

    private static NodeId[] Insert(NodeId[] top, string app, NodeId node)
    {
        if (top.Contains(node))
        {
            return top;
        }

        var key = Rendezvous.Key(app);
        var weight = Rendezvous.Weight(key, node);
        if (top.Length >= StewardCandidates && weight <= Rendezvous.Weight(key, top[^1]))
        {
            return top;
        }

        return [.. top.Append(node).OrderByDescending(id => Rendezvous.Weight(key, id)).ThenBy(id => id.Value).Take(StewardCandidates)];
    }

    /// <summary>The app's steward as this node sees it: the pinned controller, or the live member with the highest rendezvous weight.</summary>
    public NodeId StewardOf(string app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (_options.PinnedController is { } pinned)
        {
            return pinned;
        }

        var view = Membership.View;
        if (!_candidates.TryGetValue(app, out var top))
        {
            SetCandidates(app, top = TopCandidates(app));
        }

        foreach (var candidate in top)
        {
            if (candidate == Self || view.IsAlive(candidate))
            {
                return candidate;
            }
        }

        // Every candidate is gone: scan everyone (rare: 32 candidates all down).
        var key = Rendezvous.Key(app);
        return Rendezvous.Highest(key, view.Alive.Select(m => m.Id).Append(Self)) ?? Self;
    }

    private void RefreshStewardship(NodeContext context, IReadOnlyCollection<string>? only = null)
    {
        var changed = false;
        foreach (var app in only ?? _appNames)
        {
            var mine = StewardOf(app) == Self;
            changed |= mine ? _stewarded.Add(app) : _stewarded.Remove(app);
        }

        if (_stewarded.Count > 0 && (changed || only is not null))
        {
            ArmReconcile(context, _options.ReconcileDelay);
        }
    }

    private void ArmReconcile(NodeContext context, TimeSpan delay)
    {
        // A change asks for a reconcile soon: it brings forward a later one already armed (the periodic pass).
        var due = context.TimeProvider.GetElapsedTime(0) + delay;
        if (_reconcileArmed)
        {
            if (_reconcileDue <= due || !context.CancelTimer(_reconcileTimer))
            {
                return;
            }
        }

        _reconcileTimer = context.SetTimer(delay, new TimerTag(_options.ReconcileTimerKind));
        _reconcileDue = due;
        _reconcileArmed = true;
    }

    private void Reconcile(NodeContext context, string app)
    {
        Counters.Reconciles++;
        var now = context.TimeProvider.GetElapsedTime(0);
        _cluster.Now = now;
        var view = Membership.View;
        var spec = _apps.TryGetValue(app, out var entry) ? entry.Spec : null;
        var availability = _cluster.Count == 0 ? 1 : _cluster.EligibleCount / (double)_cluster.Count;
        var target = spec is null ? 0 : _churn.TargetReplicas(spec, availability);

        // Every copy of the app: on live hosts, on hosts within their grace period, and pending starts.
        var copies = new List<StewardCopy>();
        if (_appHosts.TryGetValue(app, out var hosts))
        {
            foreach (var host in hosts)
            {
                var alive = host == Self || view.IsAlive(host);
                if (!alive)
                {
                    if (!_downSince.TryGetValue(host, out var since))
                    {
                        _downSince[host] = since = now; // known down before this node looked: the grace starts now
                    }

                    if (now - since >= _churn.GracePeriod)
                    {
                        continue; // lost
                    }
                }

                var report = _reports[host];
                var index = _cluster.IndexOf(host);
                var residual = !_churn.UsesResidualUptime ? double.NaN : index >= 0 ? _survival.PredictedResidualHours(_cluster, index) : double.PositiveInfinity;
                var migrate = alive && _churn.ShouldMigrate(report.Leaving, residual);
                foreach (var record in report.Replicas)
                {
                    if (record.Replica.App == app)
                    {
                        copies.Add(new StewardCopy(record.Replica, host, record.Running, alive, migrate));
                    }
                }
            }
        }

        List<int>? expired = null;
        foreach (var ((pendingApp, slot), pending) in _pending)
        {
            if (pendingApp != app)
            {
                continue;
            }

            if (now > pending.Deadline || !view.IsAlive(pending.Host))
            {
                (expired ??= []).Add(slot);
                continue;
            }

            if (!copies.Any(c => c.Replica == pending.Replica))
            {
                copies.Add(new StewardCopy(pending.Replica, pending.Host, false, true, false));
            }
        }

        foreach (var slot in expired ?? [])
        {
            ResolvePending(app, slot);
        }

        var actions = new List<StewardAction>();
        StewardPlanner.Plan(copies, target, actions);
        if (actions.Count > 0)
        {
            var used = copies.Select(c => c.Host).Distinct().ToList();
            foreach (var action in actions)
            {
                if (!action.Start)
                {
                    Stop(context, action.Copy);
                }
                else if (spec is not null)
                {
                    Place(context, app, spec, action.Slot, used);
                }
            }
        }

        if (spec is null && copies.Count == 0)
        {
            foreach (var (key, _) in _pending.Where(p => p.Key.App == app).ToArray())
            {
                ResolvePending(key.App, key.Slot);
            }

            _appNames.Remove(app);
            _stewarded.Remove(app);
            SetCandidates(app, []);
            _candidates.Remove(app);
        }
    }

    private void Place(NodeContext context, string app, AppSpec spec, int slot, List<NodeId> used)
    {
        if (_pending.ContainsKey((app, slot)))
        {
            return;
        }

        var regions = used.Select(h => _cluster.IndexOf(h)).Where(i => i >= 0).Select(i => _cluster.RegionOf(i)).Distinct().ToArray();
        var request = new PlacementRequest(app, slot, spec.Limits) { Avoid = used.ToArray(), UsedRegions = regions };
        var index = _placement.Choose(_cluster, request, context.Random);
        if (index < 0)
        {
            return; // no capacity now: the next pass tries again
        }

        var host = _cluster.HostAt(index);
        var replica = new ReplicaId(app, slot, ++_serial);
        _pending[(app, slot)] = new Pending(replica, host, context.TimeProvider.GetElapsedTime(0) + _options.StartTimeout, spec.Limits);
        _cluster.Place(index, spec.Limits); // held until the copy shows in the host's report, so one pass does not overfill a host
        used.Add(host);
        Counters.StartsRequested++;
        var command = new StartReplica(replica, _apps[app].Encoded);
        if (host == Self)
        {
            OnStartReplica(context, command);
        }
        else
        {
            context.Send(host, command);
            Counters.CommandsSent++;
        }
    }

    private void ResolvePending(string app, int slot)
    {
        if (_pending.Remove((app, slot), out var pending) && _cluster.IndexOf(pending.Host) is var index and >= 0)
        {
            _cluster.Release(index, pending.Limits);
        }
    }

    private void Stop(NodeContext context, StewardCopy copy)
    {
        Counters.StopsRequested++;
        if (copy.Host == Self)
        {
            if (_local.TryGetValue(copy.Replica, out var local))
            {
                context.Containers.Stop(local.Container);
            }
        }
        else
        {
            context.Send(copy.Host, new StopReplica(copy.Replica));
            Counters.CommandsSent++;
        }
    }

    /// <summary>
    /// A change's version is at least this node's UTC clock in ticks (and above the version it holds): a hybrid of a
    /// counter and a clock. With the counter alone, a node that restarted and has not relearnt the desired state yet
    /// writes a low version, and an older change the rest of the cluster holds beats the one it just acknowledged;
    /// with the clock, the later change wins as long as clocks are roughly right (Cassandra's last-writer-wins).
    /// </summary>
    private static long AppVersionFloor(NodeContext context) => context.TimeProvider.GetUtcNow().UtcTicks;

    /// <summary>Whether a replicated-state key is an app's (the desired state), not a host's report.</summary>
    internal static bool IsDesiredKey(string key) => key.StartsWith(AppPrefix, StringComparison.Ordinal);

    /// <summary>Whether a key is kept between lives: an app's or the cluster's id.</summary>
    internal static bool IsKeptKey(string key) => IsDesiredKey(key) || key == ClusterKey;

    /// <summary>Whether the desired state holds the app's tombstone (removed, not deployed again since).</summary>
    private bool IsRemoved(string app) => _state.TryGet(AppPrefix + app, out var entry) && entry.Deleted;

    /// <summary>
    /// A removed app's copies here stop as soon as this node learns of the removal, whoever stewards the app: a copy
    /// the steward never heard of (started on a host cut off by a partition, or by a start command that crossed
    /// the removal) would otherwise run on after the steward has dropped the app. The tombstone reaches every node.
    /// </summary>
    private void StopLocalCopies(NodeContext context, string app)
    {
        foreach (var (replica, copy) in _local)
        {
            if (replica.App == app)
            {
                Counters.StopsRequested++;
                context.Containers.Stop(copy.Container);
            }
        }
    }

    private readonly record struct Pending(ReplicaId Replica, NodeId Host, TimeSpan Deadline, ResourceAmount Limits);

    private readonly record struct LocalCopy(ContainerId Container, bool Running);
}
