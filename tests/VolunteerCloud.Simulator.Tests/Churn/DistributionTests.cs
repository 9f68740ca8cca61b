using FsCheck;
using FsCheck.Xunit;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Churn;

namespace VolunteerCloud.Simulator.Tests.Churn;

/// <summary>
/// Samples from every family fit back to the parameters that generated them. Significance: α = 0.001 for the KS
/// test against the generating distribution (exact: its parameters are not fitted to the sample). Parameters come
/// from FsCheck with a fixed replay seed, so the outcome is the same on every run.
/// </summary>
public sealed class DistributionTests
{
    private const int Samples = 4000;
    private const double Alpha = 0.001;

    // Theories take the family's name (serializable: each family is its own test case) and look the distribution up.
    public static TheoryData<string> FamilyNames() => [.. Families.Keys];

    public static TheoryData<string> LengthBiasedNames() => [.. LengthBiased.Keys];

    private static readonly Dictionary<string, DurationDistribution> Families = new()
    {
        ["exponential"] = DurationDistribution.Exponential(3.5),
        ["weibull k<1"] = DurationDistribution.Weibull(0.393, 2.964),
        ["weibull k>1"] = DurationDistribution.Weibull(1.7, 10),
        ["lognormal"] = DurationDistribution.LogNormal(-0.586, 2.844),
        ["gamma k<1"] = DurationDistribution.Gamma(0.4, 12),
        ["gamma k>1"] = DurationDistribution.Gamma(3.2, 0.5),
        ["hyperexponential"] = DurationDistribution.HyperExponential([(0.7, 0.5), (0.3, 20)]),
    };

    [Theory]
    [MemberData(nameof(FamilyNames))]
    public void Samples_pass_a_KS_test_against_the_generating_distribution(string name)
    {
        var distribution = Families[name];
        var samples = Draw(distribution, Samples, seed: 11);
        var d = DistributionFitting.KolmogorovSmirnov(samples, distribution);
        Assert.True(d < DistributionFitting.KolmogorovSmirnovCritical(Samples, Alpha), $"{name}: D = {d}");
    }

    private static readonly Dictionary<string, (DurationDistribution Distribution, double Expected)> LengthBiased = new()
    {
        // E[length-biased] = E[X²] / E[X], in closed form.
        ["exponential"] = (DurationDistribution.Exponential(3.5), 7.0),
        ["weibull k<1"] = (DurationDistribution.Weibull(0.6, 2), 2 * Math.Exp(LogGamma(1 + (2 / 0.6)) - LogGamma(1 + (1 / 0.6)))),
        ["weibull k>1"] = (DurationDistribution.Weibull(1.7, 10), 10 * Math.Exp(LogGamma(1 + (2 / 1.7)) - LogGamma(1 + (1 / 1.7)))),
        ["lognormal"] = (DurationDistribution.LogNormal(0, 0.5), Math.Exp(1.5 * 0.25)),
        ["gamma k<1"] = (DurationDistribution.Gamma(0.4, 12), 1.4 * 12),
        ["gamma k>1"] = (DurationDistribution.Gamma(3.2, 0.5), 4.2 * 0.5),
        ["hyperexponential"] = (DurationDistribution.HyperExponential([(0.7, 0.5), (0.3, 20)]), ((0.7 * 2 * 0.25) + (0.3 * 2 * 400)) / ((0.7 * 0.5) + (0.3 * 20))),
    };

    [Theory]
    [MemberData(nameof(LengthBiasedNames))]
    public void Length_biased_samples_have_mean_E_X2_over_E_X(string name)
    {
        var (distribution, expected) = LengthBiased[name];
        // 400 000 draws; the tolerance is 5 standard errors of the sample mean (estimated from the draws).
        var draws = Draw(distribution, 400_000, 4, lengthBiased: true);
        var mean = draws.Average();
        var standardError = Math.Sqrt(draws.Average(x => (x - mean) * (x - mean)) / draws.Length);
        Assert.True(Math.Abs(mean - expected) < 5 * standardError, $"{name}: length-biased mean {mean}, E[X²]/E[X] = {expected}, SE {standardError}");
    }

    [Property(Replay = "(12345678,9)", MaxTest = 30)]
    public void Maximum_likelihood_recovers_the_parameters_of_each_family(ulong seed, byte familyPick, byte shapePick, DoNotSize<ushort> scaleBits)
    {
        var scalePick = scaleBits.Item; // unsized: FsCheck would keep a ushort ≤ 100, so scales ≤ 10 h only
        var shape = 0.4 + (shapePick % 27 / 10.0);   // 0.4 .. 3.0
        var scale = 0.1 + (scalePick % 500 / 10.0);  // 0.1 .. 50 h
        var truth = (familyPick % 4) switch
        {
            0 => DurationDistribution.Exponential(scale),
            1 => DurationDistribution.Weibull(shape, scale),
            2 => DurationDistribution.LogNormal(Math.Log(scale), shape),
            _ => DurationDistribution.Gamma(shape, scale),
        };
        var samples = Draw(truth, Samples, seed);
        var fit = truth.Family switch
        {
            "exponential" => DistributionFitting.Exponential(samples),
            "weibull" => DistributionFitting.Weibull(samples),
            "lognormal" => DistributionFitting.LogNormal(samples),
            _ => DistributionFitting.Gamma(samples),
        };

        // The fit passes KS at alpha (conservative with fitted parameters), and its median lies within 4 standard
        // errors of the sample median's: SE ≈ 1 / (2 f(m) √n) for the true density f at the true median m.
        var d = DistributionFitting.KolmogorovSmirnov(samples, fit);
        var critical = DistributionFitting.KolmogorovSmirnovCritical(Samples, Alpha);
        Assert.True(d < critical, $"{truth} fitted as {fit}: D = {d:0.0000} >= {critical:0.0000} (seed {seed})");
        var median = Median(truth);
        var standardError = 1 / (2 * Math.Exp(truth.LogDensity(median)) * Math.Sqrt(Samples));
        Assert.True(Math.Abs(Median(fit) - median) < 4 * standardError, $"{truth} fitted as {fit}: median {Median(fit)} vs {median}, SE {standardError} (seed {seed})");
        Assert.Equal(truth.Family, fit.Family);
    }

    [Fact]
    public void FitAll_ranks_the_generating_family_first()
    {
        foreach (var truth in new[]
        {
            DurationDistribution.Exponential(4),
            DurationDistribution.Weibull(0.5, 3),
            DurationDistribution.LogNormal(0.5, 1.5),
            DurationDistribution.Gamma(3, 2),
        })
        {
            var fits = DistributionFitting.FitAll(Draw(truth, 10_000, 21));
            Assert.Equal(truth.Family, fits[0].Distribution.Family);
            Assert.Equal(4, fits.Count);
            Assert.True(fits.Zip(fits.Skip(1)).All(p => p.First.Aic <= p.Second.Aic));
        }
    }

    [Fact]
    public void Fitting_rejects_bad_samples_with_clear_errors()
    {
        Assert.Contains("At least two", Assert.Throws<ArgumentException>(() => DistributionFitting.FitAll([1.0])).Message);
        Assert.Contains("positive", Assert.Throws<ArgumentException>(() => DistributionFitting.FitAll([1.0, -2])).Message);
        Assert.Contains("equal", Assert.Throws<ArgumentException>(() => DistributionFitting.Gamma([2.0, 2.0, 2.0])).Message);
    }

    [Fact]
    public void Empirical_distribution_resamples_its_data()
    {
        var data = new[] { 1.0, 2, 2, 5, 10 };
        var empirical = DurationDistribution.Empirical(data);
        Assert.Equal(4, empirical.Mean, 9);
        Assert.Equal(0.6, empirical.CumulativeProbability(2), 9);
        var draws = Draw(empirical, 50_000, 8);
        Assert.All(draws, d => Assert.Contains(d, data));
        Assert.Equal(4, draws.Average(), 0.1);
        Assert.Equal(134.0 / 20, Draw(empirical, 50_000, 9, lengthBiased: true).Average(), 0.15); // E[X^2]/E[X] = 26.8/4
    }

    internal static double[] Draw(DurationDistribution distribution, int count, ulong seed, bool lengthBiased = false)
    {
        var random = SplittableRandom.ForStream(seed, "distribution-tests");
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            samples[i] = lengthBiased ? distribution.SampleLengthBiased(random) : distribution.Sample(random);
        }

        return samples;
    }

    private static double LogGamma(double x) => MathNet.Numerics.SpecialFunctions.GammaLn(x);

    private static double Median(DurationDistribution distribution)
    {
        double low = 0, high = 1;
        while (distribution.CumulativeProbability(high) < 0.5)
        {
            high *= 2;
        }

        for (var i = 0; i < 200; i++)
        {
            var mid = (low + high) / 2;
            (low, high) = distribution.CumulativeProbability(mid) < 0.5 ? (mid, high) : (low, mid);
        }

        return (low + high) / 2;
    }
}
