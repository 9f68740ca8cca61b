using VolunteerCloud.Apps;
using VolunteerCloud.Containers;
using VolunteerCloud.Membership;
using VolunteerCloud.Placement;

namespace VolunteerCloud.ControlPlane;

/// <summary>
/// The cluster as one node knows it: every host's last report (key <c>node/{id}</c> of the replicated state), which
/// hosts run a copy of each app, when each host was last seen going down, and the <see cref="ClusterState"/> placement
/// decides on — each member's capacity, load, eligibility and session history.
/// </summary>
internal sealed class ActualState(IMembershipProtocol membership, DesiredState desired)
{
    /// <summary>The prefix of the hosts' reports' keys in the replicated state.</summary>
    public const string NodePrefix = "node/";

    private readonly Dictionary<NodeId, NodeReport> _reports = [];
    private readonly Dictionary<NodeId, List<(ReplicaId Replica, ResourceAmount Limits)>> _applied = [];
    private readonly Dictionary<string, HashSet<NodeId>> _appHosts = new(StringComparer.Ordinal);
    private readonly Dictionary<NodeId, TimeSpan> _downSince = [];

    /// <summary>What placement sees: every member's capacity, load, region, eligibility and sessions.</summary>
    public ClusterState Cluster { get; } = new();

    /// <summary>Every host's last report.</summary>
    public IReadOnlyDictionary<NodeId, NodeReport> Reports => _reports;

    /// <summary>The hosts whose last report lists a copy of <paramref name="app"/>.</summary>
    public bool TryGetHosts(string app, out HashSet<NodeId> hosts) => _appHosts.TryGetValue(app, out hosts!);

    /// <summary>
    /// When <paramref name="host"/> went down in this node's view; a host it has never seen go down is taken to go down
    /// now (known down before this node looked: its grace period starts now).
    /// </summary>
    public TimeSpan DownSince(NodeId host, TimeSpan now)
    {
        if (!_downSince.TryGetValue(host, out var since))
        {
            _downSince[host] = since = now;
        }

        return since;
    }

    /// <summary>Adds a member to <see cref="Cluster"/> the first time it is seen.</summary>
    /// <returns>Whether it was new.</returns>
    public bool Track(Member member, TimeSpan now)
    {
        if (Cluster.IndexOf(member.Id) >= 0)
        {
            return false;
        }

        var capacity = new ResourceAmount(member.Metadata.CpuMillicores / 1000.0, (long)member.Metadata.MemoryMegabytes << 20);
        var index = Cluster.Add(member.Id, capacity, member.Metadata.Region);
        Cluster.SetEligible(index, member.State == MemberState.Alive);
        if (member.State == MemberState.Alive)
        {
            Cluster.HistoryOf(index).SessionStarted(now);
        }

        if (_applied.TryGetValue(member.Id, out var applied))
        {
            foreach (var (_, limits) in applied)
            {
                Cluster.Place(index, limits);
            }
        }

        return true;
    }

    /// <summary>A member's state changed: its eligibility, its session history, and since when it is down.</summary>
    public void MemberChanged(in MembershipChange change, TimeSpan now)
    {
        var index = Cluster.IndexOf(change.Node);
        var alive = change.Current == MemberState.Alive && !change.Removed;
        if (index >= 0)
        {
            Cluster.SetEligible(index, alive && !(_reports.TryGetValue(change.Node, out var report) && report.Leaving));
            var history = Cluster.HistoryOf(index);
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
    }

    /// <summary>
    /// Takes a host's new report: the load it puts on the host, which apps it runs, and the starts it accounts for
    /// (the steward's pending ones it now lists).
    /// </summary>
    /// <returns>Whether the steward should reconcile soon: the report touches an app it stewards, the host is leaving,
    /// or copies went away.</returns>
    public bool ApplyReport(NodeId host, NodeReport report, Steward steward)
    {
        var index = Cluster.IndexOf(host);
        if (_applied.Remove(host, out var old))
        {
            foreach (var (replica, limits) in old)
            {
                if (index >= 0)
                {
                    Cluster.Release(index, limits);
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
            var limits = desired.TryGet(record.Replica.App, out var app) ? app.Spec.Limits : AppSpec.DefaultLimits;
            if (index >= 0)
            {
                Cluster.Place(index, limits);
            }

            applied.Add((record.Replica, limits));
            if (!_appHosts.TryGetValue(record.Replica.App, out var hosts))
            {
                _appHosts[record.Replica.App] = hosts = [];
            }

            hosts.Add(host);
            touched |= steward.Stewards(record.Replica.App);
            steward.Reported(record.Replica);
        }

        _applied[host] = applied;
        if (index >= 0)
        {
            Cluster.SetEligible(index, membership.View.IsAlive(host) && !report.Leaving);
        }

        return touched || report.Leaving || old is { Count: > 0 };
    }
}
