namespace VolunteerCloud;

/// <summary>
/// The name of every strategy the Sdk ships, as reports, experiment definitions, <c>vcsim</c>'s options and
/// <c>vchost</c>'s configuration spell it; each strategy's <c>Name</c> returns one of these.
/// </summary>
public static class StrategyNames
{
    /// <summary>Placement: a uniformly random fitting host.</summary>
    public const string Random = "random";

    /// <summary>Placement: fitting hosts in turn.</summary>
    public const string RoundRobin = "round-robin";

    /// <summary>Placement: the fitting host with the fewest replicas.</summary>
    public const string LeastLoaded = "least-loaded";

    /// <summary>Placement: the less loaded of two random fitting hosts (the default).</summary>
    public const string PowerOfTwo = "power-of-2";

    /// <summary>Placement: the least loaded of three random fitting hosts.</summary>
    public const string PowerOfThree = "power-of-3";

    /// <summary>Placement: the highest rendezvous hash of (app, replica, host).</summary>
    public const string Rendezvous = "rendezvous";

    /// <summary>Placement: best fit, the least CPU left after the replica.</summary>
    public const string BinPack = "bin-pack";

    /// <summary>Placement: least loaded, over hosts only.</summary>
    public const string Spread = "spread";

    /// <summary>Placement: regions without a replica of the app first, then least loaded.</summary>
    public const string SpreadRegions = "spread-regions";

    /// <summary>Placement: the largest predicted residual uptime.</summary>
    public const string AvailabilityAware = "availability-aware";

    /// <summary>Churn handling: replace a lost replica after the grace period.</summary>
    public const string Reactive = "reactive";

    /// <summary>Churn handling: keep enough replicas for the app's availability target.</summary>
    public const string Replication = "replication";

    /// <summary>Churn handling: move replicas off hosts that announce they leave or are predicted to soon.</summary>
    public const string Proactive = "proactive";

    /// <summary>Membership: SWIM with the Lifeguard extensions (the default).</summary>
    public const string Swim = "swim";

    /// <summary>Membership: SWIM without Lifeguard.</summary>
    public const string SwimWithoutLifeguard = "swim-no-lifeguard";

    /// <summary>Membership: heartbeat gossip with a fixed timeout.</summary>
    public const string Heartbeat = "heartbeat";

    /// <summary>Membership: heartbeat gossip with a phi-accrual detector.</summary>
    public const string HeartbeatPhi = "heartbeat-phi";

    /// <summary>Membership: the Deis-like baseline, one registry node.</summary>
    public const string Registry = "registry";

    /// <summary>Placement: the least loaded of <paramref name="choices"/> random fitting hosts.</summary>
    public static string PowerOf(int choices) => choices switch
    {
        2 => PowerOfTwo,
        3 => PowerOfThree,
        _ => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"power-of-{choices}"),
    };
}
