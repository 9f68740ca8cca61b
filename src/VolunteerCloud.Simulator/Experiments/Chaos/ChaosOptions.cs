using System.Globalization;
using VolunteerCloud.Apps;
using VolunteerCloud.Containers;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Swim;
using VolunteerCloud.Placement;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Containers;
using VolunteerCloud.Simulator.Network;

namespace VolunteerCloud.Simulator.Experiments.Chaos;

/// <summary>The shape of every chaos run; a run's faults and operations come from its seed.</summary>
public sealed record ChaosOptions
{
    /// <summary>Volunteers, each with real SWIM membership, the control plane and a simulated engine. Default 16.</summary>
    public int Nodes { get; init; } = 16;

    /// <summary>Apps the workload deploys, scales and removes. Default 5.</summary>
    public int Apps { get; init; } = 5;

    /// <summary>How long faults and operations go on. Default 20 min.</summary>
    public TimeSpan FaultPhase { get; init; } = TimeSpan.FromMinutes(20);

    /// <summary>
    /// Quiet time after the faults end (network healed, every crashed node restarted) before convergence is checked.
    /// Default 10 min: SWIM's reconnect (30 s) and suspicion, anti-entropy (10 s), the reschedule grace (30 s) and a
    /// start timeout (2 min), with room to spare.
    /// </summary>
    public TimeSpan QuietPhase { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The nodes' SWIM options. Default: memberlist's LAN defaults.</summary>
    public SwimOptions Swim { get; init; } = new();

    /// <summary>How often the safety invariants are checked. Default 1 s of simulated time.</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Mean time between two faults. Default 60 s.</summary>
    public TimeSpan MeanTimeBetweenFaults { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Mean time between two operations (deploy, scale, remove). Default 45 s.</summary>
    public TimeSpan MeanTimeBetweenOperations { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        if (Nodes is < 4 or > 1_000)
        {
            throw new ArgumentException($"{nameof(Nodes)} must lie in [4, 1000]; got {Nodes}.");
        }

        if (Apps is < 1 or > 100)
        {
            throw new ArgumentException($"{nameof(Apps)} must lie in [1, 100]; got {Apps}.");
        }

        foreach (var (name, value) in new[] { (nameof(FaultPhase), FaultPhase), (nameof(QuietPhase), QuietPhase), (nameof(CheckInterval), CheckInterval), (nameof(MeanTimeBetweenFaults), MeanTimeBetweenFaults), (nameof(MeanTimeBetweenOperations), MeanTimeBetweenOperations) })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"{name} must be positive; got {value}.");
            }
        }
    }
}

/// <summary>The kinds of fault a campaign injects.</summary>
public enum ChaosFault
{
    /// <summary>The network splits in two sides (or one node is cut off) for 20 s to 4 min.</summary>
    Partition,

    /// <summary>0–30% of messages are lost for 1 to 5 min.</summary>
    Loss,

    /// <summary>0–20% of messages arrive twice for 1 to 5 min.</summary>
    Duplication,

    /// <summary>0–30% of messages are held back up to 500 ms, so later ones overtake them, for 1 to 5 min.</summary>
    Reordering,

    /// <summary>One node crashes (kill -9: its state is lost) and restarts empty 10 s to 5 min later.</summary>
    Crash,

    /// <summary>Half the live nodes crash at once and restart 1 to 5 min later.</summary>
    MassCrash,

    /// <summary>A node's inbound messages wait 0.2–2 s more (an overloaded machine) for 1 to 5 min.</summary>
    SlowNode,

    /// <summary>A node's wall clock is set up to 2 h wrong (either way), as a machine without NTP or an NTP step.</summary>
    ClockSkew,
}

/// <summary>What one chaos run did and found.</summary>
/// <param name="Seed">The run's seed: <c>vcsim chaos --seed &lt;seed&gt; --runs 1</c> replays it exactly.</param>
/// <param name="Faults">Faults injected, by kind.</param>
/// <param name="OperationsAcknowledged">Deploys, scales and removes a live node accepted.</param>
/// <param name="OperationsRefused">Scales and removes refused because the node did not know the app (an API 404).</param>
/// <param name="Checks">Invariant checks made (each check covers every node).</param>
/// <param name="Violations">Invariant violations (goal 0).</param>
/// <param name="Examples">The first violations, each with its time and seed.</param>
/// <param name="AcknowledgedLostWithEveryHolder">Acknowledged writes that no live node holds because every node that held them crashed (allowed; reported).</param>
/// <param name="TraceHash">The simulation's trace hash: a replay must give the same.</param>
/// <param name="Events">Events processed.</param>
/// <param name="MessagesLost">Messages the network dropped (loss, partitions).</param>
public sealed record ChaosRunResult(
    ulong Seed,
    IReadOnlyDictionary<ChaosFault, int> Faults,
    int OperationsAcknowledged,
    int OperationsRefused,
    long Checks,
    long Violations,
    IReadOnlyList<string> Examples,
    int AcknowledgedLostWithEveryHolder,
    ulong TraceHash,
    long Events,
    long MessagesLost);
