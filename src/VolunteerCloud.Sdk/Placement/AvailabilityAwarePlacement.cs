using VolunteerCloud.Availability;

namespace VolunteerCloud.Placement;

/// <summary>
/// Availability-aware placement: the fitting host with the largest predicted residual uptime
/// (<see cref="ResidualUptimeEstimator"/>: each host's own Weibull fit once it has enough sessions, the population's
/// before that).
/// </summary>
/// <param name="estimator">How residual uptime is predicted. Default: SETI@home's population model, 5 sessions.</param>
public sealed class AvailabilityAwarePlacement(ResidualUptimeEstimator? estimator = null) : ScoringPlacement
{
    /// <summary>How residual uptime is predicted.</summary>
    public ResidualUptimeEstimator Estimator { get; } = estimator ?? new ResidualUptimeEstimator();

    /// <inheritdoc />
    public override string Name => StrategyNames.AvailabilityAware;

    /// <summary>The predicted residual uptime of host <paramref name="index"/>, hours.</summary>
    public double PredictedResidualHours(ClusterState cluster, int index) => Estimator.PredictedResidualHours(cluster, index);

    /// <inheritdoc />
    protected override double Score(ClusterState cluster, int index, in PlacementRequest request) => Estimator.PredictedResidualHours(cluster, index);
}
