using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VolunteerCloud.Simulator.Workloads.Averaging;

namespace VolunteerCloud.Simulator.Cli;

/// <summary><c>vcsim bench ...</c>: the simulator's own speed, on workloads with published peers.</summary>
internal static class BenchCommands
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure the simulator's speed and memory on reference workloads.");
        bench.Subcommands.Add(CreateAverage());
        return bench;
    }

    private static Command CreateAverage()
    {
        var nodes = new Option<int>("--nodes") { Description = "Number of nodes.", DefaultValueFactory = _ => 100_000 };
        var cycles = new Option<int>("--cycles") { Description = "Number of cycles.", DefaultValueFactory = _ => 100 };
        var degree = new Option<int>("--degree", "-k") { Description = "Random out-links per node (WireKOut k).", DefaultValueFactory = _ => 20 };
        var minDelay = new Option<double>("--min-delay") { Description = "Smallest message delay, % of a cycle.", DefaultValueFactory = _ => 0 };
        var maxDelay = new Option<double>("--max-delay") { Description = "Largest message delay, % of a cycle.", DefaultValueFactory = _ => 0 };
        var drop = new Option<double>("--drop") { Description = "Probability that a message is dropped.", DefaultValueFactory = _ => 0 };
        var seed = new Option<ulong>("--seed") { Description = "The run's seed.", DefaultValueFactory = _ => 1 };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the summary, not every cycle." };

        var command = new Command(
            "average",
            "PeerSim's event-driven aggregation example (AverageED over WireKOut): push-pull averaging, ~3 events per node per cycle.")
        {
            nodes, cycles, degree, minDelay, maxDelay, drop, seed, quiet,
        };

        command.SetAction(parse =>
        {
            var options = new AveragingOptions
            {
                Nodes = parse.GetValue(nodes),
                Cycles = parse.GetValue(cycles),
                Degree = parse.GetValue(degree),
                MinDelayPercent = parse.GetValue(minDelay),
                MaxDelayPercent = parse.GetValue(maxDelay),
                DropRate = parse.GetValue(drop),
                Seed = parse.GetValue(seed),
            };
            return RunAverage(options, parse.GetValue(quiet), Console.Out);
        });
        return command;
    }

    internal static int RunAverage(AveragingOptions options, bool quiet, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(c, $"vcsim bench average: {options.Nodes:N0} nodes, k = {options.Degree}, {options.Cycles} cycles, delay {options.MinDelayPercent}–{options.MaxDelayPercent}% of a cycle, drop {options.DropRate}, seed {options.Seed}"));

        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var setupClock = WallClock.Start();
        using var workload = new AveragingWorkload(options);
        var setupTime = setupClock.Elapsed;
        var heapAfterSetup = GC.GetTotalMemory(forceFullCollection: true);

        if (!quiet)
        {
            output.WriteLine(string.Create(c, $"{"cycle",5} {"mean",18} {"variance",14} {"min",14} {"max",14}"));
        }

        var runClock = WallClock.Start();
        var gcBefore = GC.CollectionCount(0);
        CycleStatistics first = default, last = default, tenth = default;
        foreach (var cycle in workload.RunAll())
        {
            if (cycle.Cycle == 0)
            {
                first = cycle;
            }

            if (cycle.Cycle <= 10)
            {
                // The convergence rate is read over the first ten cycles, before the variance reaches rounding noise.
                tenth = cycle;
            }

            last = cycle;
            if (!quiet)
            {
                output.WriteLine(string.Create(c, $"{cycle.Cycle,5} {cycle.Mean,18:F6} {cycle.Variance,14:E4} {cycle.Min,14:G6} {cycle.Max,14:G6}"));
            }
        }

        var wall = runClock.Elapsed;
        var gcCount = GC.CollectionCount(0) - gcBefore;
        var heapAtEnd = GC.GetTotalMemory(forceFullCollection: true);
        var statistics = workload.Simulation.Statistics;
        var events = statistics.EventsProcessed;
        var perNodeSetup = (heapAfterSetup - heapBefore) / (double)options.Nodes;
        var perNodeEnd = (heapAtEnd - heapBefore) / (double)options.Nodes;
        using var process = Process.GetCurrentProcess();
        process.Refresh();

        output.WriteLine();
        output.WriteLine(string.Create(c, $"mean drift           {Math.Abs(last.Mean - first.Mean) / Math.Abs(first.Mean):E2} (relative)"));
        output.WriteLine(string.Create(c, $"variance ratio/cycle {Math.Pow(tenth.Variance / first.Variance, 1.0 / Math.Max(1, tenth.Cycle)):F4} (geometric mean over cycles 1–{tenth.Cycle}; 1/(2√e) = 0.3033 expected)"));
        output.WriteLine(string.Create(c, $"events processed     {events:N0}"));
        output.WriteLine(string.Create(c, $"messages delivered   {statistics.MessagesDelivered:N0}"));
        output.WriteLine(string.Create(c, $"setup time           {setupTime.TotalSeconds:F2} s"));
        output.WriteLine(string.Create(c, $"wall time            {wall.TotalSeconds:F2} s (run only)"));
        output.WriteLine(string.Create(c, $"events/s             {events / wall.TotalSeconds / 1e6:F2} M"));
        output.WriteLine(string.Create(c, $"peak working set     {process.PeakWorkingSet64 / 1048576.0:F0} MB"));
        output.WriteLine(string.Create(c, $"bytes per node       {Math.Max(perNodeSetup, perNodeEnd):F0} (live managed heap; {perNodeSetup:F0} after setup, {perNodeEnd:F0} at end)"));
        output.WriteLine(string.Create(c, $"gen0 collections     {gcCount} during the run"));
        output.WriteLine(string.Create(c, $"trace hash           0x{workload.Simulation.TraceHash:X16}"));
        return 0;
    }
}
