using System.Globalization;
using MathNet.Numerics;
using VolunteerCloud.Randomness;

namespace VolunteerCloud.Simulator.Network;

/// <summary>A distribution of one-way message delays.</summary>
public abstract class LatencyModel
{
    /// <summary>The longest delay a model may produce: one day. Longer is not a network any more, and the cap keeps virtual time from overflowing.</summary>
    public static readonly TimeSpan MaxLatency = TimeSpan.FromDays(1);

    private protected LatencyModel()
    {
    }

    /// <summary>Every message takes exactly <paramref name="latency"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="latency"/> is negative or above <see cref="MaxLatency"/>.</exception>
    public static LatencyModel Constant(TimeSpan latency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(latency, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(latency, MaxLatency);
        return new ConstantLatency(latency.Ticks);
    }

    /// <summary>Delays drawn uniformly from [<paramref name="minimum"/>, <paramref name="maximum"/>] at tick resolution.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minimum"/> is negative or above <paramref name="maximum"/>, or <paramref name="maximum"/> is above <see cref="MaxLatency"/>.</exception>
    public static LatencyModel Uniform(TimeSpan minimum, TimeSpan maximum)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minimum, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maximum, minimum);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maximum, MaxLatency);
        return new UniformLatency(minimum.Ticks, maximum.Ticks);
    }

    /// <summary>
    /// Log-normal delays: ln(delay) is normal with mean ln(<paramref name="median"/>) and standard deviation
    /// <paramref name="sigma"/>. The usual shape of wide-area latency: most messages near the median, a long tail.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="median"/> is not positive, or <paramref name="sigma"/> is negative or not finite.</exception>
    public static LatencyModel LogNormal(TimeSpan median, double sigma)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(median, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(median, MaxLatency);
        if (!(sigma >= 0 && double.IsFinite(sigma)))
        {
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "Sigma must be a finite number of at least 0.");
        }

        return new LogNormalLatency(median.Ticks, sigma);
    }

    /// <summary>Draws one delay.</summary>
    public TimeSpan Sample(RandomSource random) => TimeSpan.FromTicks(SampleTicks(random));

    /// <summary>The probability that a delay is at most <paramref name="latency"/>.</summary>
    public abstract double CumulativeProbability(TimeSpan latency);

    internal abstract long SampleTicks(RandomSource random);

    private sealed class ConstantLatency(long ticks) : LatencyModel
    {
        public override double CumulativeProbability(TimeSpan latency) => latency.Ticks >= ticks ? 1.0 : 0.0;

        internal override long SampleTicks(RandomSource random) => ticks;

        public override string ToString() => $"constant {TimeSpan.FromTicks(ticks).TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms";
    }

    private sealed class UniformLatency(long minimum, long maximum) : LatencyModel
    {
        public override double CumulativeProbability(TimeSpan latency) =>
            latency.Ticks < minimum ? 0.0
            : latency.Ticks >= maximum ? 1.0
            : (latency.Ticks - minimum + 1) / (double)(maximum - minimum + 1);

        internal override long SampleTicks(RandomSource random) =>
            minimum == maximum ? minimum : minimum + random.NextInt64(maximum - minimum + 1);

        public override string ToString() =>
            $"uniform {TimeSpan.FromTicks(minimum).TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}–{TimeSpan.FromTicks(maximum).TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms";
    }

    private sealed class LogNormalLatency(long median, double sigma) : LatencyModel
    {
        private readonly double _mu = Math.Log(median);

        public override double CumulativeProbability(TimeSpan latency)
        {
            if (latency.Ticks <= 0)
            {
                return 0.0;
            }

            return sigma == 0
                ? (latency.Ticks >= median ? 1.0 : 0.0)
                : 0.5 * SpecialFunctions.Erfc(-(Math.Log(latency.Ticks) - _mu) / (sigma * Math.Sqrt(2)));
        }

        internal override long SampleTicks(RandomSource random)
        {
            var ticks = Math.Exp(_mu + (sigma * random.NextGaussian()));

            // A freak draw of the tail is capped at MaxLatency, like every model.
            return (long)Math.Min(Math.Round(ticks), MaxLatency.Ticks);
        }

        public override string ToString() =>
            $"log-normal median {TimeSpan.FromTicks(median).TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms, sigma {sigma.ToString(CultureInfo.InvariantCulture)}";
    }
}

/// <summary>
/// One-way latency between regions: entry [from, to] is the model for messages from a node in region
/// <c>from</c> to a node in region <c>to</c>. Regions are numbered 0 to <see cref="RegionCount"/> - 1.
/// </summary>
public sealed class RegionLatencyMatrix
{
    private readonly LatencyModel[] _models;

    /// <summary>The most regions a matrix may cover (4096, so the matrix holds at most 16 M entries).</summary>
    public const int MaxRegions = 4096;

    /// <summary>Creates a matrix with one model within regions and another across them.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="regionCount"/> is not in 1..<see cref="MaxRegions"/>.</exception>
    public RegionLatencyMatrix(int regionCount, LatencyModel withinRegion, LatencyModel acrossRegions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(regionCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(regionCount, MaxRegions);
        ArgumentNullException.ThrowIfNull(withinRegion);
        ArgumentNullException.ThrowIfNull(acrossRegions);
        RegionCount = regionCount;
        _models = new LatencyModel[regionCount * regionCount];
        for (var from = 0; from < regionCount; from++)
        {
            for (var to = 0; to < regionCount; to++)
            {
                _models[(from * regionCount) + to] = from == to ? withinRegion : acrossRegions;
            }
        }
    }

    /// <summary>How many regions the matrix covers.</summary>
    public int RegionCount { get; }

    /// <summary>The model for messages from region <paramref name="from"/> to region <paramref name="to"/>.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1814:Prefer jagged arrays over multidimensional", Justification = "An indexer, not an array.")]
    public LatencyModel this[int from, int to]
    {
        get => _models[Index(from, to)];
        set => _models[Index(from, to)] = value ?? throw new ArgumentNullException(nameof(value));
    }

    private int Index(int from, int to)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(from, RegionCount);
        ArgumentOutOfRangeException.ThrowIfNegative(to);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(to, RegionCount);
        return (from * RegionCount) + to;
    }
}
