using System.Globalization;
using VolunteerCloud.Containers;

namespace VolunteerCloud.ControlPlane;

/// <summary>
/// The host role: runs the copies stewards ask this node to start, through its container runtime, and tells the
/// cluster what runs here in its report (key <c>node/{id}</c> of the replicated state). Never two copies of one app
/// on one host, nothing started once leaving, nothing kept of an app the desired state removed.
/// </summary>
internal sealed class ReplicaHost(NodeId self, ReplicatedState state, DesiredState desired, ControlPlaneCounters counters)
{
    private readonly Dictionary<ReplicaId, LocalCopy> _local = [];
    private readonly Dictionary<ContainerId, ReplicaId> _byContainer = [];

    /// <summary>The owner reclaims the machine soon: no new copy starts here.</summary>
    public bool Leaving { get; private set; }

    /// <summary>The copies this node runs or starts.</summary>
    public IEnumerable<ReplicaRecord> Replicas => _local.Select(l => new ReplicaRecord(l.Key, l.Value.Running));

    /// <summary>Starts a copy a steward asked for, unless one of the app runs here already or there is no room.</summary>
    public void Start(NodeContext context, in StartReplica command)
    {
        var replica = command.Replica;
        if (_local.ContainsKey(replica) || Leaving)
        {
            return;
        }

        if (_local.Keys.Any(r => r.App == replica.App) || desired.IsRemoved(replica.App))
        {
            counters.StartsRefused++; // never two copies of one app on one host
            return;
        }

        var spec = AppSpecCodec.Decode(command.Spec.Span);
        if (!context.Containers.TryRun(spec.ToContainerSpec(replica.ToString()), out var container))
        {
            counters.StartsRefused++;
            return;
        }

        counters.ContainersStarted++;
        _local[replica] = new LocalCopy(container, false);
        _byContainer[container] = replica;

        // Not published yet: the steward tracks its pending start; the report changes when the copy runs (or fails).
    }

    /// <summary>Stops a copy, if it runs or starts here.</summary>
    public void Stop(NodeContext context, ReplicaId replica)
    {
        if (_local.TryGetValue(replica, out var copy))
        {
            context.Containers.Stop(copy.Container);
        }
    }

    /// <summary>
    /// A removed app's copies here stop as soon as this node learns of the removal, whoever stewards the app: a copy
    /// the steward never heard of (started on a host cut off by a partition, or by a start command that crossed
    /// the removal) would otherwise run on after the steward has dropped the app. The tombstone reaches every node.
    /// </summary>
    public void StopCopiesOf(NodeContext context, string app)
    {
        foreach (var (replica, copy) in _local)
        {
            if (replica.App == app)
            {
                counters.StopsRequested++;
                context.Containers.Stop(copy.Container);
            }
        }
    }

    /// <summary>A container of this host started or ended: the report says so.</summary>
    public void OnContainerEvent(NodeContext context, in ContainerEvent containerEvent)
    {
        if (!_byContainer.TryGetValue(containerEvent.Container, out var replica))
        {
            return;
        }

        if (containerEvent.Kind == ContainerEventKind.Started)
        {
            if (desired.IsRemoved(replica.App))
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

        Publish(context);
    }

    /// <summary>The owner reclaims the machine soon: the report says so, and stewards move the replicas off it.</summary>
    public void AnnounceLeaving(NodeContext context)
    {
        Leaving = true;
        Publish(context);
    }

    /// <summary>
    /// A report of this host arrived that this life did not write (a restarted host runs nothing, whatever its last
    /// life reported): publishes the truth, which is newer.
    /// </summary>
    /// <returns>Whether the report was another life's.</returns>
    public bool Correct(NodeContext context, NodeReport report)
    {
        if (report.Equals(Report()))
        {
            return false;
        }

        Publish(context);
        return true;
    }

    private NodeReport Report() =>
        new(Leaving, [.. _local.Where(l => l.Value.Running).OrderBy(l => l.Key.App, StringComparer.Ordinal).ThenBy(l => l.Key.Slot).Select(l => new ReplicaRecord(l.Key, true))]);

    private void Publish(NodeContext context) =>
        state.Write(ActualState.NodePrefix + self.Value.ToString(CultureInfo.InvariantCulture), Report().Encode(), context.TimeProvider.GetUtcNow().UtcTicks, context);

    private readonly record struct LocalCopy(ContainerId Container, bool Running);
}
