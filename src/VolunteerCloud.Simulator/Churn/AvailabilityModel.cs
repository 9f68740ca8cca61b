using System.Globalization;
using VolunteerCloud.Randomness;

namespace VolunteerCloud.Simulator.Churn;

/// <summary>When volunteers come and go: for each host, alternating up and down intervals.</summary>
public interface IChurnModel
{
    /// <summary>A short name for reports, e.g. "seti".</summary>
    string Name { get; }

    /// <summary>Draws one host's own parameters (its heterogeneity, its lifetime) from <paramref name="random"/>.</summary>
    HostChurn CreateHost(RandomSource random);
}

/// <summary>
/// One host's churn process: its own scale factors and lifetime, and the intervals it draws. A value type of
/// 24 bytes, so a million hosts cost 24 MB.
/// </summary>
public readonly struct HostChurn
{
    private readonly AvailabilityModel _model;

    internal HostChurn(AvailabilityModel model, double upFactor, double downFactor, double lifetimeHours)
    {
        _model = model;
        UpFactor = upFactor;
        DownFactor = downFactor;
        LifetimeHours = lifetimeHours;
    }

    /// <summary>This host's up intervals are the model's times this factor (1 without heterogeneity).</summary>
    public double UpFactor { get; }

    /// <summary>This host's down intervals are the model's times this factor.</summary>
    public double DownFactor { get; }

    /// <summary>Hours until the host leaves for good (<see cref="double.PositiveInfinity"/> when it never does).</summary>
    public double LifetimeHours { get; }

    /// <summary>The host's next up interval, in hours.</summary>
    public double NextUpHours(RandomSource random) => _model.Up.Sample(random) * UpFactor;

    /// <summary>The host's next down interval, in hours.</summary>
    public double NextDownHours(RandomSource random) => _model.Down.Sample(random) * DownFactor;

    /// <summary>This host's mean up interval, hours.</summary>
    public double MeanUpHours => _model.Up.Mean * UpFactor;

    /// <summary>This host's mean down interval, hours.</summary>
    public double MeanDownHours => _model.Down.Mean * DownFactor;

    /// <summary>This host's long-run availability, E[up] / (E[up] + E[down]).</summary>
    public double Availability => MeanUpHours / (MeanUpHours + MeanDownHours);

    /// <summary>The length of the up interval covering a random instant (length-biased), hours.</summary>
    public double LengthBiasedUpHours(RandomSource random) => _model.Up.SampleLengthBiased(random) * UpFactor;

    /// <summary>The length of the down interval covering a random instant (length-biased), hours.</summary>
    public double LengthBiasedDownHours(RandomSource random) => _model.Down.SampleLengthBiased(random) * DownFactor;

    /// <summary>Whether any of this host's departures may come with a notice.</summary>
    public bool GivesNotices => _model.Reclaim.Probability > 0;

    /// <summary>The lead time of an owner-reclaim notice before the next departure, or null when none is given.</summary>
    public TimeSpan? NextReclaimNotice(RandomSource random) => _model.Reclaim.Draw(random);
}

/// <summary>
/// Some departures are announced: the owner came back and the daemon gives notice a little before it yields
/// the machine, so churn handlers can move work first.
/// </summary>
/// <param name="Probability">Share of departures that come with a notice, in [0, 1].</param>
/// <param name="MinimumLead">Shortest notice.</param>
/// <param name="MaximumLead">Longest notice.</param>
public sealed record ReclaimNotices(double Probability, TimeSpan MinimumLead, TimeSpan MaximumLead)
{
    /// <summary>No notices (the default).</summary>
    public static ReclaimNotices None { get; } = new(0, TimeSpan.Zero, TimeSpan.Zero);

    internal void Validate()
    {
        if (!(Probability is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Probability), Probability, "The share of announced departures must lie in [0, 1].");
        }

        if (MinimumLead < TimeSpan.Zero || MaximumLead < MinimumLead)
        {
            throw new ArgumentOutOfRangeException(nameof(MaximumLead), $"Notice lead times must satisfy 0 <= minimum <= maximum (got {MinimumLead} and {MaximumLead}).");
        }
    }

    internal TimeSpan? Draw(RandomSource random)
    {
        if (Probability <= 0 || !random.NextBoolean(Probability))
        {
            return null;
        }

        return MaximumLead == MinimumLead ? MinimumLead : MinimumLead + random.NextTimeSpan(MaximumLead - MinimumLead);
    }
}

/// <summary>
/// Alternating-renewal availability: up intervals from <see cref="Up"/>, down intervals from <see cref="Down"/>,
/// optionally heterogeneous per host and with permanent departures.
/// </summary>
public sealed class AvailabilityModel : IChurnModel
{
    /// <summary>Creates a model.</summary>
    /// <param name="name">A short name for reports.</param>
    /// <param name="up">Up interval lengths (hours).</param>
    /// <param name="down">Down interval lengths (hours).</param>
    public AvailabilityModel(string name, DurationDistribution up, DurationDistribution down)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(up);
        ArgumentNullException.ThrowIfNull(down);
        Name = name;
        Up = up;
        Down = down;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Up interval lengths, hours.</summary>
    public DurationDistribution Up { get; }

    /// <summary>Down interval lengths, hours.</summary>
    public DurationDistribution Down { get; }

    /// <summary>
    /// Heterogeneity: each host multiplies its up lengths and, independently, its down lengths by a log-normal
    /// factor with this sigma (and mean 1), so some hosts are reliable and most are not. The published fits
    /// were made on intervals pooled over all hosts, so they already contain the population's spread; use
    /// this to give each host a character of its own. Default: 0 (every host like the fit).
    /// </summary>
    public double HeterogeneitySigma
    {
        get;
        init => field = value >= 0 && double.IsFinite(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "HeterogeneitySigma must be 0 or more.");
    }

    /// <summary>How long a host stays in the project before it leaves for good (hours). Default: null, never.</summary>
    public DurationDistribution? Lifetime { get; init; }

    /// <summary>Owner-reclaim notices before departures. Default: none.</summary>
    public ReclaimNotices Reclaim { get; init; } = ReclaimNotices.None;

    /// <summary>Long-run availability of a host without heterogeneity: E[up] / (E[up] + E[down]).</summary>
    public double Availability => Up.Mean / (Up.Mean + Down.Mean);

    /// <inheritdoc />
    public HostChurn CreateHost(RandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Reclaim.Validate();
        var sigma = HeterogeneitySigma;
        var up = sigma == 0 ? 1 : Math.Exp((sigma * random.NextGaussian()) - (sigma * sigma / 2));
        var down = sigma == 0 ? 1 : Math.Exp((sigma * random.NextGaussian()) - (sigma * sigma / 2));
        var lifetime = Lifetime?.Sample(random) ?? double.PositiveInfinity;
        return new HostChurn(this, up, down, lifetime);
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name}: up {Up}, down {Down}, availability {Availability:P1}");
}
