namespace VolunteerCloud.Simulator.Network;

/// <summary>The simulated network's initial conditions. All of them can be changed during a run through <see cref="SimulatedNetwork"/>.</summary>
public sealed class NetworkOptions
{
    /// <summary>One-way delay of every message. Default: constant 10 ms, a same-continent wide-area delay.</summary>
    public LatencyModel Latency { get; set; } = LatencyModel.Constant(TimeSpan.FromMilliseconds(10));

    /// <summary>Per-region delays; when set, it replaces <see cref="Latency"/>. Default: none.</summary>
    public RegionLatencyMatrix? RegionLatency { get; set; }

    /// <summary>Probability that a message is lost, in [0, 1]. Default: 0.</summary>
    public double LossRate { get; set; }

    /// <summary>Probability that a message is delivered twice (the copy with its own delay), in [0, 1]. Default: 0.</summary>
    public double DuplicationRate { get; set; }

    /// <summary>
    /// Probability that a message is held back by an extra delay drawn uniformly from
    /// [0, <see cref="ReorderDelayMax"/>], so that later messages overtake it, in [0, 1]. Default: 0.
    /// </summary>
    public double ReorderRate { get; set; }

    /// <summary>The longest extra delay of a reordered message, at most <see cref="LatencyModel.MaxLatency"/>. Default: 100 ms.</summary>
    public TimeSpan ReorderDelayMax { get; set; } = TimeSpan.FromMilliseconds(100);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Latency, nameof(Latency));
        SimulatedNetwork.CheckProbability(LossRate, nameof(LossRate));
        SimulatedNetwork.CheckProbability(DuplicationRate, nameof(DuplicationRate));
        SimulatedNetwork.CheckProbability(ReorderRate, nameof(ReorderRate));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReorderDelayMax, TimeSpan.Zero, nameof(ReorderDelayMax));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ReorderDelayMax, LatencyModel.MaxLatency, nameof(ReorderDelayMax));
    }
}
