using System.CommandLine;
using System.Globalization;
using System.Text;
using VolunteerCloud.Simulator.Experiments.Chaos;

namespace VolunteerCloud.Simulator.Cli;

/// <summary><c>vcsim chaos --runs 1000</c>: a seeded fault campaign with the control plane's invariant checkers.</summary>
internal static class ChaosCommand
{
    public static Command Create()
    {
        var runs = new Option<int>("--runs") { Description = "Runs (seeds first, first + 1, …).", DefaultValueFactory = _ => 100 };
        var seed = new Option<ulong>("--seed") { Description = "The first run's seed; --seed S --runs 1 replays run S exactly.", DefaultValueFactory = _ => 1 };
        var nodes = new Option<int>("--nodes") { Description = "Volunteers per run.", DefaultValueFactory = _ => new ChaosOptions().Nodes };
        var apps = new Option<int>("--apps") { Description = "Apps the workload deploys, scales and removes.", DefaultValueFactory = _ => new ChaosOptions().Apps };
        var minutes = new Option<double>("--minutes") { Description = "Simulated minutes of faults per run (then 10 quiet minutes).", DefaultValueFactory = _ => new ChaosOptions().FaultPhase.TotalMinutes };
        var quietMinutes = new Option<double>("--quiet-minutes") { Description = "Simulated minutes without faults before convergence is checked.", DefaultValueFactory = _ => new ChaosOptions().QuietPhase.TotalMinutes };
        var parallel = new Option<int>("--parallel") { Description = "Runs at once.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("chaos", "A seeded fault campaign: partitions, loss, duplication, reordering, crashes, a 50% mass crash, slow nodes and clock skew under deploys, scales and removes, with invariant checkers; exit 1 on a violation.")
        {
            runs, seed, nodes, apps, minutes, quietMinutes, parallel,
        };
        command.SetAction(parse =>
        {
            var count = parse.GetValue(runs);
            if (count is < 1 or > 1_000_000)
            {
                Console.Error.WriteLine($"vcsim chaos: --runs must lie in [1, 1000000]; got {count}.");
                return 2;
            }

            var minutesValue = parse.GetValue(minutes);
            if (!(minutesValue > 0 && minutesValue <= 24 * 60))
            {
                Console.Error.WriteLine($"vcsim chaos: --minutes must lie in (0, 1440]; got {minutesValue.ToString(CultureInfo.InvariantCulture)}.");
                return 2;
            }

            var quietValue = parse.GetValue(quietMinutes);
            if (!(quietValue > 0 && quietValue <= 24 * 60))
            {
                Console.Error.WriteLine($"vcsim chaos: --quiet-minutes must lie in (0, 1440]; got {quietValue.ToString(CultureInfo.InvariantCulture)}.");
                return 2;
            }

            var options = new ChaosOptions { Nodes = parse.GetValue(nodes), Apps = parse.GetValue(apps), FaultPhase = TimeSpan.FromMinutes(minutesValue), QuietPhase = TimeSpan.FromMinutes(quietValue) };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine("vcsim chaos: " + e.Message);
                return 2;
            }

            var first = parse.GetValue(seed);
            var clock = WallClock.Start();
            var results = new ChaosRunResult[count];
            var done = 0;
            var progress = !Console.IsErrorRedirected;
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parse.GetValue(parallel)) }, i =>
            {
                results[i] = ChaosCampaign.Run(first + (ulong)i, options);
                var d = Interlocked.Increment(ref done);
                if (results[i].Violations > 0)
                {
                    Console.Error.WriteLine($"seed {results[i].Seed}: {results[i].Violations} invariant violations; replay: vcsim chaos --seed {results[i].Seed} --runs 1 --nodes {options.Nodes} --apps {options.Apps} --minutes {minutesValue.ToString(CultureInfo.InvariantCulture)} --quiet-minutes {quietValue.ToString(CultureInfo.InvariantCulture)}");
                    foreach (var example in results[i].Examples.Take(5))
                    {
                        Console.Error.WriteLine("  " + example);
                    }
                }

                if (progress && d % 10 == 0)
                {
                    Console.Error.Write($"\r{d}/{count} runs");
                }
            });
            if (progress)
            {
                Console.Error.Write("\r");
            }

            Console.WriteLine(Report(results, options, clock.Elapsed));
            if (count == 1)
            {
                var r = results[0];
                Console.WriteLine($"seed {r.Seed}: trace hash {r.TraceHash:x16}, {r.Events} events; faults {string.Join(", ", r.Faults.Where(f => f.Value > 0).Select(f => $"{f.Key} {f.Value}"))}");
                foreach (var example in r.Examples)
                {
                    Console.WriteLine("  " + example);
                }
            }

            return results.Any(r => r.Violations > 0) ? 1 : 0;
        });
        return command;
    }

    /// <summary>The campaign's table: faults by kind, operations, checks, violations.</summary>
    internal static string Report(IReadOnlyList<ChaosRunResult> results, ChaosOptions options, TimeSpan elapsed)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"chaos: {results.Count} runs (seeds {results.Min(r => r.Seed)}–{results.Max(r => r.Seed)}), {options.Nodes} nodes with SWIM, {options.Apps} apps, {options.FaultPhase.TotalMinutes:0.#} min of faults + {options.QuietPhase.TotalMinutes:0.#} quiet, in {elapsed.TotalSeconds:0.0} s");
        text.AppendLine();
        text.AppendLine("| fault | injected | runs with it |");
        text.AppendLine("|---|---:|---:|");
        foreach (var fault in Enum.GetValues<ChaosFault>())
        {
            text.AppendLine(c, $"| {fault} | {results.Sum(r => r.Faults[fault])} | {results.Count(r => r.Faults[fault] > 0)} |");
        }

        text.AppendLine();
        text.AppendLine(c, $"operations acknowledged {results.Sum(r => r.OperationsAcknowledged)}, refused (unknown app) {results.Sum(r => r.OperationsRefused)}; messages dropped {results.Sum(r => r.MessagesLost)}; events {results.Sum(r => r.Events)}");
        text.AppendLine(c, $"acknowledged writes lost because every node that held them crashed: {results.Sum(r => r.AcknowledgedLostWithEveryHolder)}");
        text.AppendLine(c, $"invariant checks {results.Sum(r => r.Checks)}, violations {results.Sum(r => r.Violations)} in {results.Count(r => r.Violations > 0)} runs{(results.Any(r => r.Violations > 0) ? ": seeds " + string.Join(", ", results.Where(r => r.Violations > 0).Select(r => r.Seed).Take(20)) : string.Empty)}");
        return text.ToString();
    }
}
