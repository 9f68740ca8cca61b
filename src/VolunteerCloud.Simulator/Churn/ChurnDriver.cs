using VolunteerCloud.Randomness;

namespace VolunteerCloud.Simulator.Churn;

/// <summary>
/// Makes simulated hosts come and go: each attached node is crashed when its churn timeline says it leaves
/// and restarted (with a fresh state machine) when it comes back. Owner-reclaim notices, when the model gives
/// them, are announced before the departure. Every host draws from its own stream of the run's "churn" seed.
/// Hosts can also replay a recorded timeline (<see cref="AttachTimeline"/>).
/// </summary>
public sealed class ChurnDriver
{
    private readonly Simulation _simulation;
    private readonly IChurnModel? _model;
    private readonly Func<NodeId, INode> _createNode;
    private readonly TimeSpan? _warmUp;
    private readonly ulong _seed;
    private int _hostsUp;

    /// <summary>Creates a driver.</summary>
    /// <param name="simulation">The simulation whose nodes churn.</param>
    /// <param name="model">When hosts come and go; null when every host replays a timeline (<see cref="AttachTimeline"/>).</param>
    /// <param name="createNode">A fresh state machine for a host that comes back (a crash loses all state).</param>
    /// <param name="warmUp">Null (the default): hosts start in their stationary state. Otherwise how long each host's process runs, starting up, before it is attached (zero: every host starts a fresh up interval).</param>
    public ChurnDriver(Simulation simulation, IChurnModel? model, Func<NodeId, INode> createNode, TimeSpan? warmUp = null)
    {
        ArgumentNullException.ThrowIfNull(simulation);
        ArgumentNullException.ThrowIfNull(createNode);
        _simulation = simulation;
        _model = model;
        _createNode = createNode;
        _warmUp = warmUp;
        _seed = SplitMix64.Mix64(simulation.Seed ^ SplitMix64.StreamIndexFor("churn"));
    }

    /// <summary>A host announced that it will leave in the given time (its owner reclaims the machine).</summary>
    public event Action<NodeId, TimeSpan>? ReclaimNoticed;

    /// <summary>A host went down (false) or came back up (true).</summary>
    public event Action<NodeId, bool>? HostChanged;

    /// <summary>How many attached hosts are up, by the driver's count (nodes crashed or restarted by anything else are not tracked).</summary>
    public int HostsUp => _hostsUp;

    /// <summary>
    /// Puts a node (up, just added) under churn, starting now: if its timeline says it is down at this moment it
    /// is crashed at once. Its stream is node's index of the run's "churn" seed, so attaching order does not matter.
    /// </summary>
    public void Attach(NodeId node)
    {
        if (_model is null)
        {
            throw new InvalidOperationException("This driver has no churn model; attach hosts with AttachTimeline.");
        }

        var random = SplittableRandom.ForStream(_seed, (ulong)node.Value);
        var host = _model.CreateHost(random);
        var timeline = ChurnTimeline.Generate(host, random, _warmUp).GetEnumerator();
        timeline.MoveNext();
        var offset = _simulation.Now;
        _hostsUp++;

        // Notices draw from a stream of their own, so enabling them does not change the timelines.
        var notices = host.GivesNotices ? SplittableRandom.ForStream(SplitMix64.Mix64(_seed ^ SplitMix64.StreamIndexFor("reclaim")), (ulong)node.Value) : null;
        Apply(node, host, notices, timeline, offset);
    }

    /// <summary>
    /// Puts a node (up, just added) under a given timeline instead of the model, starting now: trace replay
    /// (<see cref="Traces.AvailabilityTrace.TimelineOf"/>). Intervals are hours from now, in order, the first
    /// starting at zero. No reclaim notices are given.
    /// </summary>
    public void AttachTimeline(NodeId node, IEnumerable<AvailabilityInterval> timeline)
    {
        ArgumentNullException.ThrowIfNull(timeline);
        var enumerator = timeline.GetEnumerator();
        if (!enumerator.MoveNext())
        {
            return;
        }

        _hostsUp++;
        Apply(node, null, null, enumerator, _simulation.Now);
    }

    private void Apply(NodeId node, HostChurn? host, RandomSource? notices, IEnumerator<AvailabilityInterval> timeline, TimeSpan offset)
    {
        var interval = timeline.Current;
        var up = _simulation.IsUp(node);
        if (interval.Up != up)
        {
            if (interval.Up)
            {
                _simulation.Restart(node, _createNode(node));
                _hostsUp++;
            }
            else
            {
                _simulation.Crash(node);
                _hostsUp--;
            }

            HostChanged?.Invoke(node, interval.Up);
        }

        if (double.IsPositiveInfinity(interval.EndHours) || !timeline.MoveNext())
        {
            return; // gone for good
        }

        var next = offset + DurationDistribution.Hours(interval.EndHours);
        if (interval.Up && notices is not null && host is { } churn && churn.NextReclaimNotice(notices) is { } lead)
        {
            var noticeAt = next - lead < _simulation.Now ? _simulation.Now : next - lead;
            _simulation.ScheduleAt(noticeAt, () => ReclaimNoticed?.Invoke(node, next - _simulation.Now));
        }

        _simulation.ScheduleAt(next, () => Apply(node, host, notices, timeline, offset));
    }
}
