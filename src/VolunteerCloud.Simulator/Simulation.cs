using System.Diagnostics.Metrics;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Containers;
using VolunteerCloud.Simulator.Kernel;
using VolunteerCloud.Simulator.Network;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Simulator;

/// <summary>
/// A deterministic discrete-event simulation of many nodes on one thread. Nodes are ordinary
/// <see cref="INode"/> state machines; the simulation owns virtual time, the network, every node's random
/// stream, and one queue of events ordered by (time, insertion sequence). The same seed gives the same
/// run, event for event: see <see cref="TraceHash"/>.
/// </summary>
/// <remarks>Not thread-safe. Drive it from one thread: add nodes and schedule actions, then run.</remarks>
public sealed class Simulation : IDisposable
{
    private readonly EventQueue _queue = new();
    private readonly PayloadStore _payloads = new();
    private readonly HashSet<long> _cancelledTimers = [];
    private readonly TraceHasher _trace = new();
    private readonly SimulationNodeContext _context;
    private readonly SlotTable<Action> _actions = new();
    private readonly SlotTable<Action<NodeContext>> _commands = new();
    private readonly SlotTable<Action<INode, NodeContext>> _inputs = new();
    private readonly SlotTable<VirtualTimer> _providerTimers = new();
    private readonly Dictionary<int, long> _clockOffsets = [];
    private NodeSlot[] _slots;
    private int _nodeCount;
    private long _now;
    private long _currentSeq = -1;
    private int _currentNode = -1;
    private bool _running;
    private Exception? _fault;

    /// <summary>Creates a simulation.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public Simulation(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Seed = options.Seed;
        StartTime = options.StartTime;
        _slots = new NodeSlot[Math.Max(16, options.ExpectedNodes)];
        TimeProvider = new VirtualTimeProvider(this);
        Network = new SimulatedNetwork(this, options.Network, options.Seed);
        Meter = new Meter("VolunteerCloud.Simulator");
        _context = new SimulationNodeContext(this, options.LoggerFactory.CreateLogger("VolunteerCloud.Node"));
    }

    /// <summary>The run's seed.</summary>
    public ulong Seed { get; }

    /// <summary>The simulated container engines, once <see cref="EnableContainers"/> has been called; null before.</summary>
    public SimulatedContainers? Containers { get; private set; }

    /// <summary>The wall-clock instant virtual time zero stands for.</summary>
    public DateTimeOffset StartTime { get; }

    /// <summary>Virtual time elapsed since the start of the run.</summary>
    public TimeSpan Now => TimeSpan.FromTicks(_now);

    /// <summary>The clock nodes see.</summary>
    public VirtualTimeProvider TimeProvider { get; }

    /// <summary>The simulated network: delays, loss, duplication, reordering, partitions.</summary>
    public SimulatedNetwork Network { get; }

    /// <summary>What the run has done so far.</summary>
    public SimulationStatistics Statistics { get; } = new();

    /// <summary>The meter nodes create their instruments from.</summary>
    public Meter Meter { get; }

    /// <summary>How many nodes have been added (up or down).</summary>
    public int NodeCount => _nodeCount;

    /// <summary>How many events are queued.</summary>
    public int PendingEvents => _queue.Count;

    /// <summary>
    /// A hash (XxHash64) of every event acted on so far: its time, kind and node, and the timer tag or the
    /// sender and bytes of the message. Equal for runs with the same seed and inputs, in any process.
    /// </summary>
    public ulong TraceHash => _trace.Current;

    internal ushort HighestRegion { get; private set; }

    /// <summary>The node whose input is being handled and its epoch, or (-1, 0) outside node inputs.</summary>
    internal (int Node, int Epoch) CurrentNodeAndEpoch =>
        _currentNode >= 0 ? (_currentNode, _slots[_currentNode].Epoch) : (-1, 0);

    /// <summary>Adds a node; it starts (receives <see cref="INode.OnStart"/>) at the current virtual time.</summary>
    /// <param name="node">The node's state machine.</param>
    /// <param name="region">The node's network region (see <see cref="NetworkOptions.RegionLatency"/>).</param>
    /// <returns>The new node's id: the number of nodes added before it.</returns>
    public NodeId AddNode(INode node, ushort region = 0)
    {
        ArgumentNullException.ThrowIfNull(node);
        var index = _nodeCount;
        Network.OnNodeAdded(index, region);
        if (index == _slots.Length)
        {
            Array.Resize(ref _slots, _slots.Length * 2);
        }

        _slots[index] = new NodeSlot
        {
            Node = node,
            RandomState = SplitMix64.StreamSeed(Seed, (ulong)index),
            Region = region,
        };
        _nodeCount++;
        HighestRegion = Math.Max(HighestRegion, region);
        _queue.Push(_now, 0, index, SimEvent.MakeMeta(EventKind.Start, 0));
        return new NodeId(index);
    }

    /// <summary>
    /// Gives every host a simulated container engine (see <see cref="SimulatedContainers"/>); nodes reach it
    /// through <see cref="NodeContext.Containers"/>. Call once, before the run.
    /// </summary>
    /// <exception cref="InvalidOperationException">Containers are already enabled.</exception>
    public SimulatedContainers EnableContainers(ContainerSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Containers is not null)
        {
            throw new InvalidOperationException("Containers are already enabled for this simulation.");
        }

        return Containers = new SimulatedContainers(this, options);
    }

    /// <summary>Whether a node is up.</summary>
    public bool IsUp(NodeId node)
    {
        CheckNode(node, nameof(node));
        return _slots[node.Value].Node is not null;
    }

    /// <summary>The state machine of a node that is up; <see langword="null"/> when it is down.</summary>
    public INode? GetNode(NodeId node)
    {
        CheckNode(node, nameof(node));
        return _slots[node.Value].Node;
    }

    /// <summary>
    /// Crashes a node: it stops at once, without a word to anyone. Its pending timers never fire; messages
    /// that reach it while it is down are dropped; messages it already sent still arrive.
    /// </summary>
    /// <exception cref="InvalidOperationException">The node is already down.</exception>
    public void Crash(NodeId node)
    {
        CheckNode(node, nameof(node));
        ref var slot = ref _slots[node.Value];
        if (slot.Node is null)
        {
            throw new InvalidOperationException($"Node {node} is already down.");
        }

        slot.Node = null;
        slot.Epoch++;
        Containers?.OnHostDown(node.Value);
    }

    /// <summary>
    /// Restarts a crashed node with a new state machine (a crash loses all state; pass the old one to model a
    /// node that kept its state on disk). It starts at the current virtual time; its random stream goes on
    /// where it stopped.
    /// </summary>
    /// <exception cref="InvalidOperationException">The node is up.</exception>
    public void Restart(NodeId node, INode replacement)
    {
        CheckNode(node, nameof(node));
        ArgumentNullException.ThrowIfNull(replacement);
        ref var slot = ref _slots[node.Value];
        if (slot.Node is not null)
        {
            throw new InvalidOperationException($"Node {node} is up; crash it before restarting it.");
        }

        slot.Node = replacement;
        _queue.Push(_now, 0, node.Value, SimEvent.MakeMeta(EventKind.Start, slot.Epoch));
    }

    /// <summary>
    /// Sets a node's wall clock wrong: its <see cref="TimeProvider.GetUtcNow"/> reads the true time plus
    /// <paramref name="offset"/> (negative: behind), as a volunteer machine without NTP, or one whose clock an NTP step
    /// moves while it runs. Timers and elapsed time (<see cref="TimeProvider.GetTimestamp"/>) are not affected: they
    /// come from a monotonic clock. The offset survives crashes and restarts (it belongs to the machine).
    /// <see cref="TimeSpan.Zero"/> sets the clock right again.
    /// </summary>
    public void SetClockOffset(NodeId node, TimeSpan offset)
    {
        CheckNode(node, nameof(node));
        if (offset == TimeSpan.Zero)
        {
            _clockOffsets.Remove(node.Value);
        }
        else
        {
            _clockOffsets[node.Value] = offset.Ticks;
        }
    }

    /// <summary>A node's wall-clock offset (<see cref="SetClockOffset"/>); zero unless set.</summary>
    public TimeSpan ClockOffsetOf(NodeId node)
    {
        CheckNode(node, nameof(node));
        return TimeSpan.FromTicks(_clockOffsets.GetValueOrDefault(node.Value));
    }

    internal bool HasClockOffsets => _clockOffsets.Count > 0;

    internal long ClockOffsetTicks(int node) => _clockOffsets.GetValueOrDefault(node);

    /// <summary>Runs <paramref name="action"/> in the simulation loop after <paramref name="delay"/> of virtual time.</summary>
    public void Schedule(TimeSpan delay, Action action)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        ScheduleAt(Now + delay, action);
    }

    /// <summary>Runs <paramref name="action"/> in the simulation loop at virtual time <paramref name="time"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="time"/> is in the past.</exception>
    public void ScheduleAt(TimeSpan time, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (time.Ticks < _now)
        {
            throw new ArgumentOutOfRangeException(nameof(time), time, $"Cannot schedule before the current virtual time {Now}.");
        }

        _queue.Push(time.Ticks, _actions.Add(action), -1, (int)EventKind.Action);
    }

    /// <summary>
    /// Hands <paramref name="command"/> to a node as an input of its own after <paramref name="delay"/>: it runs
    /// with the node's context, like an API call reaching a real host. Dropped if the node is down by then.
    /// </summary>
    public void ScheduleOnNode(TimeSpan delay, NodeId node, Action<NodeContext> command)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        CheckNode(node, nameof(node));
        ArgumentNullException.ThrowIfNull(command);
        _queue.Push(DueTime(delay.Ticks), _commands.Add(command), node.Value, (int)EventKind.NodeCommand);
    }

    /// <summary>Processes every event due at or before <paramref name="time"/>, then sets the clock to it.</summary>
    /// <exception cref="SimulationException">A node or action threw; the message says the seed, time and event.</exception>
    public void RunUntil(TimeSpan time)
    {
        if (time.Ticks < _now)
        {
            throw new ArgumentOutOfRangeException(nameof(time), time, $"Cannot run back to before the current virtual time {Now}.");
        }

        EnterRun();
        var next = default(SimEvent);
        try
        {
            while (_queue.TryPopUntil(time.Ticks, out next))
            {
                PrefetchAhead();
                Dispatch(in next);
            }
        }
        catch (Exception e)
        {
            throw Fault(e, in next);
        }
        finally
        {
            _running = false;
            _currentNode = -1;
        }

        _now = time.Ticks;
    }

    /// <summary>Runs for <paramref name="duration"/> of virtual time.</summary>
    public void RunFor(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        RunUntil(Now + duration);
    }

    /// <summary>Processes the next event, if any.</summary>
    /// <returns><see langword="false"/> when no event is queued.</returns>
    public bool Step()
    {
        EnterRun();
        var next = default(SimEvent);
        try
        {
            if (!_queue.TryPop(out next))
            {
                return false;
            }

            PrefetchAhead();
            Dispatch(in next);
            return true;
        }
        catch (Exception e)
        {
            throw Fault(e, in next);
        }
        finally
        {
            _running = false;
            _currentNode = -1;
        }
    }

    /// <inheritdoc />
    public void Dispose() => Meter.Dispose();

    internal void CheckNode(NodeId node, string parameterName)
    {
        if ((uint)node.Value >= (uint)_nodeCount)
        {
            throw new ArgumentException($"Node {node} does not exist: the simulation has {_nodeCount} nodes.", parameterName);
        }
    }

    internal ref ulong RandomStateOf(int node) => ref _slots[node].RandomState;

    internal ushort RegionOf(int node) => _slots[node].Region;

    internal void SendMessage(int from, NodeId to, MessageType type, ReadOnlySpan<byte> datagram)
    {
        var statistics = Statistics;
        statistics.CountSent(type, datagram.Length);
        if ((uint)to.Value >= (uint)_nodeCount)
        {
            // An id no node has (read from a corrupt or hostile message, say): a real network has nowhere to deliver it.
            statistics.MessagesToUnknownNodes++;
            return;
        }

        if (!Network.Route(from, to.Value, statistics, out var delay, out var duplicateDelay))
        {
            return;
        }

        EnqueueMessage(from, to.Value, delay, datagram);
        if (duplicateDelay >= 0)
        {
            EnqueueMessage(from, to.Value, duplicateDelay, datagram);
        }
    }

    /// <summary>Queues an input for the current incarnation of <paramref name="node"/>; dropped if it crashes before then.</summary>
    internal void ScheduleNodeInput(long dueTicks, int node, Action<INode, NodeContext> input)
    {
        if (dueTicks < _now)
        {
            throw new ArgumentOutOfRangeException(nameof(dueTicks), dueTicks, "A node input cannot be scheduled in the past.");
        }

        _queue.Push(dueTicks, _inputs.Add(input), node, SimEvent.MakeMeta(EventKind.NodeInput, _slots[node].Epoch));
    }

    internal TimerId SetNodeTimer(int node, TimeSpan delay, TimerTag tag)
    {
        if (delay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, "A timer's delay must be zero or more.");
        }

        var due = DueTime(delay.Ticks);
        var seq = _queue.Push(due, tag.ToInt64(), node, SimEvent.MakeMeta(EventKind.Timer, _slots[node].Epoch));
        return new TimerId(seq, due);
    }

    internal bool CancelNodeTimer(TimerId timer)
    {
        // Events leave the queue in (time, sequence) order, so a timer is still pending exactly when it sorts
        // after the event being processed.
        var pending = timer.DueTicks > _now || (timer.DueTicks == _now && timer.Sequence > _currentSeq);
        if (!pending || timer.Sequence >= _queue.NextSequence || !_cancelledTimers.Add(timer.Sequence))
        {
            return false;
        }

        Statistics.TimersCancelled++;
        return true;
    }

    internal int RegisterProviderTimer(VirtualTimer timer) => _providerTimers.Add(timer);

    internal void ReleaseProviderTimer(int slot) => _providerTimers.Remove(slot);

    internal long ScheduleProviderTimer(int slot, long delayTicks) =>
        _queue.Push(DueTime(delayTicks), slot, -1, (int)EventKind.ProviderTimer);

    private long DueTime(long delayTicks)
    {
        var due = _now + delayTicks;
        return due >= _now
            ? due
            : throw new ArgumentOutOfRangeException(nameof(delayTicks), delayTicks, "The delay reaches beyond the end of time.");
    }

    private void EnqueueMessage(int from, int to, long delay, ReadOnlySpan<byte> datagram)
    {
        var time = DueTime(delay);
        var payload = _payloads.Store(datagram);
        if (_queue.IsDueSoon(time))
        {
            Prefetch.Line(ref _slots[to]);
        }

        _queue.Push(time, ((long)payload << 32) | (uint)from, to, (int)EventKind.Message);
    }

    /// <summary>
    /// Starts loading what the next events will touch: the slots of a freshly loaded window of events, and the
    /// state machine of the very next event's node. Pure hints: the run is the same without them, only slower.
    /// </summary>
    private void PrefetchAhead()
    {
        if (_queue.TakeWindowRefilled())
        {
            foreach (ref readonly var pending in _queue.Window)
            {
                if (pending.Target >= 0)
                {
                    Prefetch.Line(ref _slots[pending.Target]);
                }
            }
        }

        if (_queue.TryPeekNextTarget(out var target) && target >= 0)
        {
            Prefetch.Object(_slots[target].Node);
        }
    }

    private void Dispatch(in SimEvent next)
    {
        _now = next.Time;
        _currentSeq = next.Seq;
        switch (next.Kind)
        {
            case EventKind.Message:
                DeliverMessage(in next);
                break;
            case EventKind.Timer:
                FireTimer(in next);
                break;
            case EventKind.Start:
                StartNode(in next);
                break;
            case EventKind.Action:
                _currentNode = -1;
                Statistics.EventsProcessed++;
                _trace.Add(next.Time, EventKind.Action, -1, 0);
                _actions.Take((int)next.Data)();
                break;
            case EventKind.ProviderTimer:
                if (_providerTimers.TryGet((int)next.Data, out var timer) && timer.IsScheduledAs(next.Seq))
                {
                    FireProviderTimer(timer, in next);
                }

                break;
            case EventKind.NodeCommand:
                var command = _commands.Take((int)next.Data);
                if (_slots[next.Target].Node is not null)
                {
                    Statistics.EventsProcessed++;
                    _trace.Add(next.Time, EventKind.NodeCommand, next.Target, 0);
                    EnterNode(next.Target);
                    command(_context);
                }

                break;
            case EventKind.NodeInput:
                var input = _inputs.Take((int)next.Data);
                var target = _slots[next.Target].Node;
                if (target is not null && (_slots[next.Target].Epoch & SimEvent.EpochMask) == next.Epoch)
                {
                    Statistics.EventsProcessed++;
                    _trace.Add(next.Time, EventKind.NodeInput, next.Target, 0);
                    EnterNode(next.Target);
                    input(target, _context);
                }

                break;
            default:
                throw new InvalidOperationException($"Unknown event kind {next.Kind}.");
        }
    }

    private void EnterNode(int node)
    {
        _currentNode = node;
        _context.Enter(node);
    }

    private void DeliverMessage(in SimEvent next)
    {
        var from = (int)(uint)next.Data;
        var payload = (int)(next.Data >> 32);
        var node = _slots[next.Target].Node;
        if (node is null)
        {
            Statistics.MessagesToDownNodes++;
            _payloads.Release(payload);
            return;
        }

        var bytes = _payloads.Get(payload);
        var statistics = Statistics;
        statistics.EventsProcessed++;
        statistics.MessagesDelivered++;
        statistics.BytesDelivered += bytes.Length;
        _trace.AddMessage(next.Time, next.Target, from, bytes);
        var message = WireFormat.Decode(bytes);
        EnterNode(next.Target);
        node.OnMessage(_context, new NodeId(from), message);
        _payloads.Release(payload);
    }

    private void FireTimer(in SimEvent next)
    {
        if (_cancelledTimers.Count != 0 && _cancelledTimers.Remove(next.Seq))
        {
            return;
        }

        var node = _slots[next.Target].Node;
        if (node is null || (_slots[next.Target].Epoch & SimEvent.EpochMask) != next.Epoch)
        {
            return; // set before the node crashed
        }

        Statistics.EventsProcessed++;
        Statistics.TimersFired++;
        _trace.Add(next.Time, EventKind.Timer, next.Target, next.Data);
        EnterNode(next.Target);
        node.OnTimer(_context, TimerTag.FromInt64(next.Data));
    }

    private void FireProviderTimer(VirtualTimer timer, in SimEvent next)
    {
        if (timer.Owner >= 0)
        {
            ref readonly var slot = ref _slots[timer.Owner];
            if (slot.Node is null || slot.Epoch != timer.OwnerEpoch)
            {
                return; // its node crashed since it was created
            }

            EnterNode(timer.Owner);
        }
        else
        {
            _currentNode = -1;
        }

        Statistics.EventsProcessed++;
        _trace.Add(next.Time, EventKind.ProviderTimer, timer.Owner, 0);
        timer.Fire();
    }

    private void StartNode(in SimEvent next)
    {
        var node = _slots[next.Target].Node;
        if (node is null || (_slots[next.Target].Epoch & SimEvent.EpochMask) != next.Epoch)
        {
            return; // crashed again before it could start
        }

        Statistics.EventsProcessed++;
        _trace.Add(next.Time, EventKind.Start, next.Target, 0);
        EnterNode(next.Target);
        node.OnStart(_context);
    }

    private void EnterRun()
    {
        if (_running)
        {
            throw new InvalidOperationException("The simulation is already running: an action or node cannot run it from inside.");
        }

        ThrowIfFaulted();
        _running = true;
    }

    private void ThrowIfFaulted()
    {
        if (_fault is not null)
        {
            throw new InvalidOperationException(
                $"The simulation (seed {Seed}) failed earlier at virtual time {Now} and cannot go on.", _fault);
        }
    }

    private SimulationException Fault(Exception error, in SimEvent failing)
    {
        _fault = error;
        var where = failing.Target >= 0 ? $" for node n{failing.Target}" : string.Empty;
        return new SimulationException(
            $"Simulation with seed {Seed} failed at virtual time {Now} handling a {failing.Kind} event{where}: {error.Message} " +
            $"Replay it with seed {Seed}.",
            error)
        {
            Seed = Seed,
            Time = Now,
        };
    }

    /// <summary>Per-node state the kernel keeps: 24 bytes.</summary>
    private struct NodeSlot
    {
        public INode? Node;
        public ulong RandomState;
        public int Epoch;
        public ushort Region;
    }
}
