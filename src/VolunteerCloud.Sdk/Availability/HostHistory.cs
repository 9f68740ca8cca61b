namespace VolunteerCloud.Availability;

/// <summary>
/// A host's sessions as placement and the churn handlers remember them: the lengths of its last up intervals and
/// when the current one began. Fed by the owner of the <see cref="Placement.ClusterState"/> from membership changes.
/// </summary>
public sealed class HostHistory
{
    /// <summary>How many past sessions are kept (the most recent).</summary>
    public const int Capacity = 32;

    private readonly double[] _hours = new double[Capacity];
    private int _next;
    private (double Shape, double Scale)? _fit;

    /// <summary>Sessions recorded (at most <see cref="Capacity"/>).</summary>
    public int Sessions { get; private set; }

    /// <summary>When the current session began, or null when the host is not up.</summary>
    public TimeSpan? UpSince { get; private set; }

    /// <summary>The host came up.</summary>
    public void SessionStarted(TimeSpan at) => UpSince = at;

    /// <summary>The host went down (or left): its session's length is remembered.</summary>
    public void SessionEnded(TimeSpan at)
    {
        if (UpSince is { } since && at > since)
        {
            Record((at - since).TotalHours);
        }

        UpSince = null;
    }

    /// <summary>Remembers a past session's length directly (e.g. loaded from a trace).</summary>
    public void Record(double hours)
    {
        if (!(hours > 0) || !double.IsFinite(hours))
        {
            throw new ArgumentOutOfRangeException(nameof(hours), hours, "A session length must be positive and finite.");
        }

        _hours[_next] = hours;
        _next = (_next + 1) % Capacity;
        Sessions = Math.Min(Sessions + 1, Capacity);
        _fit = null;
    }

    /// <summary>The Weibull fit of the remembered sessions (maximum likelihood), cached until the next session.</summary>
    public (double Shape, double Scale) Fit() => _fit ??= Survival.FitWeibull(_hours.AsSpan(0, Sessions));
}
