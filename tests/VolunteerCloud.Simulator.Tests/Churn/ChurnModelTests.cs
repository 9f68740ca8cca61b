using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Churn;
using VolunteerCloud.Simulator.Experiments;
using VolunteerCloud.Simulator.Tests.Support;

namespace VolunteerCloud.Simulator.Tests.Churn;

public sealed class ChurnModelTests
{
    public static TheoryData<string> Presets() => [.. ChurnPresets.All.Keys];

    [Theory]
    [MemberData(nameof(Presets))]
    public void Long_run_availability_of_every_preset_equals_E_up_over_E_up_plus_E_down_within_a_99_percent_bound(string preset)
    {
        // Hosts are independent, so the mean per-host availability has a CLT interval; heavy tails (SETI@home's
        // log-normal down times) widen it, which the interval accounts for.
        var model = ChurnPresets.Named(preset);
        var summary = ChurnStudy.Run(model, hosts: 4000, days: 60, seed: 7);
        var bound = summary.AvailabilityHalfWidth95 / 1.96 * 2.576;
        Assert.True(
            Math.Abs(summary.MeanAvailability - model.Availability) <= bound,
            $"{preset}: measured {summary.MeanAvailability:P2}, model {model.Availability:P2}, 99% half-width {bound:P2} (seed 7)");
    }

    [Fact]
    public void Hosts_start_in_the_stationary_state_even_for_heavy_tails()
    {
        // At time zero and at every hour after, the share of hosts up is the long-run availability: no warm-up
        // transient. (Hour 0 checks the up/down draw; later hours check the length-biased first interval and
        // the residual drawn within it.)
        foreach (var model in new[] { ChurnPresets.Seti, ChurnPresets.PlanetLab05, ChurnPresets.Overnet03 })
        {
            var summary = ChurnStudy.Run(model, hosts: 20_000, days: 2, seed: 3);
            var p = model.Availability;
            var sigma = Math.Sqrt(p * (1 - p) / 20_000);
            foreach (var hour in new[] { 0, 1, 3, 6, 12, 24, 47 })
            {
                var share = summary.HostsUpByHour[hour] / 20_000.0;
                Assert.True(Math.Abs(share - p) < 5 * sigma, $"{model.Name}: {share:P2} up at hour {hour}, expected {p:P2} ± {5 * sigma:P2} (seed 3)");
            }
        }
    }

    [Fact]
    public void A_zero_warm_up_starts_every_host_in_a_fresh_up_interval()
    {
        var host = ChurnPresets.Seti.CreateHost(new SplittableRandom(1));
        for (ulong seed = 0; seed < 50; seed++)
        {
            var first = ChurnTimeline.Generate(host, new SplittableRandom(seed), TimeSpan.Zero).First();
            Assert.True(first.Up);
            Assert.Equal(0, first.StartHours);
        }
    }

    [Fact]
    public void Timelines_alternate_and_are_contiguous()
    {
        var random = new SplittableRandom(5);
        var host = ChurnPresets.Skype06.CreateHost(random);
        var intervals = ChurnTimeline.Within(host, random, 24 * 90).ToList();
        Assert.True(intervals.Count > 10, $"{intervals.Count} intervals in 90 days: too few to test alternation");
        Assert.Equal(0, intervals[0].StartHours);
        Assert.Equal(24 * 90, intervals[^1].EndHours);
        foreach (var (a, b) in intervals.Zip(intervals.Skip(1)))
        {
            Assert.Equal(a.EndHours, b.StartHours);
            Assert.NotEqual(a.Up, b.Up);
            Assert.True(a.Hours > 0);
        }
    }

    [Fact]
    public void Heterogeneity_spreads_hosts_and_permanent_departures_end_timelines()
    {
        double Spread(double sigma)
        {
            var model = new AvailabilityModel("m", DurationDistribution.Exponential(10), DurationDistribution.Exponential(10)) { HeterogeneitySigma = sigma };
            var availabilities = Enumerable.Range(0, 2000).Select(i =>
            {
                var host = model.CreateHost(new SplittableRandom((ulong)i));
                return host.Availability;
            }).ToList();
            var mean = availabilities.Average();
            return Math.Sqrt(availabilities.Average(a => (a - mean) * (a - mean)));
        }

        Assert.Equal(0, Spread(0), 12);
        Assert.True(Spread(1.0) > 0.15, $"sd of host availability with sigma 1: {Spread(1.0)}");

        var leaving = new AvailabilityModel("leaving", DurationDistribution.Exponential(5), DurationDistribution.Exponential(5))
        {
            Lifetime = DurationDistribution.Exponential(100),
        };
        var gone = 0;
        for (ulong i = 0; i < 1000; i++)
        {
            var random = new SplittableRandom(i);
            var host = leaving.CreateHost(random);
            var last = ChurnTimeline.Generate(host, random).Last(); // finite: the host leaves for good
            Assert.False(last.Up);
            Assert.True(double.IsPositiveInfinity(last.EndHours));
            gone += host.LifetimeHours < 1000 ? 1 : 0;
        }

        Assert.InRange(gone, 990, 1000); // P(lifetime > 1000 h) = e^-10
    }

    [Fact]
    public void The_driver_replays_the_same_timelines_as_the_study_and_announces_reclaims_before_departures()
    {
        var model = new AvailabilityModel("noticed", ChurnPresets.Skype06.Up, ChurnPresets.Skype06.Down)
        {
            Reclaim = new ReclaimNotices(1.0, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)),
        };
        const int hosts = 300;
        const ulong seed = 9;
        using var simulation = new Simulation(new SimulationOptions { Seed = seed });
        var driver = new ChurnDriver(simulation, model, _ => new ScriptedNode());
        var notices = new Dictionary<NodeId, TimeSpan>();
        var violations = new List<string>();
        driver.ReclaimNoticed += (node, lead) =>
        {
            if (lead > TimeSpan.FromMinutes(2))  // shorter only when the up interval itself is shorter than the lead
            {
                violations.Add($"lead {lead} for {node}");
            }

            notices[node] = simulation.Now + lead;
        };
        driver.HostChanged += (node, up) =>
        {
            if (!up && simulation.Now > TimeSpan.Zero && (!notices.Remove(node, out var due) || due != simulation.Now))
            {
                violations.Add($"{node} left at {simulation.Now} without its notice");
            }
        };
        for (var i = 0; i < hosts; i++)
        {
            driver.Attach(simulation.AddNode(new ScriptedNode()));
        }

        var study = ChurnStudy.Run(model, hosts, days: 3, seed);
        for (var hour = 0; hour < 72; hour++)
        {
            simulation.RunUntil(TimeSpan.FromHours(hour) + TimeSpan.FromTicks(1));
            Assert.Equal(study.HostsUpByHour[hour], driver.HostsUp);
            Assert.Equal(driver.HostsUp, Enumerable.Range(0, hosts).Count(i => simulation.IsUp(new NodeId(i))));
        }

        Assert.Empty(violations);
    }
}
