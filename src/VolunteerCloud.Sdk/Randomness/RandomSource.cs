namespace VolunteerCloud.Randomness;

/// <summary>
/// A seeded source of random numbers: the only randomness allowed in strategies, the Sdk and the simulator.
/// Implementations supply 64 random bits at a time; everything else is derived here, identically for all.
/// </summary>
public abstract class RandomSource
{
    private const double DoubleUnit = 1.0 / (1UL << 53);

    /// <summary>Returns 64 uniformly distributed random bits.</summary>
    public abstract ulong NextUInt64();

    /// <summary>Returns 32 uniformly distributed random bits.</summary>
    public uint NextUInt32() => (uint)(NextUInt64() >> 32);

    /// <summary>Returns a uniform value in [0, 1) with 53 bits of precision.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * DoubleUnit;

    /// <summary>Returns a uniform integer in [0, <paramref name="maxExclusive"/>), without modulo bias.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is zero.</exception>
    public ulong NextUInt64(ulong maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfZero(maxExclusive);

        // Lemire, "Fast random integer generation in an interval" (ACM TOMACS 2019).
        var high = Math.BigMul(NextUInt64(), maxExclusive, out var low);
        if (low < maxExclusive)
        {
            var threshold = (0 - maxExclusive) % maxExclusive;
            while (low < threshold)
            {
                high = Math.BigMul(NextUInt64(), maxExclusive, out low);
            }
        }

        return high;
    }

    /// <summary>Returns a uniform integer in [0, <paramref name="maxExclusive"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is not positive.</exception>
    public int NextInt32(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        return (int)NextUInt64((ulong)maxExclusive);
    }

    /// <summary>Returns a uniform integer in [<paramref name="minInclusive"/>, <paramref name="maxExclusive"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty.</exception>
    public int NextInt32(int minInclusive, int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(minInclusive, maxExclusive);
        return (int)(minInclusive + (long)NextUInt64((ulong)((long)maxExclusive - minInclusive)));
    }

    /// <summary>Returns a uniform integer in [0, <paramref name="maxExclusive"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is not positive.</exception>
    public long NextInt64(long maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        return (long)NextUInt64((ulong)maxExclusive);
    }

    /// <summary>Returns <see langword="true"/> with probability <paramref name="probability"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="probability"/> is outside [0, 1].</exception>
    public bool NextBoolean(double probability)
    {
        if (!(probability >= 0.0 && probability <= 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "A probability must lie in [0, 1].");
        }

        return NextDouble() < probability;
    }

    /// <summary>Returns a uniform duration in [0, <paramref name="maxExclusive"/>), at tick resolution.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is not positive.</exception>
    public TimeSpan NextTimeSpan(TimeSpan maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxExclusive, TimeSpan.Zero);
        return TimeSpan.FromTicks(NextInt64(maxExclusive.Ticks));
    }

    /// <summary>Returns an exponentially distributed value with the given mean.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mean"/> is not positive.</exception>
    public double NextExponential(double mean)
    {
        if (!(mean > 0.0))
        {
            throw new ArgumentOutOfRangeException(nameof(mean), mean, "The mean must be positive.");
        }

        // 1 - U lies in (0, 1], so the logarithm is finite.
        return -mean * Math.Log(1.0 - NextDouble());
    }

    /// <summary>Returns a standard normal value (mean 0, standard deviation 1), by the Box–Muller transform.</summary>
    public double NextGaussian()
    {
        // Stateless on purpose (no cached second value): a stream's state is just its 64-bit seed.
        var u1 = 1.0 - NextDouble();
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Shuffles <paramref name="values"/> in place (Fisher–Yates), every permutation equally likely.</summary>
    public void Shuffle<T>(Span<T> values)
    {
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = NextInt32(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
