using System.Globalization;
using VolunteerCloud.Randomness;

namespace VolunteerCloud.Simulator.Network;

/// <summary>
/// The network between simulated nodes: delays, loss, duplication, reordering and partitions. Every random
/// choice is drawn from the run's "network" stream, so a run with the same seed makes the same choices.
/// </summary>
public sealed class SimulatedNetwork
{
    private readonly Simulation _simulation;
    private readonly SplittableRandom _random;
    private LatencyModel _latency;
    private RegionLatencyMatrix? _regionLatency;
    private double _lossRate;
    private double _duplicationRate;
    private double _reorderRate;
    private long _reorderDelayMaxTicks;
    private ushort[] _side = new ushort[16];
    private readonly Dictionary<int, long> _extraDelay = [];
    private bool _partitioned;

    internal SimulatedNetwork(Simulation simulation, NetworkOptions options, ulong seed)
    {
        options.Validate();
        _simulation = simulation;
        _random = SplittableRandom.ForStream(seed, "network");
        _latency = options.Latency;
        _regionLatency = options.RegionLatency;
        _lossRate = options.LossRate;
        _duplicationRate = options.DuplicationRate;
        _reorderRate = options.ReorderRate;
        _reorderDelayMaxTicks = options.ReorderDelayMax.Ticks;
    }

    /// <summary>One-way delay of every message (unless <see cref="RegionLatency"/> is set).</summary>
    public LatencyModel Latency
    {
        get => _latency;
        set => _latency = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Per-region delays; when set, it replaces <see cref="Latency"/>.</summary>
    public RegionLatencyMatrix? RegionLatency
    {
        get => _regionLatency;
        set
        {
            if (value is not null && _simulation.HighestRegion >= value.RegionCount)
            {
                throw new ArgumentException(
                    $"Nodes live in regions up to {_simulation.HighestRegion}, but the matrix covers only {value.RegionCount}.", nameof(value));
            }

            _regionLatency = value;
        }
    }

    /// <summary>Probability that a message is lost, in [0, 1].</summary>
    public double LossRate
    {
        get => _lossRate;
        set => _lossRate = CheckProbability(value, nameof(LossRate));
    }

    /// <summary>Probability that a message is delivered twice, in [0, 1].</summary>
    public double DuplicationRate
    {
        get => _duplicationRate;
        set => _duplicationRate = CheckProbability(value, nameof(DuplicationRate));
    }

    /// <summary>Probability that a message is held back so later ones overtake it, in [0, 1].</summary>
    public double ReorderRate
    {
        get => _reorderRate;
        set => _reorderRate = CheckProbability(value, nameof(ReorderRate));
    }

    /// <summary>The longest extra delay of a reordered message.</summary>
    public TimeSpan ReorderDelayMax
    {
        get => TimeSpan.FromTicks(_reorderDelayMaxTicks);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, LatencyModel.MaxLatency);
            _reorderDelayMaxTicks = value.Ticks;
        }
    }

    /// <summary>
    /// Makes a node slow: every message delivered to it waits <paramref name="extraDelay"/> more, as in a node
    /// whose CPU is exhausted and whose inbound queue backs up (the slow members of the Lifeguard paper).
    /// <see cref="TimeSpan.Zero"/> makes it normal again.
    /// </summary>
    public void SlowDown(NodeId node, TimeSpan extraDelay)
    {
        _simulation.CheckNode(node, nameof(node));
        ArgumentOutOfRangeException.ThrowIfLessThan(extraDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(extraDelay, LatencyModel.MaxLatency);
        if (extraDelay == TimeSpan.Zero)
        {
            _extraDelay.Remove(node.Value);
        }
        else
        {
            _extraDelay[node.Value] = extraDelay.Ticks;
        }
    }

    /// <summary>Whether a partition is in force.</summary>
    public bool IsPartitioned => _partitioned;

    /// <summary>
    /// Splits the network: each given set of nodes becomes a side, and every node not named forms one more
    /// side. Messages sent between different sides are dropped; messages already in flight still arrive.
    /// Replaces any earlier partition.
    /// </summary>
    /// <exception cref="ArgumentException">A node is unknown or named in two sides.</exception>
    public void Partition(params IReadOnlyCollection<NodeId>[] sides)
    {
        ArgumentNullException.ThrowIfNull(sides);
        if (sides.Length >= ushort.MaxValue)
        {
            throw new ArgumentException($"At most {ushort.MaxValue - 1} sides are supported.", nameof(sides));
        }

        var assignment = new ushort[_side.Length];
        for (var i = 0; i < sides.Length; i++)
        {
            foreach (var node in sides[i])
            {
                _simulation.CheckNode(node, nameof(sides));
                if (assignment[node.Value] != 0)
                {
                    throw new ArgumentException($"Node {node} is named in two sides of the partition.", nameof(sides));
                }

                assignment[node.Value] = (ushort)(i + 1);
            }
        }

        _side = assignment;
        _partitioned = true;
    }

    /// <summary>Ends any partition: every node can reach every other again.</summary>
    public void Heal()
    {
        Array.Clear(_side);
        _partitioned = false;
    }

    /// <summary>Whether a message sent now from <paramref name="from"/> to <paramref name="to"/> crosses no partition.</summary>
    public bool CanReach(NodeId from, NodeId to)
    {
        _simulation.CheckNode(from, nameof(from));
        _simulation.CheckNode(to, nameof(to));
        return !_partitioned || _side[from.Value] == _side[to.Value];
    }

    internal static double CheckProbability(double value, string name) =>
        value is >= 0.0 and <= 1.0
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} is a probability and must lie in [0, 1]; got {value.ToString(CultureInfo.InvariantCulture)}.");

    internal void OnNodeAdded(int index, ushort region)
    {
        if (index == _side.Length)
        {
            Array.Resize(ref _side, _side.Length * 2);
        }

        if (_regionLatency is not null && region >= _regionLatency.RegionCount)
        {
            throw new ArgumentOutOfRangeException(
                nameof(region), region, $"The region latency matrix covers regions 0 to {_regionLatency.RegionCount - 1}.");
        }
    }

    /// <summary>Decides the fate of one message. Returns false when it is dropped.</summary>
    internal bool Route(int from, int to, SimulationStatistics statistics, out long delay, out long duplicateDelay)
    {
        duplicateDelay = -1;
        if (_partitioned && _side[from] != _side[to])
        {
            statistics.MessagesBlocked++;
            delay = 0;
            return false;
        }

        if (_lossRate > 0 && _random.NextDouble() < _lossRate)
        {
            statistics.MessagesLost++;
            delay = 0;
            return false;
        }

        delay = SampleDelay(from, to);
        if (_duplicationRate > 0 && _random.NextDouble() < _duplicationRate)
        {
            statistics.MessagesDuplicated++;
            duplicateDelay = SampleDelay(from, to);
        }

        return true;
    }

    private long SampleDelay(int from, int to)
    {
        // Regions are looked up only when they matter: reading the receiver's slot here would cost a cache miss per message.
        var model = _regionLatency is null ? _latency : _regionLatency[_simulation.RegionOf(from), _simulation.RegionOf(to)];
        var delay = model.SampleTicks(_random);
        if (_reorderRate > 0 && _random.NextDouble() < _reorderRate)
        {
            delay += _random.NextInt64(_reorderDelayMaxTicks + 1);
        }

        if (_extraDelay.Count > 0 && _extraDelay.TryGetValue(to, out var extra))
        {
            delay += extra;
        }

        return delay;
    }
}
