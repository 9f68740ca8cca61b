namespace VolunteerCloud.Membership.Swim;

/// <summary>
/// Settings of <c>SwimMembership</c>. Defaults are HashiCorp memberlist's <c>DefaultLANConfig</c>, except
/// the two marked as VolunteerCloud's own.
/// </summary>
public sealed class SwimOptions : ISelfValidatingOptions
{
    /// <summary>Time between probes (the protocol period T'); stretched by the local health multiplier while this node is unhealthy. Default: 1 s.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long to wait for a direct ack before asking others to probe. Default: 500 ms.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Indirect probers asked when a direct probe fails (K). Default: 3.</summary>
    public int IndirectChecks { get; set; } = 3;

    /// <summary>Suspicion timeout multiplier: the minimum timeout is SuspicionMult · max(1, log10 N) · ProbeInterval. Default: 4.</summary>
    public int SuspicionMult { get; set; } = 4;

    /// <summary>The maximum suspicion timeout, as a multiple of the minimum (Lifeguard). Default: 6.</summary>
    public int SuspicionMaxTimeoutMult { get; set; } = 6;

    /// <summary>The local health multiplier's ceiling (Lifeguard): probe intervals stretch up to this factor. Default: 8.</summary>
    public int AwarenessMaxMultiplier { get; set; } = 8;

    /// <summary>Each update is retransmitted RetransmitMult · ⌈log10(N + 1)⌉ times. Default: 4.</summary>
    public int RetransmitMult { get; set; } = 4;

    /// <summary>Random members sent queued updates every gossip interval. Default: 3.</summary>
    public int GossipNodes { get; set; } = 3;

    /// <summary>Time between gossip rounds (only rounds with updates to send are sent). Default: 200 ms.</summary>
    public TimeSpan GossipInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long dead members are still gossiped to, and kept before they are forgotten. Default: 30 s.</summary>
    public TimeSpan GossipToTheDeadTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time between full-state exchanges with a random member, scaled up for clusters above 32 members. Default: 30 s.</summary>
    public TimeSpan PushPullInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The datagram size probes and gossip fill with updates. Default: 1400 bytes.</summary>
    public int UdpBufferSize { get; set; } = 1400;

    /// <summary>VolunteerCloud's own: how often a node that knows no other live member retries its seeds (Consul's retry_join default). Default: 30 s.</summary>
    public TimeSpan JoinRetryInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a node tries to reach one random member it declared dead and has forgotten (Serf's reconnect; its
    /// default), with probability failed ÷ alive. Without it, the two sides of a partition that lasted longer than
    /// the suspicion timeout and <see cref="GossipToTheDeadTime"/> never find each other again: each side has
    /// forgotten the other, and probes, gossip and push-pull only go to members known alive. Default: 30 s.
    /// </summary>
    public TimeSpan ReconnectInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a forgotten dead member is still tried (Serf's reconnect_timeout; its default). Zero turns reconnecting off. Default: 24 h.</summary>
    public TimeSpan ReconnectTimeout { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// VolunteerCloud's own, for research: the Lifeguard extensions (local health multiplier, nacks, suspicion
    /// timeouts that shrink with confirmations, the buddy system). Off gives SWIM with memberlist's fixed
    /// suspicion timeout. Default: on.
    /// </summary>
    public bool Lifeguard { get; set; } = true;

    /// <summary>
    /// Start the probe ticker at a random point of the first interval (memberlist's stagger). Off, for research,
    /// every node started at the same instant probes in lockstep: the synchronous protocol periods the SWIM
    /// paper's analysis assumes. Default: on.
    /// </summary>
    public bool RandomProbeStart { get; set; } = true;

    /// <summary>
    /// For research only: with the suspicion stage off, a member that fails one probe is declared dead at once
    /// (the basic protocol of the SWIM paper, Section 3). Default: on.
    /// </summary>
    public bool Suspicion { get; set; } = true;

    /// <inheritdoc />
    public IEnumerable<string> Validate() =>
        OptionsGuard.Positive(ProbeInterval, nameof(ProbeInterval))
            .Concat(OptionsGuard.Positive(ProbeTimeout, nameof(ProbeTimeout)))
            .Concat(ProbeTimeout <= ProbeInterval ? [] : [$"{nameof(ProbeTimeout)} ({ProbeTimeout}) must not exceed {nameof(ProbeInterval)} ({ProbeInterval})."])
            .Concat(OptionsGuard.AtLeast(IndirectChecks, 0, nameof(IndirectChecks)))
            .Concat(OptionsGuard.AtLeast(SuspicionMult, 1, nameof(SuspicionMult)))
            .Concat(OptionsGuard.AtLeast(SuspicionMaxTimeoutMult, 1, nameof(SuspicionMaxTimeoutMult)))
            .Concat(OptionsGuard.AtLeast(AwarenessMaxMultiplier, 1, nameof(AwarenessMaxMultiplier)))
            .Concat(OptionsGuard.AtLeast(RetransmitMult, 1, nameof(RetransmitMult)))
            .Concat(OptionsGuard.AtLeast(GossipNodes, 0, nameof(GossipNodes)))
            .Concat(OptionsGuard.Positive(GossipInterval, nameof(GossipInterval)))
            .Concat(GossipToTheDeadTime >= TimeSpan.Zero ? [] : [$"{nameof(GossipToTheDeadTime)} must not be negative."])
            .Concat(OptionsGuard.Positive(PushPullInterval, nameof(PushPullInterval)))
            .Concat(UdpBufferSize is >= 128 and <= Wire.WireFormat.MaxDatagramBytes ? [] : [$"{nameof(UdpBufferSize)} must lie in 128..{Wire.WireFormat.MaxDatagramBytes} (got {UdpBufferSize})."])
            .Concat(OptionsGuard.Positive(JoinRetryInterval, nameof(JoinRetryInterval)))
            .Concat(OptionsGuard.Positive(ReconnectInterval, nameof(ReconnectInterval)))
            .Concat(ReconnectTimeout >= TimeSpan.Zero ? [] : [$"{nameof(ReconnectTimeout)} must not be negative."]);

    /// <summary>A copy, so that one options object can configure many nodes without them sharing later changes.</summary>
    public SwimOptions Clone() => (SwimOptions)MemberwiseClone();
}
