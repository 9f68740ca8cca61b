using FsCheck;
using FsCheck.Xunit;
using VolunteerCloud.Randomness;

namespace VolunteerCloud.Sdk.Tests.Randomness;

public sealed class RandomSourceTests
{
    [Property]
    public bool NextInt32_stays_in_range(DoNotSize<ulong> seed, DoNotSize<int> rawMax, byte drop)
    {
        var max = Math.Max(1, (rawMax.Item & int.MaxValue) >> (drop % 31)); // every magnitude, not only FsCheck's sized ≤ 100
        var random = new SplittableRandom(seed.Item);
        return Enumerable.Range(0, 50).All(_ => random.NextInt32(max) is var v && v >= 0 && v < max);
    }

    [Property]
    public bool NextInt32_with_bounds_stays_in_range(ulong seed, DoNotSize<int> a, DoNotSize<int> b)
    {
        if (a.Item == b.Item)
        {
            return true;
        }

        var (min, max) = a.Item < b.Item ? (a.Item, b.Item) : (b.Item, a.Item);
        var random = new SplittableRandom(seed);
        return Enumerable.Range(0, 50).All(_ => random.NextInt32(min, max) is var v && v >= min && v < max);
    }

    [Property]
    public bool NextDouble_is_in_the_unit_interval(ulong seed)
    {
        var random = new SplittableRandom(seed);
        return Enumerable.Range(0, 100).All(_ => random.NextDouble() is >= 0.0 and < 1.0);
    }

    [Fact]
    public void The_widest_ranges_work()
    {
        var random = new SplittableRandom(8);
        var draws = Enumerable.Range(0, 1000).Select(_ => random.NextInt32(int.MinValue, int.MaxValue)).ToList();

        Assert.Contains(draws, d => d < -1_000_000_000);
        Assert.Contains(draws, d => d > 1_000_000_000);
        Assert.DoesNotContain(int.MaxValue, draws);
        Assert.All(Enumerable.Range(0, 1000), _ => Assert.InRange(random.NextUInt64(ulong.MaxValue), 0UL, ulong.MaxValue - 1));
    }

    [Fact]
    public void NextInt32_is_uniform_by_chi_square()
    {
        // 10 bins, 100 000 draws: the chi-square statistic (9 degrees of freedom) stays below 27.88, its 0.001 quantile.
        var random = new SplittableRandom(2024);
        var counts = new int[10];
        for (var i = 0; i < 100_000; i++)
        {
            counts[random.NextInt32(10)]++;
        }

        var chiSquare = counts.Sum(c => Math.Pow(c - 10_000, 2) / 10_000);
        Assert.True(chiSquare < 27.88, $"chi-square {chiSquare}");
    }

    [Fact]
    public void NextGaussian_has_mean_zero_and_unit_variance()
    {
        var random = new SplittableRandom(99);
        var samples = Enumerable.Range(0, 200_000).Select(_ => random.NextGaussian()).ToArray();
        var mean = samples.Average();
        var variance = samples.Select(s => (s - mean) * (s - mean)).Average();

        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(variance, 0.98, 1.02);
    }

    [Fact]
    public void NextExponential_has_the_requested_mean()
    {
        var random = new SplittableRandom(3);
        var mean = Enumerable.Range(0, 200_000).Select(_ => random.NextExponential(2.5)).Average();

        Assert.InRange(mean, 2.5 * 0.98, 2.5 * 1.02);
    }

    [Property]
    public bool Shuffle_permutes(ulong seed, int[] values)
    {
        var copy = values.ToArray();
        new SplittableRandom(seed).Shuffle(copy.AsSpan());
        return copy.Order().SequenceEqual(values.Order());
    }

    [Fact]
    public void Bad_arguments_are_refused_with_the_parameter_named()
    {
        var random = new SplittableRandom(1);

        Assert.Equal("maxExclusive", Assert.Throws<ArgumentOutOfRangeException>(() => random.NextInt32(0)).ParamName);
        Assert.Equal("probability", Assert.Throws<ArgumentOutOfRangeException>(() => random.NextBoolean(1.5)).ParamName);
        Assert.Equal("probability", Assert.Throws<ArgumentOutOfRangeException>(() => random.NextBoolean(double.NaN)).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentOutOfRangeException>(() => random.NextExponential(0)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => random.NextInt32(5, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => random.NextTimeSpan(TimeSpan.Zero));
    }

    [Fact]
    public void NextBoolean_matches_its_probability()
    {
        var random = new SplittableRandom(11);
        var trues = Enumerable.Range(0, 100_000).Count(_ => random.NextBoolean(0.3));

        // Binomial(100 000, 0.3): standard deviation 145; allow five.
        Assert.InRange(trues, 30_000 - 725, 30_000 + 725);
    }
}
