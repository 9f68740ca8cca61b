namespace VolunteerCloud;

/// <summary>
/// Every timer kind the Sdk's protocols set (<see cref="TimerTag.Kind"/>), each named once. Protocols that share a node
/// hand each timer to the one whose kind it is, so no two kinds may be equal: <c>TimerKindsTests</c> reads these
/// constants and fails on a collision. A protocol of your own takes kinds from <see cref="FirstFree"/> up; kinds 1–99
/// are left to workloads and tests.
/// </summary>
public static class TimerKinds
{
    /// <summary>SWIM: the protocol period's tick, the next probe.</summary>
    public const int SwimProbeTick = 100;

    /// <summary>SWIM: the direct probe went unanswered for the probe timeout: ask others to probe (indirect probes).</summary>
    public const int SwimProbeTimeout = 101;

    /// <summary>SWIM: the probe's period is over without an ack: suspect the target.</summary>
    public const int SwimProbeDeadline = 102;

    /// <summary>SWIM: a suspicion ran out unrefuted: the member is dead.</summary>
    public const int SwimSuspicionTimeout = 103;

    /// <summary>SWIM: a gossip round to random members, while updates wait.</summary>
    public const int SwimGossipTick = 104;

    /// <summary>SWIM: full-state push-pull with a random member.</summary>
    public const int SwimPushPullTick = 105;

    /// <summary>SWIM: an indirect probe this node relays for another gives up.</summary>
    public const int SwimRelayExpiry = 106;

    /// <summary>SWIM: join again through the seeds while alone.</summary>
    public const int SwimJoinRetry = 107;

    /// <summary>SWIM: try to reach a member declared dead (Serf's reconnect).</summary>
    public const int SwimReconnect = 108;

    /// <summary>Heartbeat gossip: the round (beat, check timeouts, send the table).</summary>
    public const int HeartbeatGossipTick = 110;

    /// <summary>Central registry: a member's heartbeat to the registry.</summary>
    public const int RegistryHeartbeatTick = 120;

    /// <summary>Central registry: the registry pushes its view.</summary>
    public const int RegistryViewPushTick = 121;

    /// <summary>Replicated state: push waiting updates to random peers.</summary>
    public const int StateGossip = 200;

    /// <summary>Replicated state: anti-entropy with a random peer.</summary>
    public const int StateAntiEntropy = 201;

    /// <summary>Control plane: a steward's reconcile pass.</summary>
    public const int Reconcile = 210;

    /// <summary>The first kind no Sdk protocol uses: your own protocols' kinds start here.</summary>
    public const int FirstFree = 1000;
}
