using FsCheck;
using FsCheck.Xunit;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Cli;
using VolunteerCloud.Simulator.Workloads.Averaging;

namespace VolunteerCloud.Simulator.Tests.Workloads;

public sealed class AveragingTests
{
    [Fact]
    public void The_mean_stays_put_and_the_variance_falls_as_in_push_pull_gossip()
    {
        using var workload = new AveragingWorkload(new AveragingOptions { Nodes = 10_000, Cycles = 10, Seed = 3 });
        var cycles = workload.RunAll().ToList();

        // Values 1..N: mean (N+1)/2, variance (N^2-1)/12.
        Assert.Equal(5_000.5, cycles[0].Mean, 9);
        Assert.Equal((10_000.0 * 10_000 - 1) / 12, cycles[0].Variance, 1e-6 * cycles[0].Variance);
        Assert.All(cycles, c => Assert.Equal(5_000.5, c.Mean, 6));

        // Jelasity, Montresor and Babaoglu (2005): push-pull averaging shrinks the variance by about
        // 1/(2*sqrt(e)) = 0.303 per cycle.
        var ratio = Math.Pow(cycles[^1].Variance / cycles[0].Variance, 1.0 / 10);
        Assert.InRange(ratio, 0.27, 0.34);
        Assert.Equal(10_000 + (10 * 3 * 10_000), workload.Simulation.Statistics.EventsProcessed);
    }

    [Fact]
    public void With_delays_and_drops_the_variance_still_falls()
    {
        using var workload = new AveragingWorkload(new AveragingOptions { Nodes = 5_000, Cycles = 10, MinDelayPercent = 5, MaxDelayPercent = 40, DropRate = 0.05 });
        var cycles = workload.RunAll().ToList();

        Assert.True(cycles[^1].Variance < cycles[0].Variance * 1e-3);
        Assert.Equal(2_500.5, cycles[^1].Mean, 0.02 * 2_500.5); // drops lose half-exchanges, so the mean drifts a little
        Assert.True(workload.Simulation.Statistics.MessagesLost > 0);
    }

    [Property(MaxTest = 50)]
    public bool A_k_out_graph_has_k_distinct_links_per_node_and_no_loops(ulong seed, PositiveInt nodes, byte k)
    {
        var n = Math.Min(nodes.Get, 300);
        var graph = KOutGraph.Create(n, k % 30, new SplittableRandom(seed));
        return Enumerable.Range(0, n).All(i =>
        {
            var links = graph.LinksOf(new NodeId(i)).ToArray();
            return links.Length == Math.Min(k % 30, n - 1)
                && links.Distinct().Count() == links.Length
                && links.All(l => l.Value != i && l.Value >= 0 && l.Value < n);
        });
    }

    [Fact]
    public void The_bench_command_prints_each_cycle_and_a_summary()
    {
        using var output = new StringWriter();

        var exit = BenchCommands.RunAverage(new AveragingOptions { Nodes = 1_000, Cycles = 3 }, quiet: false, output);

        var text = output.ToString();
        Assert.Equal(0, exit);
        Assert.Matches(@"(?m)^\s+3\s+500\.500000\s", text);
        foreach (var line in new[] { "events processed     10,000", "events/s", "peak working set", "bytes per node", "trace hash" })
        {
            Assert.Contains(line, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Bad_workload_options_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AveragingWorkload(new AveragingOptions { Nodes = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AveragingWorkload(new AveragingOptions { MinDelayPercent = 10, MaxDelayPercent = 5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AveragingWorkload(new AveragingOptions { DropRate = 2 }));
    }
}
