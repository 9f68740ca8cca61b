using Bogus;
using VolunteerCloud.Containers;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Churn;
using VolunteerCloud.Simulator.Containers;
using VolunteerCloud.Simulator.Network;

namespace VolunteerCloud.Simulator.Population;

/// <summary>Where a volunteer is; drives the network latency matrix (<see cref="VolunteerPopulation.LatencyMatrix"/>).</summary>
public enum Region : byte
{
    /// <summary>North America (UTC−6 for allowed hours).</summary>
    NorthAmerica = 0,

    /// <summary>Europe (UTC+1).</summary>
    Europe = 1,

    /// <summary>Asia (UTC+8).</summary>
    Asia = 2,

    /// <summary>South America (UTC−3).</summary>
    SouthAmerica = 3,

    /// <summary>Oceania (UTC+10).</summary>
    Oceania = 4,

    /// <summary>Africa (UTC+2).</summary>
    Africa = 5,
}

/// <summary>
/// One volunteer: the machine and what its owner lets the project use. A value type without strings (56 bytes), so
/// a million profiles fit in 56 MB.
/// </summary>
/// <param name="Region">Where the machine is.</param>
/// <param name="Cores">Logical CPU cores.</param>
/// <param name="MemoryBytes">Installed memory.</param>
/// <param name="DiskBytes">Free disk.</param>
/// <param name="Gflops">Speed of one core, GFLOPS (BOINC's Whetstone measure).</param>
/// <param name="DownloadBitsPerSecond">Download bandwidth.</param>
/// <param name="UploadBitsPerSecond">Upload bandwidth.</param>
/// <param name="CpuShare">Owner cap: share of the cores the project may use, in (0, 1].</param>
/// <param name="MemoryShare">Owner cap: share of the memory, in (0, 1].</param>
/// <param name="DiskShare">Owner cap: share of the free disk, in (0, 1].</param>
/// <param name="AllowedFromHour">Owner cap: start of the daily window the project may run in, UTC hour 0–23.</param>
/// <param name="AllowedToHour">End of the window (exclusive), UTC hour 0–24; 0 to 24 means all day (<see cref="AllDay"/>), a window with end below start wraps past midnight.</param>
public readonly record struct VolunteerProfile(
    Region Region,
    short Cores,
    long MemoryBytes,
    long DiskBytes,
    float Gflops,
    float DownloadBitsPerSecond,
    float UploadBitsPerSecond,
    float CpuShare,
    float MemoryShare,
    float DiskShare,
    byte AllowedFromHour,
    byte AllowedToHour)
{
    /// <summary>Whether the owner allows the project at every hour (the window is 0–24).</summary>
    public bool AllDay => AllowedFromHour == 0 && AllowedToHour == 24;

    /// <summary>What containers may use in all: the owner's caps applied to the machine.</summary>
    public ResourceAmount Caps => new(Math.Round(Cores * (double)CpuShare, 2), (long)(MemoryBytes * (double)MemoryShare));

    /// <summary>The machine as the simulated container engine sees it.</summary>
    public SimulatedHost ToSimulatedHost() => new(Caps, (long)(DiskBytes * (double)DiskShare), DownloadBitsPerSecond);

    /// <summary>Whether the owner allows the project at this UTC hour of the day (the window may wrap past midnight).</summary>
    public bool AllowsHour(int hourOfDay)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hourOfDay);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hourOfDay, 23);
        return AllDay || (AllowedFromHour < AllowedToHour
            ? hourOfDay >= AllowedFromHour && hourOfDay < AllowedToHour
            : hourOfDay >= AllowedFromHour || hourOfDay < AllowedToHour);
    }

    /// <summary>
    /// A churn timeline cut to the allowed hours: the host counts as up only when the churn process says up and the
    /// owner's window is open (simulation time zero is 00:00 UTC). Adjacent pieces of one state are merged.
    /// </summary>
    public IEnumerable<AvailabilityInterval> RestrictToAllowedHours(IEnumerable<AvailabilityInterval> timeline)
    {
        ArgumentNullException.ThrowIfNull(timeline);
        return AllDay ? timeline : Merge(Cut(timeline));
    }

    private IEnumerable<AvailabilityInterval> Cut(IEnumerable<AvailabilityInterval> timeline)
    {
        foreach (var interval in timeline)
        {
            if (!interval.Up)
            {
                yield return interval;
                continue;
            }

            var time = interval.StartHours;
            while (time < interval.EndHours)
            {
                var hour = (int)(Math.Floor(time) % 24);
                var allowed = AllowsHour(hour);
                var next = Math.Min(Math.Floor(time) + 1, interval.EndHours);
                while (next < interval.EndHours && AllowsHour((int)(next % 24)) == allowed)
                {
                    next = Math.Min(next + 1, interval.EndHours);
                }

                yield return new AvailabilityInterval(allowed, time, next);
                time = next;
            }
        }
    }

    private static IEnumerable<AvailabilityInterval> Merge(IEnumerable<AvailabilityInterval> pieces)
    {
        AvailabilityInterval? pending = null;
        foreach (var piece in pieces)
        {
            if (pending is { } open && open.Up == piece.Up)
            {
                pending = open with { EndHours = piece.EndHours };
                continue;
            }

            if (pending is { } done)
            {
                yield return done;
            }

            pending = piece;
        }

        if (pending is { } last)
        {
            yield return last;
        }
    }
}

/// <summary>
/// Reproducible populations of volunteers, generated with Bogus from a seed. Volunteer i is drawn from its own
/// stream (stream i of the seed's "population" stream), so a population of n is a prefix of a population of
/// n + 1 and any volunteer can be generated alone. Distributions:
/// <list type="bullet">
/// <item><description>CPU speed per core: exponential with mean 5.77 GFLOPS clipped to [0.07, 117.71] — ComBoS's
/// defaults, validated against SETI@home (Alonso-Monsalve, García-Carballeira and Calderón, "ComBoS: A complete
/// simulator of Volunteer Computing and Desktop Grids", 2017).</description></item>
/// <item><description>Region shares, cores, memory, disk, bandwidth and owner caps: assumptions of this project,
/// shaped after BOINC's host statistics and default computing preferences (use at most 100% of CPUs; 50% of memory
/// while in use, 90% when idle; all day). Change them through <see cref="PopulationOptions"/>.</description></item>
/// </list>
/// </summary>
public static class VolunteerPopulation
{
    /// <summary>ComBoS's mean CPU speed, GFLOPS.</summary>
    public const double MeanGflops = 5.77;

    /// <summary>ComBoS's lower clip, GFLOPS.</summary>
    public const double MinGflops = 0.07;

    /// <summary>ComBoS's upper clip, GFLOPS.</summary>
    public const double MaxGflops = 117.71;

    // Owner caps: BOINC's defaults (all CPUs, 50% of memory while in use, 90% idle) are the most common choices.
    private static readonly float[] CpuShares = [1.0f, 0.75f, 0.5f, 0.25f];
    private static readonly float[] CpuShareWeights = [0.6f, 0.1f, 0.2f, 0.1f];
    private static readonly float[] MemoryShares = [0.5f, 0.9f, 0.25f];
    private static readonly float[] MemoryShareWeights = [0.6f, 0.3f, 0.1f];
    private static readonly float[] DiskShares = [0.9f, 0.5f, 0.1f];
    private static readonly float[] DiskShareWeights = [0.5f, 0.3f, 0.2f];

    /// <summary>Volunteer <paramref name="index"/> of the population of <paramref name="seed"/>.</summary>
    public static VolunteerProfile Generate(ulong seed, int index, PopulationOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        options ??= PopulationOptions.Default;
        var stream = SplittableRandom.ForStream(SplitMix64.Mix64(seed ^ SplitMix64.StreamIndexFor("population")), (ulong)index);
        var bogus = new Randomizer(unchecked((int)stream.NextUInt64()));

        var tables = options.Tables;
        var region = bogus.WeightedRandom(tables.Regions, tables.RegionWeights);
        var cores = bogus.WeightedRandom(tables.Cores, tables.CoreWeights);
        var memoryGiB = Math.Max(bogus.WeightedRandom(tables.MemoryGiB, tables.MemoryWeights), cores / 2.0);
        var diskGb = Math.Clamp(Math.Exp(Math.Log(options.MedianFreeDiskGb) + (0.8 * Gaussian(bogus))), 5, 4000);
        var gflops = Math.Clamp(-MeanGflops * Math.Log(1 - bogus.Double()), MinGflops, MaxGflops);
        var download = Math.Clamp(Math.Exp(Math.Log(options.MedianDownloadMbps) + Gaussian(bogus)), 1, 2000) * 1e6;
        var upload = download * bogus.Double(0.1, 0.5);
        var cpuShare = bogus.WeightedRandom(CpuShares, CpuShareWeights);
        var memoryShare = bogus.WeightedRandom(MemoryShares, MemoryShareWeights);
        var diskShare = bogus.WeightedRandom(DiskShares, DiskShareWeights);
        byte from = 0, to = 24;
        if (bogus.Bool((float)options.RestrictedHoursShare))
        {
            // Nights (18:00–08:00 local) or evenings and nights (22:00–07:00 local), in UTC.
            var (localFrom, localTo) = bogus.Bool() ? (18, 8) : (22, 7);
            var offset = UtcOffsetHours(region);
            from = (byte)(((localFrom - offset) % 24 + 24) % 24);
            to = (byte)(((localTo - offset) % 24 + 24) % 24);
        }

        return new VolunteerProfile(
            region,
            (short)cores,
            (long)(memoryGiB * (1L << 30)),
            (long)(diskGb * 1e9),
            (float)gflops,
            (float)download,
            (float)upload,
            cpuShare,
            memoryShare,
            diskShare,
            from,
            to);
    }

    /// <summary>The first <paramref name="count"/> volunteers of the population of <paramref name="seed"/>.</summary>
    public static VolunteerProfile[] GenerateMany(ulong seed, int count, PopulationOptions? options = null, bool parallel = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var profiles = new VolunteerProfile[count];
        if (parallel && count >= 10_000)
        {
            Parallel.For(0, count, i => profiles[i] = Generate(seed, i, options));
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                profiles[i] = Generate(seed, i, options);
            }
        }

        return profiles;
    }

    /// <summary>The region's offset from UTC used for allowed hours.</summary>
    public static int UtcOffsetHours(Region region) => region switch
    {
        Region.NorthAmerica => -6,
        Region.Europe => 1,
        Region.Asia => 8,
        Region.SouthAmerica => -3,
        Region.Oceania => 10,
        Region.Africa => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(region), region, "Unknown region."),
    };

    /// <summary>
    /// One-way latency between the six regions: log-normal with σ 0.3 around medians of half the typical public
    /// round-trip times between continents (e.g. Europe–North America 45 ms, Europe–Asia 110 ms, within Europe 15 ms).
    /// An approximation for experiments, not a measurement.
    /// </summary>
    public static RegionLatencyMatrix LatencyMatrix()
    {
        double[,] medians =
        {
            // NA   EU   Asia  SA   Oc   Af
            { 20, 45, 90, 70, 80, 110 },
            { 45, 15, 110, 100, 140, 80 },
            { 90, 110, 35, 160, 65, 130 },
            { 70, 100, 160, 30, 150, 170 },
            { 80, 140, 65, 150, 15, 180 },
            { 110, 80, 130, 170, 180, 40 },
        };
        var matrix = new RegionLatencyMatrix(6, LatencyModel.Constant(TimeSpan.Zero), LatencyModel.Constant(TimeSpan.Zero));
        for (var from = 0; from < 6; from++)
        {
            for (var to = 0; to < 6; to++)
            {
                matrix[from, to] = LatencyModel.LogNormal(TimeSpan.FromMilliseconds(medians[from, to]), 0.3);
            }
        }

        return matrix;
    }

    private static double Gaussian(Randomizer random)
    {
        // Box–Muller on Bogus's stream.
        var u1 = 1 - random.Double();
        var u2 = random.Double();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

/// <summary>Knobs of <see cref="VolunteerPopulation"/>. Every default is named in its doc comment.</summary>
public sealed class PopulationOptions
{
    /// <summary>The defaults.</summary>
    public static PopulationOptions Default { get; } = new();

    /// <summary>Regions drawn from.</summary>
    public IReadOnlyList<Region> Regions { get; init; } =
        [Region.NorthAmerica, Region.Europe, Region.Asia, Region.SouthAmerica, Region.Oceania, Region.Africa];

    /// <summary>Their weights: 30% North America, 35% Europe, 22% Asia, 6% South America, 4% Oceania, 3% Africa.</summary>
    public IReadOnlyList<float> RegionWeights { get; init; } = [0.30f, 0.35f, 0.22f, 0.06f, 0.04f, 0.03f];

    /// <summary>Core counts drawn from.</summary>
    public IReadOnlyList<int> Cores { get; init; } = [1, 2, 4, 6, 8, 12, 16, 32];

    /// <summary>Their weights (4 and 8 cores most common).</summary>
    public IReadOnlyList<float> CoreWeights { get; init; } = [0.03f, 0.17f, 0.35f, 0.10f, 0.22f, 0.06f, 0.05f, 0.02f];

    /// <summary>Memory sizes drawn from, GiB (at least half a GiB per core).</summary>
    public IReadOnlyList<double> MemoryGiB { get; init; } = [2, 4, 8, 16, 32, 64];

    /// <summary>Their weights (8 and 16 GiB most common).</summary>
    public IReadOnlyList<float> MemoryWeights { get; init; } = [0.04f, 0.14f, 0.36f, 0.30f, 0.13f, 0.03f];

    /// <summary>Median free disk, GB (log-normal, σ 0.8, clipped to 5–4000). Default 100.</summary>
    public double MedianFreeDiskGb { get; init; } = 100;

    /// <summary>Median download bandwidth, Mbit/s (log-normal, σ 1, clipped to 1–2000). Default 50.</summary>
    public double MedianDownloadMbps { get; init; } = 50;

    /// <summary>Share of owners who allow only nights or evenings (the rest allow all day). Default 0.3.</summary>
    public double RestrictedHoursShare { get; init; } = 0.3;

    internal PreparedTables Tables => field ??= Prepare();

    private PreparedTables Prepare()
    {
        static void Check<T>(IReadOnlyList<T> values, IReadOnlyList<float> weights, string name)
        {
            if (values.Count == 0 || values.Count != weights.Count || weights.Any(w => !(w >= 0)) || Math.Abs(weights.Sum() - 1) > 1e-3)
            {
                throw new ArgumentException($"PopulationOptions.{name}: needs one weight per value, weights not negative and summing to 1.");
            }
        }

        Check(Regions, RegionWeights, nameof(Regions));
        Check(Cores, CoreWeights, nameof(Cores));
        Check(MemoryGiB, MemoryWeights, nameof(MemoryGiB));
        if (!(MedianFreeDiskGb > 0) || !(MedianDownloadMbps > 0) || !(RestrictedHoursShare is >= 0 and <= 1))
        {
            throw new ArgumentException("PopulationOptions: medians must be positive and RestrictedHoursShare in [0, 1].");
        }

        return new PreparedTables([.. Regions], [.. RegionWeights], [.. Cores], [.. CoreWeights], [.. MemoryGiB], [.. MemoryWeights]);
    }

    internal sealed record PreparedTables(
        Region[] Regions, float[] RegionWeights, int[] Cores, float[] CoreWeights, double[] MemoryGiB, float[] MemoryWeights);
}
