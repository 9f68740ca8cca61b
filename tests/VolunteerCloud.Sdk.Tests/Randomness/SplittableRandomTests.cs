using FsCheck;
using FsCheck.Xunit;
using VolunteerCloud.Randomness;

namespace VolunteerCloud.Sdk.Tests.Randomness;

public sealed class SplittableRandomTests
{
    // Values printed by java.util.SplittableRandom (OpenJDK 17) for the same seeds: the algorithm matches bit for bit.
    [Fact]
    public void Matches_java_SplittableRandom_for_seed_zero()
    {
        var random = new SplittableRandom(0);

        Assert.Equal(0xE220A8397B1DCDAFUL, random.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, random.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, random.NextUInt64());
    }

    [Fact]
    public void Splits_like_java_SplittableRandom()
    {
        var root = new SplittableRandom(42);
        var first = root.Split();
        var second = root.Split();

        Assert.Equal(0x97C372BE01959835UL, first.NextUInt64());
        Assert.Equal(0x4B16E43727C1D26CUL, first.NextUInt64());
        Assert.Equal(0x31697C586280C6ADUL, second.NextUInt64());
        Assert.Equal(0x9B1820D6E351BDB4UL, second.NextUInt64());
        Assert.Equal(0x09BC585A244823F2UL, root.NextUInt64());
    }

    [Property]
    public bool ForStream_equals_the_nth_split(ulong seed, byte streamIndex)
    {
        var root = new SplittableRandom(seed);
        SplittableRandom split = null!;
        for (var i = 0; i <= streamIndex; i++)
        {
            split = root.Split();
        }

        var direct = SplittableRandom.ForStream(seed, streamIndex);
        return split.NextUInt64() == direct.NextUInt64() && split.NextUInt64() == direct.NextUInt64();
    }

    [Fact]
    public void Same_seed_gives_the_same_sequence_and_another_seed_another()
    {
        var a = SplittableRandom.ForStream(7, 3);
        var b = SplittableRandom.ForStream(7, 3);
        var c = SplittableRandom.ForStream(8, 3);
        var sa = Enumerable.Range(0, 100).Select(_ => a.NextUInt64()).ToArray();
        var sb = Enumerable.Range(0, 100).Select(_ => b.NextUInt64()).ToArray();
        var sc = Enumerable.Range(0, 100).Select(_ => c.NextUInt64()).ToArray();

        Assert.Equal(sa, sb);
        Assert.NotEqual(sa, sc);
    }

    [Fact]
    public void Neighbouring_streams_are_uncorrelated()
    {
        // Streams 0 and 1 of one seed: the Pearson correlation of 100 000 paired uniforms is within 5 standard
        // errors (1/sqrt(n)) of zero.
        const int n = 100_000;
        var x = SplittableRandom.ForStream(1, 0);
        var y = SplittableRandom.ForStream(1, 1);
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (var i = 0; i < n; i++)
        {
            var u = x.NextDouble();
            var v = y.NextDouble();
            sx += u;
            sy += v;
            sxx += u * u;
            syy += v * v;
            sxy += u * v;
        }

        var correlation = ((n * sxy) - (sx * sy)) / Math.Sqrt(((n * sxx) - (sx * sx)) * ((n * syy) - (sy * sy)));
        Assert.InRange(correlation, -5 / Math.Sqrt(n), 5 / Math.Sqrt(n));
    }

    [Theory]
    [InlineData("network", 6345747346223794483UL)]
    [InlineData("averaging.topology", 14615399635303284452UL)]
    [InlineData("test.churn", 9494501628670058952UL)]
    public void The_projects_named_streams_are_stable_and_far_from_node_streams(string purpose, ulong expected)
    {
        var index = SplitMix64.StreamIndexFor(purpose);

        // Pinned (computed outside .NET from FNV-1a and the SplitMix64 finalizer): a per-process hash would change it.
        Assert.Equal(expected, index);
        Assert.NotEqual(index, SplitMix64.StreamIndexFor(purpose + "."));

        // Stream seeds use 2 * index, so a named stream meets node i's only if index = i modulo 2^63.
        Assert.True((index & ~(1UL << 63)) > 1UL << 40, $"{purpose} hashes to {index}");
        Assert.Equal(
            SplittableRandom.ForStream(5, index).NextUInt64(),
            SplittableRandom.ForStream(5, purpose).NextUInt64());
    }

    [Property]
    public bool ForStream_index_enters_modulo_two_to_the_63(DoNotSize<ulong> seed, DoNotSize<ulong> index) =>
        SplittableRandom.ForStream(seed.Item, index.Item).NextUInt64() == SplittableRandom.ForStream(seed.Item, index.Item ^ (1UL << 63)).NextUInt64();

    [Property]
    public bool Every_gamma_is_odd(DoNotSize<ulong> z) => (SplitMix64.MixGamma(z.Item) & 1) == 1;
}
