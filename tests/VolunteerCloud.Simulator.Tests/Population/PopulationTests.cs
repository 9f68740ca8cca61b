using VolunteerCloud.Simulator.Churn;
using VolunteerCloud.Simulator.Population;

namespace VolunteerCloud.Simulator.Tests.Population;

public sealed class PopulationTests
{
    [Fact]
    public void A_population_is_a_function_of_its_seed_and_every_prefix_is_stable()
    {
        var a = VolunteerPopulation.GenerateMany(42, 20_000);
        var b = VolunteerPopulation.GenerateMany(42, 20_000, parallel: false);
        var prefix = VolunteerPopulation.GenerateMany(42, 100);
        Assert.Equal(a, b);
        Assert.Equal(prefix, a.Take(100));
        Assert.Equal(a[12_345], VolunteerPopulation.Generate(42, 12_345));
        Assert.NotEqual(a.Take(100), VolunteerPopulation.GenerateMany(43, 100));
    }

    [Fact]
    public void Cpu_speed_follows_the_BOINC_distribution_and_regions_their_weights()
    {
        var profiles = VolunteerPopulation.GenerateMany(7, 100_000);
        var gflops = profiles.Select(p => (double)p.Gflops).ToList();
        Assert.All(gflops, g => Assert.InRange(g, VolunteerPopulation.MinGflops, VolunteerPopulation.MaxGflops));
        var standardError = VolunteerPopulation.MeanGflops / Math.Sqrt(profiles.Length);
        Assert.InRange(gflops.Average(), VolunteerPopulation.MeanGflops - (5 * standardError), VolunteerPopulation.MeanGflops + (5 * standardError));

        // Exponential: the median is ln 2 times the mean.
        var median = gflops.Order().ElementAt(gflops.Count / 2);
        Assert.Equal(VolunteerPopulation.MeanGflops * Math.Log(2), median, 0.1);

        var weights = PopulationOptions.Default.RegionWeights;
        for (var r = 0; r < weights.Count; r++)
        {
            var share = profiles.Count(p => (int)p.Region == r) / (double)profiles.Length;
            Assert.InRange(share, weights[r] - 0.01, weights[r] + 0.01);
        }

        Assert.All(profiles.Take(1000), p =>
        {
            Assert.True(p.Caps.Cpus > 0 && p.Caps.Cpus <= p.Cores);
            Assert.True(p.Caps.MemoryBytes > 0 && p.Caps.MemoryBytes <= p.MemoryBytes);
            Assert.True(p.ToSimulatedHost().DiskBytes <= p.DiskBytes);
        });
        Assert.InRange(profiles.Count(p => p.AllDay) / (double)profiles.Length, 0.68, 0.72);
    }

    [Fact]
    public void Allowed_hours_cut_a_timeline()
    {
        var nights = new VolunteerProfile(Region.Europe, 4, 8L << 30, 100_000_000_000, 5, 1e8f, 1e7f, 1, 0.5f, 0.9f, 22, 6);
        Assert.True(nights.AllowsHour(23));
        Assert.True(nights.AllowsHour(0));
        Assert.False(nights.AllowsHour(6));
        Assert.False(nights.AllowsHour(12));

        var timeline = new[]
        {
            new AvailabilityInterval(true, 0, 30),   // up from 00:00 to 06:00 the next day
            new AvailabilityInterval(false, 30, 56),
            new AvailabilityInterval(true, 56, 58.5),  // 08:00 to 10:30: outside the window
            new AvailabilityInterval(false, 58.5, 70),
            new AvailabilityInterval(true, 70, 72.5),  // 22:00 to 00:30: inside
        };
        var cut = nights.RestrictToAllowedHours(timeline).ToList();
        Assert.Equal(
            [
                new AvailabilityInterval(true, 0, 6),
                new AvailabilityInterval(false, 6, 22),
                new AvailabilityInterval(true, 22, 30),
                new AvailabilityInterval(false, 30, 70),
                new AvailabilityInterval(true, 70, 72.5),
            ],
            cut);

        var allDay = nights with { AllowedFromHour = 0, AllowedToHour = 24 };
        Assert.Equal(timeline, allDay.RestrictToAllowedHours(timeline));
    }

    [Fact]
    public void Bad_options_are_refused()
    {
        var options = new PopulationOptions { RegionWeights = [0.5f, 0.5f] };
        Assert.Contains("Regions", Assert.Throws<ArgumentException>(() => VolunteerPopulation.Generate(1, 0, options)).Message);
    }
}

public sealed class PopulationPinTests
{
    [Fact]
    public void The_first_volunteer_of_seed_1_is_pinned_so_a_library_upgrade_that_changes_populations_is_noticed()
    {
        // Populations come from Bogus (System.Random seeded per volunteer): an upgrade of either could change them.
        var p = VolunteerPopulation.Generate(1, 0);
        Assert.Equal(
            "Europe 1 cores 32 GiB 28.0 GB 14.984 GFLOPS 34.2 Mbit/s 1 0.5 0.9 17-7",
            string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{p.Region} {p.Cores} cores {p.MemoryBytes >> 30} GiB {p.DiskBytes / 1e9:0.0} GB {p.Gflops:0.000} GFLOPS {p.DownloadBitsPerSecond / 1e6:0.0} Mbit/s {p.CpuShare} {p.MemoryShare} {p.DiskShare} {p.AllowedFromHour}-{p.AllowedToHour}"));
    }
}
