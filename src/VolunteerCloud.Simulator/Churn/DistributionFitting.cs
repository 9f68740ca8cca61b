using MathNet.Numerics;
using MathNet.Numerics.RootFinding;

namespace VolunteerCloud.Simulator.Churn;

/// <summary>One candidate fitted to a sample.</summary>
/// <param name="Distribution">The maximum-likelihood fit.</param>
/// <param name="LogLikelihood">Log-likelihood of the sample under the fit (higher is better).</param>
/// <param name="KolmogorovSmirnov">The KS statistic D = sup |F_n(x) − F(x)| (lower is better).</param>
/// <param name="Parameters">Number of fitted parameters.</param>
public sealed record DistributionFit(DurationDistribution Distribution, double LogLikelihood, double KolmogorovSmirnov, int Parameters)
{
    /// <summary>Akaike's information criterion, 2k − 2 ln L (lower is better).</summary>
    public double Aic => (2 * Parameters) - (2 * LogLikelihood);
}

/// <summary>
/// Maximum-likelihood fits of interval lengths, as the availability literature fits them (Javadi et al., "Discovering
/// statistical models of availability in large distributed systems", MASCOTS 2009: exponential, Weibull, log-normal,
/// gamma by MLE, compared by goodness of fit).
/// </summary>
public static class DistributionFitting
{
    /// <summary>
    /// Fits all four candidates, best first by Akaike's information criterion (the exponential has one parameter
    /// fewer; Weibull and gamma contain it, so by likelihood alone it could never win).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two samples, or a sample that is not positive and finite.</exception>
    public static IReadOnlyList<DistributionFit> FitAll(IReadOnlyList<double> samples)
    {
        var sorted = Checked(samples);
        DurationDistribution[] candidates = [Exponential(sorted), Weibull(sorted), LogNormal(sorted), Gamma(sorted)];
        int[] parameters = [1, 2, 2, 2];
        return candidates
            .Select((d, i) => new DistributionFit(d, LogLikelihood(sorted, d), KolmogorovSmirnov(sorted, d), parameters[i]))
            .OrderBy(f => f.Aic)
            .ToList();
    }

    /// <summary>Exponential MLE: the mean.</summary>
    public static DurationDistribution Exponential(IReadOnlyList<double> samples) => DurationDistribution.Exponential(Checked(samples).Average());

    /// <summary>Log-normal MLE: mean and (biased, 1/n) standard deviation of the logarithms.</summary>
    public static DurationDistribution LogNormal(IReadOnlyList<double> samples)
    {
        var x = Checked(samples);
        var mu = x.Average(Math.Log);
        var variance = x.Average(v => Math.Pow(Math.Log(v) - mu, 2));
        return DurationDistribution.LogNormal(mu, Math.Sqrt(variance));
    }

    /// <summary>Weibull MLE, as the Sdk's availability-aware placement fits hosts (<see cref="Availability.Survival.FitWeibull"/>).</summary>
    public static DurationDistribution Weibull(IReadOnlyList<double> samples)
    {
        var (shape, scale) = Availability.Survival.FitWeibull(Checked(samples));
        return DurationDistribution.Weibull(shape, scale);
    }

    /// <summary>Gamma MLE: the shape a solves ln a − ψ(a) = ln(mean x) − mean(ln x) (Brent's method), then scale = mean / a.</summary>
    public static DurationDistribution Gamma(IReadOnlyList<double> samples)
    {
        var x = Checked(samples);
        var mean = x.Average();
        var s = Math.Log(mean) - x.Average(Math.Log);
        if (s <= 0)
        {
            throw new ArgumentException("All samples are equal; a gamma distribution cannot be fitted.", nameof(samples));
        }

        var shape = Solve(a => Math.Log(a) - SpecialFunctions.DiGamma(a) - s, 1e-4, 1e6);
        return DurationDistribution.Gamma(shape, mean / shape);
    }

    /// <summary>Σ ln f(x) under <paramref name="distribution"/>.</summary>
    public static double LogLikelihood(IEnumerable<double> samples, DurationDistribution distribution)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(distribution);
        return samples.Sum(distribution.LogDensity);
    }

    /// <summary>The one-sample Kolmogorov–Smirnov statistic D = sup |F_n(x) − F(x)|.</summary>
    public static double KolmogorovSmirnov(IReadOnlyList<double> samples, DurationDistribution distribution)
    {
        ArgumentNullException.ThrowIfNull(distribution);
        var x = Checked(samples);
        var n = x.Length;
        var d = 0.0;
        for (var i = 0; i < n; i++)
        {
            var f = distribution.CumulativeProbability(x[i]);
            d = Math.Max(d, Math.Max(((i + 1.0) / n) - f, f - ((double)i / n)));
        }

        return d;
    }

    /// <summary>
    /// The large-sample critical value of D at significance <paramref name="alpha"/>: c(α)/√n with
    /// c(α) = √(−ln(α/2)/2) (α = 0.05 gives 1.358/√n, α = 0.01 gives 1.628/√n). Valid when the distribution was
    /// not fitted to the same sample; with fitted parameters it is conservative (Lilliefors).
    /// </summary>
    public static double KolmogorovSmirnovCritical(int n, double alpha)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        if (!(alpha is > 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The significance must lie in (0, 1).");
        }

        return Math.Sqrt(-Math.Log(alpha / 2) / 2) / Math.Sqrt(n);
    }

    private static double[] Checked(IReadOnlyList<double> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count < 2)
        {
            throw new ArgumentException($"At least two samples are needed to fit a distribution (got {samples.Count}).", nameof(samples));
        }

        var sorted = samples.ToArray();
        foreach (var v in sorted)
        {
            if (!(v > 0) || !double.IsFinite(v))
            {
                throw new ArgumentException($"Interval lengths must be positive and finite (got {v}).", nameof(samples));
            }
        }

        Array.Sort(sorted);
        return sorted;
    }

    private static double Solve(Func<double, double> f, double low, double high)
    {
        if (Math.Sign(f(low)) == Math.Sign(f(high)))
        {
            throw new ArgumentException("The maximum-likelihood equation has no root in the searched range; the sample is degenerate.");
        }

        return Brent.FindRoot(f, low, high, 1e-10, 500);
    }
}
