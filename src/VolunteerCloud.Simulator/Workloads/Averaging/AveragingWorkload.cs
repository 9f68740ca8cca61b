using System.Globalization;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Network;

namespace VolunteerCloud.Simulator.Workloads.Averaging;

/// <summary>The parameters of the averaging workload, with PeerSim's example values as defaults.</summary>
public sealed class AveragingOptions
{
    /// <summary>Number of nodes. Default: 1000.</summary>
    public int Nodes { get; set; } = 1000;

    /// <summary>Number of cycles to run. Default: 100.</summary>
    public int Cycles { get; set; } = 100;

    /// <summary>Out-links per node (WireKOut's k). Default: 20.</summary>
    public int Degree { get; set; } = 20;

    /// <summary>Length of one cycle in virtual time. Default: 1 s.</summary>
    public TimeSpan CycleLength { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Smallest message delay, in percent of a cycle. Default: 0.</summary>
    public double MinDelayPercent { get; set; }

    /// <summary>Largest message delay, in percent of a cycle. Default: 0.</summary>
    public double MaxDelayPercent { get; set; }

    /// <summary>Probability that a message is dropped. Default: 0.</summary>
    public double DropRate { get; set; }

    /// <summary>The run's seed. Default: 1.</summary>
    public ulong Seed { get; set; } = 1;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Nodes, nameof(Nodes));
        ArgumentOutOfRangeException.ThrowIfNegative(Cycles, nameof(Cycles));
        ArgumentOutOfRangeException.ThrowIfNegative(Degree, nameof(Degree));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(CycleLength, TimeSpan.Zero, nameof(CycleLength));
        if (!(MinDelayPercent >= 0 && MaxDelayPercent >= MinDelayPercent && double.IsFinite(MaxDelayPercent)))
        {
            throw new ArgumentOutOfRangeException(
                nameof(MaxDelayPercent),
                $"Delays must satisfy 0 <= min <= max; got min {MinDelayPercent.ToString(CultureInfo.InvariantCulture)}, max {MaxDelayPercent.ToString(CultureInfo.InvariantCulture)}.");
        }

        SimulatedNetwork.CheckProbability(DropRate, nameof(DropRate));
    }
}

/// <summary>Mean and spread of the node values at the end of a cycle (PeerSim's SingleValueObserver).</summary>
/// <param name="Cycle">Cycles completed.</param>
/// <param name="Mean">Mean of the values.</param>
/// <param name="Variance">Variance of the values.</param>
/// <param name="Min">Smallest value.</param>
/// <param name="Max">Largest value.</param>
public readonly record struct CycleStatistics(int Cycle, double Mean, double Variance, double Min, double Max);

/// <summary>
/// PeerSim's event-driven aggregation benchmark on this simulator: N nodes on a random k-out graph, values
/// 1 to N, push-pull averaging once per cycle. Built from ordinary nodes, messages and timers only.
/// </summary>
public sealed class AveragingWorkload : IDisposable
{
    private readonly AveragingOptions _options;

    /// <summary>Sets up the simulation: the graph, the nodes with values linear from 1 to N, the network.</summary>
    public AveragingWorkload(AveragingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        CycleLength = options.CycleLength;
        var latency = LatencyModel.Uniform(
            TimeSpan.FromTicks((long)(options.CycleLength.Ticks * options.MinDelayPercent / 100)),
            TimeSpan.FromTicks((long)(options.CycleLength.Ticks * options.MaxDelayPercent / 100)));
        Simulation = new Simulation(new SimulationOptions
        {
            Seed = options.Seed,
            ExpectedNodes = options.Nodes,
            Network = new NetworkOptions { Latency = latency, LossRate = options.DropRate },
        });
        Graph = KOutGraph.Create(options.Nodes, options.Degree, SplittableRandom.ForStream(options.Seed, "averaging.topology"));
        for (var i = 0; i < options.Nodes; i++)
        {
            // PeerSim's LinearDistribution from 1 to N: node i starts with i + 1.
            Simulation.AddNode(new AveragingNode(this, i + 1.0));
        }
    }

    /// <summary>The simulation the workload runs in.</summary>
    public Simulation Simulation { get; }

    /// <summary>Who talks to whom.</summary>
    public KOutGraph Graph { get; }

    /// <summary>Length of one cycle.</summary>
    public TimeSpan CycleLength { get; }

    /// <summary>Runs one more cycle and reports the values at its end.</summary>
    public CycleStatistics RunCycle()
    {
        var cycle = (int)(Simulation.Now.Ticks / CycleLength.Ticks) + 1;
        Simulation.RunUntil(CycleLength * cycle);
        return Observe(cycle);
    }

    /// <summary>Runs every configured cycle, reporting the start and each cycle's end.</summary>
    public IEnumerable<CycleStatistics> RunAll()
    {
        yield return Observe(0);
        for (var c = 0; c < _options.Cycles; c++)
        {
            yield return RunCycle();
        }
    }

    /// <summary>
    /// Mean, variance and range of the values of the nodes that are up. Two passes with compensated
    /// (Neumaier) sums, so that the observer's own rounding does not hide whether the mean is conserved.
    /// </summary>
    public CycleStatistics Observe(int cycle)
    {
        var sum = default(CompensatedSum);
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        var n = 0;
        for (var i = 0; i < Simulation.NodeCount; i++)
        {
            if (Simulation.GetNode(new NodeId(i)) is AveragingNode node)
            {
                n++;
                sum.Add(node.Value);
                min = Math.Min(min, node.Value);
                max = Math.Max(max, node.Value);
            }
        }

        var mean = n > 0 ? sum.Value / n : 0;
        var squares = default(CompensatedSum);
        for (var i = 0; i < Simulation.NodeCount; i++)
        {
            if (Simulation.GetNode(new NodeId(i)) is AveragingNode node)
            {
                squares.Add((node.Value - mean) * (node.Value - mean));
            }
        }

        return new CycleStatistics(cycle, mean, n > 0 ? squares.Value / n : 0, min, max);
    }

    private struct CompensatedSum
    {
        private double _sum;
        private double _compensation;

        public readonly double Value => _sum + _compensation;

        public void Add(double value)
        {
            var total = _sum + value;
            _compensation += Math.Abs(_sum) >= Math.Abs(value) ? (_sum - total) + value : (value - total) + _sum;
            _sum = total;
        }
    }

    /// <inheritdoc />
    public void Dispose() => Simulation.Dispose();
}
