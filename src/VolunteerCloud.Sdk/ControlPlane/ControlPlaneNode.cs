using System.Globalization;
using VolunteerCloud.Apps;
using VolunteerCloud.Availability;
using VolunteerCloud.Containers;
using VolunteerCloud.Membership;
using VolunteerCloud.Placement;
using VolunteerCloud.Wire;

namespace VolunteerCloud.ControlPlane;

/// <summary>
/// A volunteer node's control plane: the desired state (app name → spec) and the actual state (each host's
/// report of the replicas it runs) replicated on every node; for each app a steward — the live member with the
/// highest rendezvous weight for the app, or the pinned controller in the Deis-like baseline — reconciles desired
/// against actual with the placement strategy and the churn handler; and the host role that runs the copies it is
/// asked to through the node's container runtime. Any node accepts deploy, scale and remove. Sans-IO.
/// </summary>
/// <remarks>
/// This type routes inputs and changes to its parts, one per role: <see cref="DesiredState"/>, <see cref="ActualState"/>,
/// <see cref="Steward"/> and <see cref="ReplicaHost"/>. Changes of the membership view and of the replicated state
/// arrive during the input that made them, with its context; nothing keeps a context between inputs (ADR 0001).
/// </remarks>
public sealed class ControlPlaneNode : INode
{
    private readonly ReplicatedState _state;
    private readonly DesiredState _desired;
    private readonly ActualState _actual;
    private readonly ReplicaHost _host;
    private readonly Steward _steward;

    /// <summary>Creates the node.</summary>
    /// <param name="self">This node.</param>
    /// <param name="membership">The membership protocol it runs.</param>
    /// <param name="placement">Where its steward places copies.</param>
    /// <param name="churn">What its steward does about hosts that leave.</param>
    /// <param name="options">Intervals and the baseline's pinned controller. Default: <see cref="ControlPlaneOptions"/>' defaults.</param>
    /// <param name="survival">How the churn handler predicts a host's residual uptime. Default: SETI@home's population model.</param>
    public ControlPlaneNode(NodeId self, IMembershipProtocol membership, IPlacementStrategy placement, IChurnHandler churn, ControlPlaneOptions? options = null, ResidualUptimeEstimator? survival = null)
    {
        ArgumentNullException.ThrowIfNull(membership);
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentNullException.ThrowIfNull(churn);
        options ??= new ControlPlaneOptions();
        options.Validate();
        Self = self;
        Membership = membership;
        _state = new ReplicatedState(self, options.State, RandomPeer, () => Math.Max(1, Membership.View.Count));
        _desired = new DesiredState(_state);
        _actual = new ActualState(membership, _desired);
        _host = new ReplicaHost(self, _state, _desired, Counters);
        _steward = new Steward(self, membership, placement, churn, survival ?? new ResidualUptimeEstimator(), options, Counters, _desired, _actual, _host);
        _state.Changed += OnStateChanged;
        membership.Changed += OnMembershipChanged;
    }

    /// <summary>This node.</summary>
    public NodeId Self { get; }

    /// <summary>The membership protocol it runs.</summary>
    public IMembershipProtocol Membership { get; }

    /// <summary>The replicated desired and actual state.</summary>
    internal ReplicatedState State => _state;

    /// <summary>
    /// Whether this node has compared its replicated state with a peer's since it started (anti-entropy found the two
    /// equal, or brought the peer's entries). Until then a node started without its state holds only what gossip brought,
    /// so an app it does not know may exist elsewhere: answer "not yet known", not "no such app".
    /// </summary>
    public bool Synced => _state.Synced;

    /// <summary>How often this node starts an anti-entropy exchange now (more often until <see cref="Synced"/>), so about how long syncing takes.</summary>
    public TimeSpan ExchangeInterval => _state.ExchangeInterval;

    /// <summary>What this node has done.</summary>
    public ControlPlaneCounters Counters { get; } = new();

    /// <summary>The desired state as this node knows it, by name.</summary>
    public IEnumerable<AppSpec> Apps => _desired.Apps;

    /// <summary>
    /// The desired state's entries as stamped in the replicated state — every app's, tombstones of removed apps
    /// included, and the cluster's id once it has one — for <see cref="DesiredStateSnapshot"/>;
    /// <see cref="DesiredVersion"/> tells when they changed.
    /// </summary>
    public IEnumerable<StateEntry> DesiredEntries => _desired.Entries;

    /// <summary>Counts the changes to <see cref="DesiredEntries"/> (a local deploy, scale or remove, or one merged from a peer).</summary>
    public long DesiredVersion => _desired.Version;

    /// <summary>
    /// The cluster's id as this node knows it (32 lowercase hex digits): chosen by the node that founded the cluster
    /// (<see cref="FoundCluster"/>) and spread with the desired state; null until gossip has brought it, and in a
    /// cluster no node named. Two clusters that merge end with one id (last writer wins).
    /// </summary>
    public string? ClusterId => _desired.ClusterId;

    /// <summary>The apps this node stewards now.</summary>
    public IReadOnlyCollection<string> Stewarded => _steward.Stewarded;

    /// <summary>The copies this node runs or starts, as a host.</summary>
    public IEnumerable<ReplicaRecord> LocalReplicas => _host.Replicas;

    /// <summary>Every host's last report, as this node knows them.</summary>
    public IReadOnlyDictionary<NodeId, NodeReport> Reports => _actual.Reports;

    /// <summary>
    /// The cluster id that kept entries (<see cref="DesiredEntries"/>, <see cref="DesiredStateSnapshot.Decode"/>)
    /// name, or null when they name none (kept before the cluster was named, or by a version without ids).
    /// </summary>
    public static string? ClusterIdOf(IEnumerable<StateEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return DesiredState.ClusterIdOf(entries);
    }

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
        return ClusterId ?? _desired.Found(context);
    }

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
        if (all.FirstOrDefault(e => !DesiredState.IsKeptKey(e.Key)) is { Key: not null } stray)
        {
            throw new ArgumentException($"'{stray.Key}' is neither an app's entry nor the cluster's id.", nameof(entries));
        }

        if (DesiredState.ClusterIdOf(all) is { } kept && ClusterId is { } current && kept != current)
        {
            throw new ArgumentException($"The entries were kept in cluster {kept}; this node is in cluster {current}.", nameof(entries));
        }

        var applied = 0;
        foreach (var entry in all)
        {
            if (_state.Merge(entry, context: context))
            {
                applied++;
            }
        }

        _state.ArmGossip(context);
        return applied;
    }

    /// <summary>Whether this node holds the desired state of <paramref name="app"/> (it is among <see cref="Apps"/>).</summary>
    public bool KnowsApp(string app) => _desired.Contains(app);

    /// <summary>The app's steward as this node sees it: the pinned controller, or the live member with the highest rendezvous weight.</summary>
    public NodeId StewardOf(string app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return _steward.StewardOf(app);
    }

    /// <inheritdoc />
    public void OnStart(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _steward.Start(context);
        Membership.Start(context);
        _state.Start(context);
        foreach (var member in Membership.View)
        {
            Track(context, member);
        }

        _steward.Refresh(context);
    }

    /// <inheritdoc />
    public void OnMessage(NodeContext context, NodeId from, InboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Membership.TryHandleMessage(context, from, message) || _state.TryHandleMessage(context, from, message))
        {
            return;
        }

        try
        {
            if (message.Is<StartReplica>())
            {
                _host.Start(context, message.Read<StartReplica>());
            }
            else if (message.Is<StopReplica>())
            {
                _host.Stop(context, message.Read<StopReplica>().Replica);
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
        if (Membership.TryHandleTimer(context, tag) || _state.TryHandleTimer(context, tag))
        {
            return;
        }

        if (tag.Kind == TimerKinds.Reconcile)
        {
            _steward.OnReconcileTimer(context);
        }
    }

    /// <inheritdoc />
    public void OnContainerEvent(NodeContext context, ContainerEvent containerEvent)
    {
        ArgumentNullException.ThrowIfNull(context);
        _host.OnContainerEvent(context, containerEvent);
    }

    /// <summary>Deploys or updates an app: written to the desired state, spread to every node. Call during one of this node's inputs.</summary>
    public void Deploy(NodeContext context, AppSpec spec)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(spec);
        _desired.Write(context, spec);
        PushChange(context, spec.Name);
    }

    /// <summary>Sets an app's replica count.</summary>
    /// <exception cref="KeyNotFoundException">No app has that name.</exception>
    public void Scale(NodeContext context, string app, int replicas)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!_desired.TryGet(app, out var current))
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
        _desired.Delete(context, app);
        PushChange(context, app);
    }

    /// <summary>The owner reclaims the machine soon: the report says so, and stewards move the replicas off it.</summary>
    public void AnnounceLeaving(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _host.AnnounceLeaving(context);
    }

    /// <summary>Random live members a change is sent to at once besides its steward.</summary>
    private const int ImmediatePeers = 2;

    /// <summary>
    /// A change to an app goes at once to its steward and to <see cref="ImmediatePeers"/> random live members, as
    /// well as into the gossip: the steward acts on it one hop later rather than after gossip rounds (a deploy's
    /// latency), and the change is on its way to other nodes before the API acknowledges it — a node that crashes
    /// right after acknowledging a deploy (and before its gossip timer fires) loses nothing. Gossip and anti-entropy
    /// still carry it everywhere.
    /// </summary>
    private void PushChange(NodeContext context, string app)
    {
        if (!_state.TryGet(DesiredState.AppPrefix + app, out var entry))
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

    private void Track(NodeContext context, Member member)
    {
        if (_actual.Track(member, context.Now))
        {
            _steward.MemberAdded(member.Id);
        }
    }

    private void OnStateChanged(NodeContext? context, StateEntry entry)
    {
        if (_desired.Apply(entry, out var removed) is { } app)
        {
            if (removed && context is not null)
            {
                _host.StopCopiesOf(context, app);
            }

            _steward.AppChanged(context, app);
        }
        else if (entry.Key.StartsWith(ActualState.NodePrefix, StringComparison.Ordinal) &&
                 int.TryParse(entry.Key.AsSpan(ActualState.NodePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
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

            if (id == Self.Value && context is not null && _host.Correct(context, report))
            {
                return;
            }

            if (_actual.ApplyReport(new NodeId(id), report, _steward) && context is not null)
            {
                _steward.ReconcileSoon(context);
            }
        }
    }

    private void OnMembershipChanged(NodeContext context, MembershipChange change)
    {
        var now = context.Now;
        if (Membership.View.TryGetMember(change.Node, out var member))
        {
            Track(context, member);
        }

        _actual.MemberChanged(change, now);
        _steward.MemberChanged(context, change.Node);
    }
}
