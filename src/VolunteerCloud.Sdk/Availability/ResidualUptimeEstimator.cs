using VolunteerCloud.Placement;

namespace VolunteerCloud.Availability;

/// <summary>
/// Predicts how long a host will stay up: each host's up intervals are fitted with a Weibull distribution by maximum
/// likelihood once it has <see cref="MinimumHistory"/> sessions; before that the population model is used. The
/// residual uptime of a host up for a time a is E[X − a | X &gt; a] = (λ/k)·e^z·Γ(1/k, z) with z = (a/λ)^k — for the
/// shapes below 1 that volunteer hosts show, the longer a host has been up, the longer it is expected to stay.
/// Availability-aware placement scores hosts with it; the proactive churn handler moves replicas off hosts it
/// predicts will leave soon. Stateless: the sessions live in the <see cref="ClusterState"/>.
/// </summary>
public sealed class ResidualUptimeEstimator
{
    /// <summary>Creates the estimator.</summary>
    /// <param name="populationShape">Weibull shape of up intervals for hosts without enough history. Default SETI@home's 0.393.</param>
    /// <param name="populationScaleHours">Weibull scale in hours. Default SETI@home's 2.964.</param>
    /// <param name="minimumHistory">Sessions a host needs before its own fit is used. Default 5.</param>
    public ResidualUptimeEstimator(double populationShape = 0.393, double populationScaleHours = 2.964, int minimumHistory = 5)
    {
        if (!(populationShape > 0) || !(populationScaleHours > 0) || !double.IsFinite(populationShape) || !double.IsFinite(populationScaleHours))
        {
            throw new ArgumentOutOfRangeException(nameof(populationShape), "The population's Weibull shape and scale must be positive and finite.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(minimumHistory, 2);
        PopulationShape = populationShape;
        PopulationScaleHours = populationScaleHours;
        MinimumHistory = minimumHistory;
    }

    /// <summary>The population's Weibull shape.</summary>
    public double PopulationShape { get; }

    /// <summary>The population's Weibull scale, hours.</summary>
    public double PopulationScaleHours { get; }

    /// <summary>Sessions before a host's own fit is trusted.</summary>
    public int MinimumHistory { get; }

    /// <summary>The predicted residual uptime of host <paramref name="index"/> of <paramref name="cluster"/> at its <see cref="ClusterState.Now"/>, hours.</summary>
    public double PredictedResidualHours(ClusterState cluster, int index)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var history = cluster.HistoryOrNull(index);
        var age = history?.UpSince is { } since && cluster.Now > since ? (cluster.Now - since).TotalHours : 0;
        var (shape, scale) = history is not null && history.Sessions >= MinimumHistory ? history.Fit() : (PopulationShape, PopulationScaleHours);
        return Survival.WeibullResidualMean(shape, scale, age);
    }
}
