using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using VolunteerCloud.Simulator.Network;
using VolunteerCloud.Simulator.Tests.Support;
using VolunteerCloud.Simulator.Workloads.Averaging;

namespace VolunteerCloud.Simulator.Tests.Kernel;

public sealed partial class DeterminismTests
{
    /// <summary>
    /// A busy, faulty run: gossip over a lossy, duplicating, reordering log-normal network, with crashes,
    /// restarts, a partition and its healing, all driven from the seed.
    /// </summary>
    private static (ulong Hash, long Events) ChaoticRun(ulong seed)
    {
        using var simulation = new Simulation(new SimulationOptions
        {
            Seed = seed,
            Network = new NetworkOptions
            {
                Latency = LatencyModel.LogNormal(TimeSpan.FromMilliseconds(20), 0.8),
                LossRate = 0.05,
                DuplicationRate = 0.02,
                ReorderRate = 0.1,
            },
        });
        const int nodes = 60;
        ScriptedNode Gossiper() => new()
        {
            Started = c => c.SetTimer(c.Random.NextTimeSpan(TimeSpan.FromSeconds(1)), new TimerTag(1)),
            Timer = (c, _) =>
            {
                ScriptedNode.SendNote(c, new NodeId(c.Random.NextInt32(nodes)), c.Random.NextInt32(1000));
                c.SetTimer(TimeSpan.FromMilliseconds(200 + c.Random.NextInt32(100)), new TimerTag(1));
            },
            Received = (c, from, note) =>
            {
                if (note.Number % 3 == 0)
                {
                    ScriptedNode.SendNote(c, from, note.Number + 1);
                }
            },
        };

        for (var i = 0; i < nodes; i++)
        {
            simulation.AddNode(Gossiper());
        }

        var churn = VolunteerCloud.Randomness.SplittableRandom.ForStream(seed, "test.churn");
        for (var t = 1; t <= 20; t++)
        {
            simulation.ScheduleAt(TimeSpan.FromSeconds(t), () =>
            {
                var victim = new NodeId(churn.NextInt32(nodes));
                if (simulation.IsUp(victim))
                {
                    simulation.Crash(victim);
                }
                else
                {
                    simulation.Restart(victim, Gossiper());
                }
            });
        }

        simulation.ScheduleAt(TimeSpan.FromSeconds(5), () => simulation.Network.Partition(Enumerable.Range(0, 20).Select(i => new NodeId(i)).ToArray()));
        simulation.ScheduleAt(TimeSpan.FromSeconds(12), simulation.Network.Heal);
        simulation.RunFor(TimeSpan.FromSeconds(25));
        return (simulation.TraceHash, simulation.Statistics.EventsProcessed);
    }

    [Fact]
    public void The_same_seed_gives_the_same_trace_hash()
    {
        var first = ChaoticRun(2026);
        var second = ChaoticRun(2026);

        Assert.Equal(first, second);
        Assert.True(first.Events > 5_000, $"only {first.Events} events");
    }

    [Fact]
    public void Different_seeds_give_different_trace_hashes()
    {
        var hashes = Enumerable.Range(1, 8).Select(s => ChaoticRun((ulong)s).Hash).ToList();

        Assert.Equal(hashes.Count, hashes.Distinct().Count());
    }

    [Fact]
    public void The_same_seed_gives_the_same_trace_hash_in_another_process()
    {
        var options = new AveragingOptions { Nodes = 2_000, Cycles = 5, MaxDelayPercent = 30, DropRate = 0.01, Seed = 42 };
        using var workload = new AveragingWorkload(options);
        foreach (var _ in workload.RunAll())
        {
        }

        var vcsim = Path.Combine(AppContext.BaseDirectory, "vcsim.dll");
        var start = new ProcessStartInfo(
            "dotnet",
            [vcsim, "bench", "average", "--nodes", "2000", "--cycles", "5", "--max-delay", "30", "--drop", "0.01", "--seed", "42", "--quiet"])
        {
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();

        Assert.Equal(0, process.ExitCode);
        var printed = ulong.Parse(TraceHashLine().Match(output).Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        Assert.Equal(workload.Simulation.TraceHash, printed);
    }

    [GeneratedRegex(@"trace hash\s+0x([0-9A-F]{16})")]
    private static partial Regex TraceHashLine();
}
