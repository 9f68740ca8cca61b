using VolunteerCloud.Apps;
using VolunteerCloud.Availability;
using VolunteerCloud.Containers;
using VolunteerCloud.Membership;
using VolunteerCloud.Placement;

namespace VolunteerCloud.ControlPlane;

/// <summary>
/// The steward role: for each app this node stewards — it is the live member with the highest rendezvous weight for
/// the app, or the pinned controller of the Deis-like baseline — reconcile the desired state against the hosts'
/// reports: gather the app's copies (<see cref="StewardRules"/>), plan (<see cref="StewardPlanner"/>), place the
/// missing copies with the placement strategy and stop the surplus. Reconciles shortly after every relevant change and
/// every <see cref="ControlPlaneOptions.ReconcileInterval"/>.
/// </summary>
internal sealed class Steward(
    NodeId self,
    IMembershipProtocol membership,
    IPlacementStrategy placement,
    IChurnHandler churn,
    ResidualUptimeEstimator survival,
    ControlPlaneOptions options,
    ControlPlaneCounters counters,
    DesiredState desired,
    ActualState actual,
    ReplicaHost host)
{
    private readonly StewardCandidates _candidates = new(self, membership);
    private readonly SortedSet<string> _apps = new(StringComparer.Ordinal); // every app it may have to act on, removed ones until their copies are stopped
    private readonly SortedSet<string> _stewarded = new(StringComparer.Ordinal);
    private readonly Dictionary<(string App, int Slot), Pending> _pending = [];
    private bool _reconcileArmed;
    private TimerId _reconcileTimer;
    private TimeSpan _reconcileDue;
    private long _serial;

    /// <summary>The apps this node stewards now.</summary>
    public IReadOnlyCollection<string> Stewarded => _stewarded;

    /// <summary>Whether this node stewards <paramref name="app"/> now.</summary>
    public bool Stewards(string app) => _stewarded.Contains(app);

    /// <summary>Starts the role: replica serials from the node's seeded source, stewardship of the apps it knows.</summary>
    public void Start(NodeContext context)
    {
        _serial = (long)(context.Random.NextUInt64() >> 2);
    }

    /// <summary>The app's steward as this node sees it: the pinned controller, or the live member with the highest rendezvous weight.</summary>
    public NodeId StewardOf(string app) => options.PinnedController ?? _candidates.StewardOf(app);

    /// <summary>A member seen for the first time takes its place among each app's candidates.</summary>
    public void MemberAdded(NodeId node) => _candidates.Add(node);

    /// <summary>A member changed: only the apps that have it among their candidates can change steward.</summary>
    public void MemberChanged(NodeContext context, NodeId node)
    {
        if (_apps.Count > 0 && options.PinnedController is null && _candidates.TryGetAppsOf(node, out var apps) && apps.Count > 0)
        {
            Refresh(context, [.. apps]);
        }
    }

    /// <summary>An app's desired state changed (deployed, changed or removed).</summary>
    public void AppChanged(NodeContext? context, string app)
    {
        _apps.Add(app); // removed apps stay listed until their steward has stopped every copy
        _candidates.Know(app);
        if (context is not null)
        {
            Refresh(context, [app]);
        }
    }

    /// <summary>A host's report lists <paramref name="replica"/>: a start pending for it is accounted for now.</summary>
    public void Reported(ReplicaId replica)
    {
        if (_pending.TryGetValue((replica.App, replica.Slot), out var pending) && pending.Replica == replica)
        {
            ResolvePending(replica.App, replica.Slot);
        }
    }

    /// <summary>Takes or gives up stewardship of <paramref name="only"/> the given apps (every app when null).</summary>
    public void Refresh(NodeContext context, IReadOnlyCollection<string>? only = null)
    {
        var changed = false;
        foreach (var app in only ?? _apps)
        {
            var mine = StewardOf(app) == self;
            changed |= mine ? _stewarded.Add(app) : _stewarded.Remove(app);
        }

        if (_stewarded.Count > 0 && (changed || only is not null))
        {
            ArmReconcile(context, options.ReconcileDelay);
        }
    }

    /// <summary>Asks for a reconcile soon (something relevant changed), if this node stewards anything.</summary>
    public void ReconcileSoon(NodeContext context)
    {
        if (_stewarded.Count > 0)
        {
            ArmReconcile(context, options.ReconcileDelay);
        }
    }

    /// <summary>The reconcile timer fired: every stewarded app, then the next periodic pass.</summary>
    public void OnReconcileTimer(NodeContext context)
    {
        _reconcileArmed = false;
        foreach (var app in _stewarded.ToArray())
        {
            Reconcile(context, app);
        }

        if (_stewarded.Count > 0)
        {
            ArmReconcile(context, options.ReconcileInterval);
        }
    }

    private void ArmReconcile(NodeContext context, TimeSpan delay)
    {
        // A change asks for a reconcile soon: it brings forward a later one already armed (the periodic pass).
        var due = context.Now + delay;
        if (_reconcileArmed)
        {
            if (_reconcileDue <= due || !context.CancelTimer(_reconcileTimer))
            {
                return;
            }
        }

        _reconcileTimer = context.SetTimer(delay, new TimerTag(TimerKinds.Reconcile));
        _reconcileDue = due;
        _reconcileArmed = true;
    }

    private void Reconcile(NodeContext context, string app)
    {
        counters.Reconciles++;
        var now = context.Now;
        var cluster = actual.Cluster;
        cluster.Now = now;
        var view = membership.View;
        var spec = desired.TryGet(app, out var entry) ? entry.Spec : null;
        var target = StewardRules.Target(spec, cluster, churn);

        // Every copy of the app: on live hosts, on hosts within their grace period, and pending starts.
        var copies = new List<StewardCopy>();
        if (actual.TryGetHosts(app, out var hosts))
        {
            foreach (var host in hosts)
            {
                var alive = host == self || view.IsAlive(host);
                var report = actual.Reports[host];
                var standing = StewardRules.Judge(alive, now, alive ? default : actual.DownSince(host, now), report.Leaving, cluster, cluster.IndexOf(host), churn, survival);
                if (standing.Lost)
                {
                    continue;
                }

                foreach (var record in report.Replicas)
                {
                    if (record.Replica.App == app)
                    {
                        copies.Add(StewardRules.Reported(record.Replica, host, record.Running, standing));
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

            if (StewardRules.StartExpired(now, pending.Deadline, view.IsAlive(pending.Host)))
            {
                (expired ??= []).Add(slot);
                continue;
            }

            if (!copies.Any(c => c.Replica == pending.Replica))
            {
                copies.Add(StewardRules.Pending(pending.Replica, pending.Host));
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

            _apps.Remove(app);
            _stewarded.Remove(app);
            _candidates.Forget(app);
        }
    }

    private void Place(NodeContext context, string app, AppSpec spec, int slot, List<NodeId> used)
    {
        if (_pending.ContainsKey((app, slot)))
        {
            return;
        }

        var cluster = actual.Cluster;
        var index = placement.Choose(cluster, StewardRules.Request(spec, slot, used, cluster), context.Random);
        if (index < 0)
        {
            return; // no capacity now: the next pass tries again
        }

        var target = cluster.HostAt(index);
        var replica = new ReplicaId(app, slot, ++_serial);
        _pending[(app, slot)] = new Pending(replica, target, context.Now + options.StartTimeout, spec.Limits);
        cluster.Place(index, spec.Limits); // held until the copy shows in the host's report, so one pass does not overfill a host
        used.Add(target);
        counters.StartsRequested++;
        desired.TryGet(app, out var entry);
        var command = new StartReplica(replica, entry.Encoded);
        if (target == self)
        {
            host.Start(context, command);
        }
        else
        {
            context.Send(target, command);
            counters.CommandsSent++;
        }
    }

    private void ResolvePending(string app, int slot)
    {
        if (_pending.Remove((app, slot), out var pending) && actual.Cluster.IndexOf(pending.Host) is var index and >= 0)
        {
            actual.Cluster.Release(index, pending.Limits);
        }
    }

    private void Stop(NodeContext context, StewardCopy copy)
    {
        counters.StopsRequested++;
        if (copy.Host == self)
        {
            host.Stop(context, copy.Replica);
        }
        else
        {
            context.Send(copy.Host, new StopReplica(copy.Replica));
            counters.CommandsSent++;
        }
    }

    private readonly record struct Pending(ReplicaId Replica, NodeId Host, TimeSpan Deadline, ResourceAmount Limits);
}
