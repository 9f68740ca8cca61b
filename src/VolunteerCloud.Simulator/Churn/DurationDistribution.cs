using System.Globalization;
using MathNet.Numerics;
using VolunteerCloud.Randomness;
using Dist = MathNet.Numerics.Distributions;

namespace VolunteerCloud.Simulator.Churn;

/// <summary>
/// A distribution of interval lengths in hours (up or down times of a volunteer host). Sampling uses the
/// project's seeded <see cref="RandomSource"/>; densities and CDFs come from MathNet.Numerics.
/// </summary>
public abstract class DurationDistribution
{
    private protected DurationDistribution()
    {
    }

    /// <summary>A short name: exponential, weibull, lognormal, gamma, hyperexponential, empirical.</summary>
    public abstract string Family { get; }

    /// <summary>The mean, in hours.</summary>
    public abstract double Mean { get; }

    /// <summary>Marsaglia and Tsang (2000); shapes below 1 by Gamma(k + 1)·U^(1/k).</summary>
    private protected static double StandardGamma(RandomSource random, double k)
    {
        if (k < 1)
        {
            return StandardGamma(random, k + 1) * Math.Pow(1 - random.NextDouble(), 1 / k);
        }

        var d = k - (1.0 / 3);
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = random.NextGaussian();
                v = 1 + (c * x);
            }
            while (v <= 0);

            v = v * v * v;
            var u = random.NextDouble();
            if (u < 1 - (0.0331 * x * x * x * x) || Math.Log(u) < (0.5 * x * x) + (d * (1 - v + Math.Log(v))))
            {
                return d * v;
            }
        }
    }

    /// <summary>Draws one length, in hours (always positive).</summary>
    public abstract double Sample(RandomSource random);

    /// <summary>P(X ≤ <paramref name="hours"/>).</summary>
    public abstract double CumulativeProbability(double hours);

    /// <summary>
    /// Draws from the length-biased distribution x·f(x)/E[X]: the length of the interval that covers a random
    /// instant (the inspection paradox). Used to start hosts in their stationary state, where heavy tails make
    /// a warm-up of any practical length wrong: for SETI@home's log-normal down times (σ 2.844) the interval
    /// covering a random instant has a median of about 75 days. Exact for every family: exponential and gamma
    /// gain one in shape, log-normal shifts μ by σ², Weibull(k, λ) is λ·G^(1/k) with G ~ Gamma(1 + 1/k).
    /// </summary>
    public abstract double SampleLengthBiased(RandomSource random);

    /// <summary>ln f(<paramref name="hours"/>), for log-likelihoods.</summary>
    public abstract double LogDensity(double hours);

    /// <summary>The same distribution with every length multiplied by <paramref name="factor"/>.</summary>
    public abstract DurationDistribution Scaled(double factor);

    /// <summary>Exponential with the given mean (hours).</summary>
    public static DurationDistribution Exponential(double mean) => new ExponentialDistribution(Positive(mean, nameof(mean)));

    /// <summary>Weibull with shape k and scale λ (hours): P(X > x) = exp(−(x/λ)^k).</summary>
    public static DurationDistribution Weibull(double shape, double scale) =>
        new WeibullDistribution(Positive(shape, nameof(shape)), Positive(scale, nameof(scale)));

    /// <summary>Log-normal: ln X ~ Normal(<paramref name="mu"/>, <paramref name="sigma"/>), X in hours.</summary>
    public static DurationDistribution LogNormal(double mu, double sigma)
    {
        if (!double.IsFinite(mu))
        {
            throw new ArgumentOutOfRangeException(nameof(mu), mu, "mu must be a finite number.");
        }

        return new LogNormalDistribution(mu, Positive(sigma, nameof(sigma)));
    }

    /// <summary>Gamma with shape k and scale θ (hours), mean kθ.</summary>
    public static DurationDistribution Gamma(double shape, double scale) =>
        new GammaDistribution(Positive(shape, nameof(shape)), Positive(scale, nameof(scale)));

    /// <summary>A mixture of exponentials: with probability p_i, an exponential of mean m_i (hours).</summary>
    /// <exception cref="ArgumentException">The phases are empty, a probability or mean is not positive, or the probabilities do not sum to 1.</exception>
    public static DurationDistribution HyperExponential(IReadOnlyList<(double Probability, double Mean)> phases)
    {
        ArgumentNullException.ThrowIfNull(phases);
        if (phases.Count == 0 || phases.Any(p => !(p.Probability > 0) || !(p.Mean > 0) || !double.IsFinite(p.Mean)))
        {
            throw new ArgumentException("A hyper-exponential needs at least one phase, each with a positive probability and a positive finite mean.", nameof(phases));
        }

        var total = phases.Sum(p => p.Probability);
        if (Math.Abs(total - 1) > 1e-9)
        {
            throw new ArgumentException($"The phase probabilities must sum to 1 (they sum to {total.ToString(CultureInfo.InvariantCulture)}).", nameof(phases));
        }

        return new HyperExponentialDistribution([.. phases]);
    }

    /// <summary>Resamples observed lengths (hours): the empirical distribution of the data.</summary>
    /// <exception cref="ArgumentException">No lengths, or a length that is not positive and finite.</exception>
    public static DurationDistribution Empirical(IEnumerable<double> hours)
    {
        ArgumentNullException.ThrowIfNull(hours);
        var sorted = hours.ToArray();
        if (sorted.Length == 0 || sorted.Any(h => !(h > 0) || !double.IsFinite(h)))
        {
            throw new ArgumentException("An empirical distribution needs at least one length, all positive and finite.", nameof(hours));
        }

        Array.Sort(sorted);
        return new EmpiricalDistribution(sorted);
    }

    /// <summary>Draws a length and returns it as a duration (at least one tick).</summary>
    public TimeSpan SampleDuration(RandomSource random) => Hours(Sample(random));

    internal static TimeSpan Hours(double hours) =>
        TimeSpan.FromTicks(Math.Max(1, (long)Math.Min(hours * TimeSpan.TicksPerHour, TimeSpan.MaxValue.Ticks / 4)));

    private static double Positive(double value, string name) =>
        value > 0 && double.IsFinite(value)
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must be a positive finite number.");

    private static string F(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private sealed class ExponentialDistribution(double mean) : DurationDistribution
    {
        public override string Family => "exponential";

        public override double Mean => mean;

        public override double Sample(RandomSource random) => Math.Max(double.Epsilon, random.NextExponential(mean));

        public override double CumulativeProbability(double hours) => hours <= 0 ? 0 : 1 - Math.Exp(-hours / mean);

        public override double LogDensity(double hours) => hours < 0 ? double.NegativeInfinity : -Math.Log(mean) - (hours / mean);

        public override double SampleLengthBiased(RandomSource random) => Math.Max(double.Epsilon, mean * StandardGamma(random, 2));

        public override DurationDistribution Scaled(double factor) => new ExponentialDistribution(mean * factor);

        public override string ToString() => $"Exp(mean {F(mean)} h)";
    }

    private sealed class WeibullDistribution(double shape, double scale) : DurationDistribution
    {
        public override string Family => "weibull";

        public override double Mean => scale * SpecialFunctions.Gamma(1 + (1 / shape));

        public override double Sample(RandomSource random) =>
            Math.Max(double.Epsilon, scale * Math.Pow(-Math.Log(1 - random.NextDouble()), 1 / shape));

        public override double CumulativeProbability(double hours) => hours <= 0 ? 0 : Dist.Weibull.CDF(shape, scale, hours);

        public override double LogDensity(double hours) => Dist.Weibull.PDFLn(shape, scale, hours);

        public override double SampleLengthBiased(RandomSource random) =>
            Math.Max(double.Epsilon, scale * Math.Pow(StandardGamma(random, 1 + (1 / shape)), 1 / shape));

        public override DurationDistribution Scaled(double factor) => new WeibullDistribution(shape, scale * factor);

        public override string ToString() => $"Weibull(shape {F(shape)}, scale {F(scale)} h)";
    }

    private sealed class LogNormalDistribution(double mu, double sigma) : DurationDistribution
    {
        public override string Family => "lognormal";

        public override double Mean => Math.Exp(mu + (sigma * sigma / 2));

        public override double Sample(RandomSource random) => Math.Max(double.Epsilon, Math.Exp(mu + (sigma * random.NextGaussian())));

        public override double CumulativeProbability(double hours) => hours <= 0 ? 0 : Dist.LogNormal.CDF(mu, sigma, hours);

        public override double LogDensity(double hours) => Dist.LogNormal.PDFLn(mu, sigma, hours);

        public override double SampleLengthBiased(RandomSource random) =>
            Math.Max(double.Epsilon, Math.Exp(mu + (sigma * sigma) + (sigma * random.NextGaussian())));

        public override DurationDistribution Scaled(double factor) => new LogNormalDistribution(mu + Math.Log(factor), sigma);

        public override string ToString() => $"LogNormal(mu {F(mu)}, sigma {F(sigma)})";
    }

    private sealed class GammaDistribution(double shape, double scale) : DurationDistribution
    {
        public override string Family => "gamma";

        public override double Mean => shape * scale;

        public override double Sample(RandomSource random) => Math.Max(double.Epsilon, scale * StandardGamma(random, shape));

        public override double CumulativeProbability(double hours) => hours <= 0 ? 0 : Dist.Gamma.CDF(shape, 1 / scale, hours);

        public override double LogDensity(double hours) => Dist.Gamma.PDFLn(shape, 1 / scale, hours);

        public override double SampleLengthBiased(RandomSource random) => Math.Max(double.Epsilon, scale * StandardGamma(random, shape + 1));

        public override DurationDistribution Scaled(double factor) => new GammaDistribution(shape, scale * factor);

        public override string ToString() => $"Gamma(shape {F(shape)}, scale {F(scale)} h)";

    }

    private sealed class HyperExponentialDistribution((double Probability, double Mean)[] phases) : DurationDistribution
    {
        public override string Family => "hyperexponential";

        public override double Mean => phases.Sum(p => p.Probability * p.Mean);

        public override double Sample(RandomSource random)
        {
            var u = random.NextDouble();
            foreach (var (probability, mean) in phases)
            {
                if ((u -= probability) < 0)
                {
                    return Math.Max(double.Epsilon, random.NextExponential(mean));
                }
            }

            return Math.Max(double.Epsilon, random.NextExponential(phases[^1].Mean));
        }

        public override double CumulativeProbability(double hours) =>
            hours <= 0 ? 0 : phases.Sum(p => p.Probability * (1 - Math.Exp(-hours / p.Mean)));

        public override double LogDensity(double hours) =>
            hours < 0 ? double.NegativeInfinity : Math.Log(phases.Sum(p => p.Probability / p.Mean * Math.Exp(-hours / p.Mean)));

        public override double SampleLengthBiased(RandomSource random)
        {
            // The covering interval's phase is chosen in proportion to p·m; within a phase it is Gamma(2, m).
            var u = random.NextDouble() * Mean;
            foreach (var (probability, mean) in phases)
            {
                if ((u -= probability * mean) < 0)
                {
                    return Math.Max(double.Epsilon, mean * StandardGamma(random, 2));
                }
            }

            return Math.Max(double.Epsilon, phases[^1].Mean * StandardGamma(random, 2));
        }

        public override DurationDistribution Scaled(double factor) =>
            new HyperExponentialDistribution([.. phases.Select(p => (p.Probability, p.Mean * factor))]);

        public override string ToString() => $"HyperExp({string.Join(", ", phases.Select(p => $"{F(p.Probability)}×mean {F(p.Mean)} h"))})";
    }

    private sealed class EmpiricalDistribution(double[] sorted) : DurationDistribution
    {
        private double[]? _cumulative;

        public override string Family => "empirical";

        public override double Mean => sorted.Average();

        public override double Sample(RandomSource random) => sorted[random.NextInt32(sorted.Length)];

        public override double CumulativeProbability(double hours)
        {
            var index = Array.BinarySearch(sorted, hours);
            if (index < 0)
            {
                index = ~index;
            }
            else
            {
                while (index < sorted.Length && sorted[index] <= hours)
                {
                    index++;
                }
            }

            return index / (double)sorted.Length;
        }

        public override double LogDensity(double hours) => throw new NotSupportedException("An empirical distribution has no density.");

        public override double SampleLengthBiased(RandomSource random)
        {
            // A sample is chosen in proportion to its length.
            var cumulative = _cumulative ??= Cumulative(sorted);
            var target = random.NextDouble() * cumulative[^1];
            var index = Array.BinarySearch(cumulative, target);
            index = index < 0 ? ~index : index + 1;
            return sorted[Math.Min(index, sorted.Length - 1)];
        }

        public override DurationDistribution Scaled(double factor) => new EmpiricalDistribution([.. sorted.Select(h => h * factor)]);

        private static double[] Cumulative(double[] values)
        {
            var sums = new double[values.Length];
            var total = 0.0;
            for (var i = 0; i < values.Length; i++)
            {
                sums[i] = total += values[i];
            }

            return sums;
        }

        public override string ToString() => $"Empirical({sorted.Length} lengths, mean {F(Mean)} h)";
    }
}
