using System.CommandLine;
using System.Globalization;
using VolunteerCloud.Containers;
using VolunteerCloud.Placement;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Experiments;
using VolunteerCloud.Strategies;

namespace VolunteerCloud.Simulator.Cli;

/// <summary><c>vcsim placement balls|rendezvous|throughput</c>.</summary>
internal static class PlacementCommands
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var placement = new Command("placement", "Placement strategies against the published balls-into-bins and rendezvous numbers, and their speed.");
        placement.Subcommands.Add(Balls());
        placement.Subcommands.Add(RendezvousCommand());
        placement.Subcommands.Add(Throughput());
        return placement;
    }

    private static Command Balls()
    {
        var seeds = new Option<int>("--seeds") { Description = "Runs per row (seeds 1..s).", DefaultValueFactory = _ => 10 };
        var big = new Option<bool>("--skip-million") { Description = "Leave out n = 10^6." };
        var command = new Command("balls", "Max load of n balls in n bins: random vs power-of-2 vs power-of-3 (Azar et al.; Mitzenmacher).") { seeds, big };
        command.SetAction(parse =>
        {
            PrintBalls(Console.Out, parse.GetValue(seeds), !parse.GetValue(big));
            return 0;
        });
        return command;
    }

    internal static void PrintBalls(TextWriter output, int seeds, bool million)
    {
        output.WriteLine(string.Create(C, $"## Balls into bins: max load of n balls in n bins ({seeds} seeds per row at 10^4, {Math.Max(1, seeds / 5)} at 10^6)"));
        output.WriteLine();
        output.WriteLine("| n | strategy | published max load | measured max load per seed | mean |");
        output.WriteLine("|---|---|---|---|---|");
        var rows = new List<(int N, IPlacementStrategy Strategy, string Published)>
        {
            (10_000, new RandomPlacement(), "6–7"),
            (10_000, new PowerOfChoicesPlacement(2), "3"),
            (10_000, new PowerOfChoicesPlacement(3), "—"),
            (10_000, new LeastLoadedPlacement(), "1 (ideal)"),
        };
        if (million)
        {
            rows.AddRange([(1_000_000, new RandomPlacement(), "8–10"), (1_000_000, new PowerOfChoicesPlacement(2), "4"), (1_000_000, new PowerOfChoicesPlacement(3), "3")]);
        }

        foreach (var (n, strategy, published) in rows)
        {
            var runs = n > 100_000 ? Math.Max(1, seeds / 5) : seeds;
            var loads = Enumerable.Range(1, runs).Select(s => PlacementLab.BallsIntoBins(strategy, n, (ulong)s)).ToList();
            output.WriteLine(string.Create(C, $"| {n:N0} | {strategy.Name} | {published} | {string.Join(", ", loads)} | {loads.Average():0.0} |"));
        }

        output.WriteLine();
        output.WriteLine("One choice: max ≈ ln n / ln ln n; d choices: ln ln n / ln d + O(1) (docs/references.md). Each ball is a replica");
        output.WriteLine("request through the strategy and the cluster state, exactly as the control plane places replicas.");
    }

    private static Command RendezvousCommand()
    {
        var million = new Option<bool>("--million") { Description = "Also 10^6 keys (about 10 s)." };
        var command = new Command("rendezvous", "Max/mean load of K keys on 1000 nodes by rendezvous hashing, with and without a second choice.") { million };
        command.SetAction(parse =>
        {
            PrintRendezvous(Console.Out, parse.GetValue(million));
            return 0;
        });
        return command;
    }

    internal static void PrintRendezvous(TextWriter output, bool million)
    {
        output.WriteLine("## Rendezvous hashing: max/mean load of K keys on 1000 nodes");
        output.WriteLine();
        output.WriteLine("| keys | published (one choice) | measured | load sd / binomial sd | published (second choice) | measured |");
        output.WriteLine("|---|---|---|---|---|---|");
        var rows = new List<(int Keys, string One, string Two)> { (10_000, "2.20", "1.20"), (100_000, "1.33", "1.02") };
        if (million)
        {
            rows.Add((1_000_000, "1.094", "1.003"));
        }

        foreach (var (keys, one, two) in rows)
        {
            var (max, spread) = PlacementLab.RendezvousLoads(keys, 1000, false);
            output.WriteLine(string.Create(C,
                $"| {keys:N0} | {one} | {max:0.000} | {spread:0.000} | {two} | {PlacementLab.RendezvousBalance(keys, 1000, true):0.000} |"));
        }
    }

    private static Command Throughput()
    {
        var hosts = new Option<int>("--hosts") { Description = "Hosts.", DefaultValueFactory = _ => 100_000 };
        var command = new Command("throughput", "Placements per second of every strategy (choose + record, three replicas per app on distinct hosts).") { hosts };
        command.SetAction(parse =>
        {
            PrintThroughput(Console.Out, parse.GetValue(hosts));
            return 0;
        });
        return command;
    }

    internal static void PrintThroughput(TextWriter output, int hosts)
    {
        output.WriteLine(string.Create(C, $"## Placement throughput, {hosts:N0} hosts (one core; goal ≥ 100 000 placements/s)"));
        output.WriteLine();
        output.WriteLine("| strategy | placements | seconds | placements/s |");
        output.WriteLine("|---|---|---|---|");
        var limits = new ResourceAmount(0.5, 256L << 20);
        string[] names = [StrategyNames.Random, StrategyNames.RoundRobin, StrategyNames.LeastLoaded, StrategyNames.PowerOfTwo, StrategyNames.PowerOfThree, StrategyNames.SpreadRegions, StrategyNames.Rendezvous, StrategyNames.BinPack, StrategyNames.AvailabilityAware];
        foreach (var strategy in names.Select(name => StrategyCatalog.Placements[name]()))
        {
            var random = new SplittableRandom(1);
            var cluster = PlacementLab.ThroughputCluster(hosts, random);
            var attempts = strategy is ScoringPlacement ? 300 : 300_000;
            var count = 0;
            var avoid = new NodeId[2];
            var regions = new ushort[2];
            var clock = WallClock.Start();
            for (var b = 0; b < attempts; b++)
            {
                var replica = b % 3;
                var request = new PlacementRequest("app", replica, limits) { Avoid = avoid.AsMemory(0, replica), UsedRegions = regions.AsMemory(0, replica) };
                var chosen = strategy.Choose(cluster, request, random);
                if (chosen < 0)
                {
                    break; // the cluster is full (a small --hosts)
                }

                cluster.Place(chosen, limits);
                count++;
                if (replica < 2)
                {
                    avoid[replica] = cluster.HostAt(chosen);
                    regions[replica] = cluster.RegionOf(chosen);
                }
            }

            var seconds = clock.Elapsed.TotalSeconds;
            output.WriteLine(string.Create(C, $"| {strategy.Name} | {count:N0} | {seconds:0.000} | {count / seconds:N0} |"));
        }

        output.WriteLine();
        output.WriteLine("Rendezvous, bin-pack and availability-aware score every host (O(n) per placement, by definition);");
        output.WriteLine("the others sample or use the state's load index (O(1) amortised). The cluster fills as the run goes:");
        output.WriteLine("300 000 replicas of 0.5 CPU on about 90 000 eligible hosts.");
    }
}
