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
public sealed partial class Simulation : IDisposable
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
}
