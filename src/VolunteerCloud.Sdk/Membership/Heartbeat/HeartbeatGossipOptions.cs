using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership.Heartbeat;

/// <summary>Settings of heartbeat-gossip membership (van Renesse, Minsky, Hayden 1998; phi accrual after Hayashibara et al. 2004).</summary>
public sealed class HeartbeatGossipOptions : ISelfValidatingOptions
{
    /// <summary>Time between gossip rounds; each round increments this node's heartbeat. Default: 1 s.</summary>
    public TimeSpan GossipInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Random members sent the heartbeat table each round. Default: 3.</summary>
    public int GossipNodes { get; set; } = 3;

    /// <summary>A member whose heartbeat has not grown for this long is declared dead (when phi accrual is off). Default: 10 s.</summary>
    public TimeSpan FailTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long dead and departed members are remembered (and gossiped) before they are forgotten. Default: 30 s.</summary>
    public TimeSpan ForgetAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Decide failure by phi accrual on the intervals between heartbeat increases instead of a fixed timeout. Default: off.</summary>
    public bool PhiAccrual { get; set; }

    /// <summary>Phi at which a member is declared dead (Akka's default). Default: 8.0.</summary>
    public double PhiThreshold { get; set; } = 8.0;

    /// <summary>The smallest standard deviation assumed for heartbeat intervals (Akka's default). Default: 100 ms.</summary>
    public TimeSpan PhiMinStandardDeviation { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A pause added to the expected interval before phi grows (Akka's acceptable-heartbeat-pause). Default: 3 s.</summary>
    public TimeSpan PhiAcceptablePause { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The datagram size a heartbeat table is cut to; larger tables are sent in rotating slices. Default: 1400 bytes.</summary>
    public int UdpBufferSize { get; set; } = 1400;

    /// <inheritdoc />
    public IEnumerable<string> Validate() =>
        OptionsGuard.Positive(GossipInterval, nameof(GossipInterval))
            .Concat(OptionsGuard.AtLeast(GossipNodes, 1, nameof(GossipNodes)))
            .Concat(OptionsGuard.Positive(FailTimeout, nameof(FailTimeout)))
            .Concat(OptionsGuard.Positive(ForgetAfter, nameof(ForgetAfter)))
            .Concat(PhiThreshold > 0 && double.IsFinite(PhiThreshold) ? [] : [$"{nameof(PhiThreshold)} must be a positive number (got {PhiThreshold})."])
            .Concat(OptionsGuard.Positive(PhiMinStandardDeviation, nameof(PhiMinStandardDeviation)))
            .Concat(PhiAcceptablePause >= TimeSpan.Zero ? [] : [$"{nameof(PhiAcceptablePause)} must not be negative."])
            .Concat(UdpBufferSize is >= 128 and <= WireFormat.MaxDatagramBytes ? [] : [$"{nameof(UdpBufferSize)} must lie in 128..{WireFormat.MaxDatagramBytes} (got {UdpBufferSize})."]);

    /// <summary>A copy for one node.</summary>
    public HeartbeatGossipOptions Clone() => (HeartbeatGossipOptions)MemberwiseClone();
}
