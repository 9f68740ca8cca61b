namespace VolunteerCloud.Simulator.Churn;

/// <summary>
/// Availability models fitted to real traces, times in hours. Each names its source; docs/references.md
/// lists them all with their papers.
/// </summary>
public static class ChurnPresets
{
    /// <summary>
    /// SETI@home volunteer hosts (~230 000 hosts, 2007–08): up intervals Weibull(shape 0.393, scale 2.964 h), down
    /// intervals log-normal(μ −0.586, σ 2.844). Javadi, Kondo, Vincent, Anderson, "Discovering statistical models
    /// of availability in large distributed systems: an empirical study of SETI@home", IEEE TPDS 22(11), 2011.
    /// σ = 2.444 also circulates for the down intervals; pass it to <see cref="SetiWithDownSigma"/> to compare.
    /// The default preset.
    /// </summary>
    public static AvailabilityModel Seti { get; } = SetiWithDownSigma(2.844);

    /// <summary>SETI@home with another σ for the log-normal down intervals (see <see cref="Seti"/>).</summary>
    public static AvailabilityModel SetiWithDownSigma(double downSigma) =>
        new("seti", DurationDistribution.Weibull(0.393, 2.964), DurationDistribution.LogNormal(-0.586, downSigma));

    /// <summary>
    /// Microsoft desktops, 1999: up Weibull(0.55, 35.30 h), down Weibull(0.60, 9.34 h). Javadi, Kondo, Iosup, Epema,
    /// "The Failure Trace Archive: enabling the comparison of failure measurements and models of distributed
    /// systems", JPDC 2013.
    /// </summary>
    public static AvailabilityModel Microsoft99 { get; } =
        new("microsoft99", DurationDistribution.Weibull(0.55, 35.30), DurationDistribution.Weibull(0.60, 9.34));

    /// <summary>Overnet peer-to-peer hosts, 2003: up Weibull(0.85, 2.04 h), down Weibull(0.44, 2.98 h). Javadi et al., JPDC 2013.</summary>
    public static AvailabilityModel Overnet03 { get; } =
        new("overnet03", DurationDistribution.Weibull(0.85, 2.04), DurationDistribution.Weibull(0.44, 2.98));

    /// <summary>Skype supernodes, 2006: up Weibull(0.64, 10.86 h), down Weibull(0.63, 9.48 h). Javadi et al., JPDC 2013.</summary>
    public static AvailabilityModel Skype06 { get; } =
        new("skype06", DurationDistribution.Weibull(0.64, 10.86), DurationDistribution.Weibull(0.63, 9.48));

    /// <summary>Notre Dame desktop grid CPU availability, 2007: up Weibull(0.45, 4.16 h), down Weibull(0.51, 0.74 h). Javadi et al., JPDC 2013.</summary>
    public static AvailabilityModel Nd07Cpu { get; } =
        new("nd07cpu", DurationDistribution.Weibull(0.45, 4.16), DurationDistribution.Weibull(0.51, 0.74));

    /// <summary>PlanetLab nodes, 2005: up Weibull(0.33, 19.35 h), down Weibull(0.36, 5.59 h). Javadi et al., JPDC 2013.</summary>
    public static AvailabilityModel PlanetLab05 { get; } =
        new("planetlab05", DurationDistribution.Weibull(0.33, 19.35), DurationDistribution.Weibull(0.36, 5.59));

    /// <summary>The default: <see cref="Seti"/>.</summary>
    public static AvailabilityModel Default => Seti;

    /// <summary>Every preset, by name.</summary>
    public static IReadOnlyDictionary<string, AvailabilityModel> All { get; } = new Dictionary<string, AvailabilityModel>(StringComparer.OrdinalIgnoreCase)
    {
        ["seti"] = Seti,
        ["microsoft99"] = Microsoft99,
        ["overnet03"] = Overnet03,
        ["skype06"] = Skype06,
        ["nd07cpu"] = Nd07Cpu,
        ["planetlab05"] = PlanetLab05,
    };

    /// <summary>Finds a preset by name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No preset has that name; the message lists them.</exception>
    public static AvailabilityModel Named(string name) =>
        All.TryGetValue(name, out var model)
            ? model
            : throw new ArgumentException($"No churn preset is called '{name}'. Presets: {string.Join(", ", All.Keys)}.", nameof(name));
}
