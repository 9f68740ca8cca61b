using VolunteerCloud.Apps;
using VolunteerCloud.Availability;
using VolunteerCloud.Placement;

namespace VolunteerCloud.ControlPlane;

/// <summary>How a steward counts the copies on one host (<see cref="StewardRules.Judge"/>).</summary>
/// <param name="Lost">The host is down past the churn handler's grace period: its copies no longer count.</param>
/// <param name="Alive">The host is alive in the steward's view (false: down, within its grace period).</param>
/// <param name="Migrate">The churn handler wants the host's copies moved off it.</param>
internal readonly record struct HostStanding(bool Lost, bool Alive, bool Migrate);

/// <summary>
/// The steward's rules, as pure functions: how many replicas an app keeps, when a pending start has expired, whether
/// the copies on a host still count (grace period) and whether they should move (owner's notice, residual uptime), and
/// what a placement request avoids. The real control plane (<see cref="Steward"/>) and the simulator's modelled one
/// call these same functions, so the two fidelities cannot disagree on what a steward decides — only on what it knows
/// when it decides (ADR 0006). <see cref="StewardPlanner"/> then turns the copies into actions.
/// </summary>
internal static class StewardRules
{
    /// <summary>The replicas to keep: the churn handler's target at the share of known hosts that are eligible; 0 for a removed app.</summary>
    public static int Target(AppSpec? spec, ClusterState cluster, IChurnHandler churn) =>
        spec is null ? 0 : churn.TargetReplicas(spec, cluster.Count == 0 ? 1 : cluster.EligibleCount / (double)cluster.Count);

    /// <summary>Whether a start the steward waits for is given up: its deadline passed, or its host is no longer alive.</summary>
    public static bool StartExpired(TimeSpan now, TimeSpan deadline, bool hostAlive) => now > deadline || !hostAlive;

    /// <summary>A start still pending, as the plan sees it: not running, on a live host, not to be moved.</summary>
    public static StewardCopy Pending(ReplicaId replica, NodeId host) => new(replica, host, false, true, false);

    /// <summary>A copy its host reports, as the plan sees it.</summary>
    public static StewardCopy Reported(ReplicaId replica, NodeId host, bool running, HostStanding standing) => new(replica, host, running, standing.Alive, standing.Migrate);

    /// <summary>
    /// How the copies a host reports count: lost once the host has been down for the grace period; otherwise kept, and
    /// moved when the host is alive and the churn handler says so — on the owner's notice, or (handlers that use it)
    /// when the host's predicted residual uptime is short.
    /// </summary>
    /// <param name="alive">The host is alive in the steward's view.</param>
    /// <param name="now">The steward's time.</param>
    /// <param name="downSince">Since when the host is down (read only when it is not alive).</param>
    /// <param name="leaving">The host's report says its owner reclaims it.</param>
    /// <param name="cluster">The cluster, for the host's session history.</param>
    /// <param name="index">The host's index in <paramref name="cluster"/>, or −1 when it has none (then its residual uptime counts as unbounded).</param>
    /// <param name="churn">The churn handler.</param>
    /// <param name="survival">The residual-uptime model.</param>
    public static HostStanding Judge(bool alive, TimeSpan now, TimeSpan downSince, bool leaving, ClusterState cluster, int index, IChurnHandler churn, ResidualUptimeEstimator survival)
    {
        if (!alive && now - downSince >= churn.GracePeriod)
        {
            return new HostStanding(true, false, false);
        }

        var residual = !churn.UsesResidualUptime ? double.NaN : index >= 0 ? survival.PredictedResidualHours(cluster, index) : double.PositiveInfinity;
        return new HostStanding(false, alive, alive && churn.ShouldMigrate(leaving, residual));
    }

    /// <summary>
    /// What placing a copy in <paramref name="slot"/> asks for: the app's limits, away from the hosts that hold a copy
    /// of it already (<paramref name="used"/>) and from their regions.
    /// </summary>
    public static PlacementRequest Request(AppSpec spec, int slot, IReadOnlyList<NodeId> used, ClusterState cluster) =>
        new(spec.Name, slot, spec.Limits)
        {
            Avoid = used.ToArray(),
            UsedRegions = used.Select(cluster.IndexOf).Where(i => i >= 0).Select(cluster.RegionOf).Distinct().ToArray(),
        };
}
