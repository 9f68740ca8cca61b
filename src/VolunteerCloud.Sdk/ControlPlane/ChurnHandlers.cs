using VolunteerCloud.Apps;

namespace VolunteerCloud.ControlPlane;

/// <summary>
/// What a steward does about hosts that leave or look likely to: how many replicas to keep, how long a replica on
/// a host that stopped answering still counts, and when to move replicas before their host goes. Pure and
/// synchronous, like every strategy.
/// </summary>
public interface IChurnHandler
{
    /// <summary>A short name for reports.</summary>
    string Name { get; }

    /// <summary>How long a replica on a host that is no longer alive in the view still counts before it is replaced.</summary>
    TimeSpan GracePeriod { get; }

    /// <summary>How many replicas to keep for <paramref name="spec"/>, given the hosts' estimated availability (share of known hosts up).</summary>
    int TargetReplicas(AppSpec spec, double hostAvailability);

    /// <summary>Whether to start a replacement for a replica now, before its host leaves.</summary>
    /// <param name="leaving">The host announced it is leaving (an owner-reclaim notice).</param>
    /// <param name="predictedResidualHours">The host's predicted remaining uptime.</param>
    bool ShouldMigrate(bool leaving, double predictedResidualHours);

    /// <summary>
    /// Whether <see cref="ShouldMigrate"/> looks at the predicted residual uptime. When false the steward passes
    /// <see cref="double.NaN"/> instead of fitting each host's history on every pass. Default true.
    /// </summary>
    bool UsesResidualUptime => true;
}

/// <summary>
/// Reactive rescheduling, as Nomad does for lost allocations: a replica whose host is no longer alive is replaced
/// after a grace period (so a host that flaps back in time keeps its replica); when the host returns after the
/// replacement started, the better copy is kept and the surplus stopped.
/// </summary>
/// <param name="grace">The grace period. Default 30 s.</param>
public sealed class ReactiveChurnHandler(TimeSpan? grace = null) : IChurnHandler
{
    /// <inheritdoc />
    public string Name => StrategyNames.Reactive;

    /// <inheritdoc />
    public TimeSpan GracePeriod { get; } = Checked(grace ?? TimeSpan.FromSeconds(30));

    /// <inheritdoc />
    public int TargetReplicas(AppSpec spec, double hostAvailability) => spec?.Replicas ?? throw new ArgumentNullException(nameof(spec));

    /// <inheritdoc />
    public bool ShouldMigrate(bool leaving, double predictedResidualHours) => false;

    /// <inheritdoc />
    public bool UsesResidualUptime => false;

    internal static TimeSpan Checked(TimeSpan grace) =>
        grace >= TimeSpan.Zero ? grace : throw new ArgumentOutOfRangeException(nameof(grace), grace, "The grace period must not be negative.");
}

/// <summary>
/// Replication for a target: an app with an availability target A keeps k = ⌈log(1 − A) / log(1 − a)⌉ replicas,
/// where a is the hosts' estimated availability (independent failures), never fewer than it asked for; lost replicas
/// are replaced reactively.
/// </summary>
/// <param name="grace">The grace period. Default 30 s.</param>
/// <param name="maximumReplicas">A cap on k. Default 20.</param>
public sealed class ReplicationChurnHandler(TimeSpan? grace = null, int maximumReplicas = 20) : IChurnHandler
{
    /// <inheritdoc />
    public string Name => StrategyNames.Replication;

    /// <inheritdoc />
    public TimeSpan GracePeriod { get; } = ReactiveChurnHandler.Checked(grace ?? TimeSpan.FromSeconds(30));

    /// <summary>The cap on k.</summary>
    public int MaximumReplicas { get; } = maximumReplicas >= 1 ? maximumReplicas : throw new ArgumentOutOfRangeException(nameof(maximumReplicas));

    /// <summary>k = ⌈log(1 − A) / log(1 − a)⌉, at least 1 and at most <paramref name="cap"/>.</summary>
    public static int ReplicasFor(double target, double hostAvailability, int cap)
    {
        if (!(target is > 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(target), target, "The target lies strictly between 0 and 1.");
        }

        if (!(hostAvailability > 0))
        {
            return cap;
        }

        if (hostAvailability >= 1)
        {
            return 1;
        }

        var k = Math.Log(1 - target) / Math.Log(1 - hostAvailability);
        return (int)Math.Clamp(Math.Ceiling(k - 1e-9), 1, cap);
    }

    /// <inheritdoc />
    public int TargetReplicas(AppSpec spec, double hostAvailability)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.AvailabilityTarget is { } target ? Math.Max(spec.Replicas, ReplicasFor(target, hostAvailability, MaximumReplicas)) : spec.Replicas;
    }

    /// <inheritdoc />
    public bool ShouldMigrate(bool leaving, double predictedResidualHours) => false;

    /// <inheritdoc />
    public bool UsesResidualUptime => false;
}

/// <summary>
/// Proactive migration: on an owner-reclaim notice, or when a host's predicted residual uptime falls below a
/// threshold, a replacement starts first and the old replica stops once the new one runs. Lost replicas are
/// replaced reactively.
/// </summary>
/// <param name="grace">The grace period. Default 30 s.</param>
/// <param name="residualThresholdHours">Move replicas off hosts predicted to stay less than this. Default 0.25 h; 0 to act on notices only.</param>
public sealed class ProactiveChurnHandler(TimeSpan? grace = null, double residualThresholdHours = 0.25) : IChurnHandler
{
    /// <inheritdoc />
    public string Name => StrategyNames.Proactive;

    /// <inheritdoc />
    public TimeSpan GracePeriod { get; } = ReactiveChurnHandler.Checked(grace ?? TimeSpan.FromSeconds(30));

    /// <summary>The residual-uptime threshold, hours.</summary>
    public double ResidualThresholdHours { get; } = residualThresholdHours >= 0 ? residualThresholdHours : throw new ArgumentOutOfRangeException(nameof(residualThresholdHours));

    /// <inheritdoc />
    public int TargetReplicas(AppSpec spec, double hostAvailability) => spec?.Replicas ?? throw new ArgumentNullException(nameof(spec));

    /// <inheritdoc />
    public bool ShouldMigrate(bool leaving, double predictedResidualHours) => leaving || predictedResidualHours < ResidualThresholdHours;
}
