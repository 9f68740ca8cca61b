using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VolunteerCloud.Membership.Swim;
using VolunteerCloud.Simulator.Experiments;
using static VolunteerCloud.Simulator.Experiments.MembershipValidation;

namespace VolunteerCloud.Simulator.Cli;

/// <summary><c>vcsim membership ...</c>: tables that set measured membership behaviour beside the published numbers.</summary>
internal static class MembershipCommands
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var membership = new Command("membership", "Membership validation: SWIM/Lifeguard measured against the published numbers (docs/references.md).");
        membership.Subcommands.Add(Detection());
        membership.Subcommands.Add(FalsePositivesCommand());
        membership.Subcommands.Add(LoadCommand());
        membership.Subcommands.Add(DisseminationCommand());
        membership.Subcommands.Add(ScaleCommand());
        return membership;
    }

    private static Option<ulong> SeedOption() => new("--seed") { Description = "The study's seed.", DefaultValueFactory = _ => 1 };

    private static Command Detection()
    {
        var nodes = new Option<int>("--nodes") { Description = "Cluster size N.", DefaultValueFactory = _ => 1000 };
        var trials = new Option<int>("--trials") { Description = "Crashes measured per row.", DefaultValueFactory = _ => 200 };
        var seed = SeedOption();
        var command = new Command("detection", "Time to first detection of a crashed member vs SWIM's T'/(1 - e^-qf), and the worst case vs (2N-1)T'.") { nodes, trials, seed };
        command.SetAction(parse =>
        {
            PrintDetection(Console.Out, parse.GetValue(nodes), parse.GetValue(trials), parse.GetValue(seed));
            return 0;
        });
        return command;
    }

    internal static void PrintDetection(TextWriter output, int nodes, int trials, ulong seed)
    {
        output.WriteLine(string.Create(C, $"## Time to first detection (N = {nodes}, {trials} crashes per row, T' = 1 s, seed {seed})"));
        output.WriteLine();
        output.WriteLine("| q_f | probe periods | Lifeguard | published E[T]/T' | measured mean (95% CI) | deviation | worst measured | bound (2N-1) |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var config in new DetectionCase[]
        {
            new(1.0, Lockstep: true, Lifeguard: false),
            new(0.9, Lockstep: true, Lifeguard: false),
            new(0.5, Lockstep: true, Lifeguard: false),
            new(1.0, Lockstep: true, Lifeguard: true),
            new(1.0, Lockstep: false, Lifeguard: true),
        })
        {
            var r = MembershipValidation.Detection(nodes, trials, config, seed);
            output.WriteLine(string.Create(C,
                $"| {config.HealthyFraction:0.0} | {(config.Lockstep ? "lockstep" : "random phase")} | {(config.Lifeguard ? "on" : "off")} | {r.Expected:0.00} | {r.Mean:0.00} ± {r.HalfWidth95:0.00} | {(r.Mean / r.Expected) - 1:+0.0%;-0.0%} | {r.Max:0.00} | {(2 * nodes) - 1} |"));
        }

        output.WriteLine();
        output.WriteLine("Detection = the first time any live member suspects the crashed one. \"Lockstep\" is the model of the");
        output.WriteLine("SWIM paper's analysis: every member's protocol period starts together and the crash falls at the start");
        output.WriteLine("of one. With memberlist's random probe phases the first probe comes after ~T'/q_f and the detection");
        output.WriteLine("one period later, so about 2T' is expected there.");
    }

    private static Command FalsePositivesCommand()
    {
        var nodes = new Option<int>("--nodes") { Description = "Cluster size N.", DefaultValueFactory = _ => 100 };
        var hours = new Option<double>("--hours") { Description = "Simulated hours per row of the suspicion table.", DefaultValueFactory = _ => 2 };
        var maxProbes = new Option<long>("--max-probes") { Description = "Probe budget per row of the per-probe table.", DefaultValueFactory = _ => 20_000_000 };
        var seed = SeedOption();
        var command = new Command("false-positives", "False positives per probe vs message loss without suspicion (SWIM's formula), and per node-hour with suspicion and Lifeguard.") { nodes, hours, maxProbes, seed };
        command.SetAction(parse =>
        {
            PrintFalsePositives(Console.Out, parse.GetValue(nodes), parse.GetValue(hours), parse.GetValue(maxProbes), parse.GetValue(seed));
            return 0;
        });
        return command;
    }

    internal static void PrintFalsePositives(TextWriter output, int nodes, double hours, long maxProbes, ulong seed)
    {
        output.WriteLine(string.Create(C, $"## False positives per probe, basic SWIM without suspicion (N = {nodes}, seed {seed})"));
        output.WriteLine();
        output.WriteLine("| loss | K | published (1-q²)(1-q⁴)^K | measured (95% CI) | probes | failures |");
        output.WriteLine("|---|---|---|---|---|---|");
        var rows = new (double Loss, int K)[] { (0.01, 0), (0.01, 1), (0.01, 3), (0.05, 1), (0.05, 3), (0.10, 1), (0.10, 3) };
        var results = new FalsePositiveResult[rows.Length];
        Parallel.For(0, rows.Length, i => results[i] = FalsePositives(nodes, rows[i].Loss, rows[i].K, seed + (ulong)i, maxProbes: maxProbes));
        foreach (var r in results)
        {
            var (low, high) = r.Interval95;
            output.WriteLine(string.Create(C, $"| {r.LossRate:P0} | {r.IndirectChecks} | {r.Expected:0.0e+0} | {r.Measured:0.0e+0} ({low:0.0e+0}–{high:0.0e+0}) | {r.Probes:N0} | {r.Failures:N0} |"));
        }

        output.WriteLine();
        output.WriteLine(string.Create(C, $"## False suspicions and deaths per node-hour, with suspicion (N = {nodes}, {hours} h per row, seed {seed})"));
        output.WriteLine();
        output.WriteLine("| scenario | Lifeguard | suspicions / node-hour | deaths / node-hour | refutations |");
        output.WriteLine("|---|---|---|---|---|");
        var scenarios = new (double Loss, TimeSpan Slow)[] { (0.01, TimeSpan.Zero), (0.05, TimeSpan.Zero), (0.10, TimeSpan.Zero), (0.0, TimeSpan.FromSeconds(2)) };
        var cases = scenarios.SelectMany(s => new[] { (s.Loss, s.Slow, Lifeguard: false), (s.Loss, s.Slow, Lifeguard: true) }).ToArray();
        var suspicion = new SuspicionResult[cases.Length];
        Parallel.For(0, cases.Length, i => suspicion[i] = SuspicionFalsePositives(nodes, cases[i].Loss, cases[i].Slow, cases[i].Lifeguard, TimeSpan.FromHours(hours), seed + (ulong)i));
        foreach (var r in suspicion)
        {
            output.WriteLine(string.Create(C, $"| {r.Scenario} | {(r.Lifeguard ? "on" : "off")} | {r.SuspicionsPerNodeHour:0.000} | {r.DeathsPerNodeHour:0.0000} | {r.Refutations:N0} |"));
        }

        output.WriteLine();
        output.WriteLine("No member ever fails in these runs, so every suspicion and every death is false. Lifeguard's paper");
        output.WriteLine("reports false positives cut by more than 50x under slow message processing.");
    }

    private static Command LoadCommand()
    {
        var sizes = new Option<int[]>("--nodes") { Description = "Cluster sizes.", DefaultValueFactory = _ => [100, 1000, 10_000], AllowMultipleArgumentsPerToken = true };
        var window = new Option<int>("--seconds") { Description = "Measured window after a 60 s warm-up.", DefaultValueFactory = _ => 120 };
        var seed = SeedOption();
        var command = new Command("load", "Messages and bytes per member per second against N (SWIM: flat in N).") { sizes, window, seed };
        command.SetAction(parse =>
        {
            PrintLoad(Console.Out, parse.GetValue(sizes)!, parse.GetValue(window), parse.GetValue(seed));
            return 0;
        });
        return command;
    }

    internal static void PrintLoad(TextWriter output, int[] sizes, int seconds, ulong seed)
    {
        output.WriteLine(string.Create(C, $"## Load per member, converged cluster, no failures ({seconds} s window, seed {seed})"));
        output.WriteLine();
        output.WriteLine("| N | messages / member / s | bytes / member / s | probe msgs / member / s | probe bytes / member / s | push-pull bytes / member / s |");
        output.WriteLine("|---|---|---|---|---|---|");
        foreach (var n in sizes)
        {
            var r = Load(n, TimeSpan.FromSeconds(seconds), seed);
            output.WriteLine(string.Create(C, $"| {n:N0} | {r.MessagesPerMemberSecond:0.00} | {r.BytesPerMemberSecond:0} | {r.ProbeMessagesPerMemberSecond:0.00} | {r.ProbeBytesPerMemberSecond:0.0} | {r.PushPullBytesPerMemberSecond:0} |"));
        }

        output.WriteLine();
        output.WriteLine("SWIM (DSN 2002): about 2 messages per member per period without loss (at most 4K+2), independent of N.");
        output.WriteLine("Probe traffic is flat in N; memberlist's push-pull sends the whole member list every");
        output.WriteLine("PushPullInterval·(⌈log2 N − 5⌉ + 1), so its bytes grow like N / log N (Rapid, ATC 2018, measured");
        output.WriteLine("0.5–0.7 KB/s per process at N = 1000 for memberlist).");
    }

    private static Command DisseminationCommand()
    {
        var sizes = new Option<int[]>("--nodes") { Description = "Cluster sizes.", DefaultValueFactory = _ => [100, 316, 1000, 3162, 10_000], AllowMultipleArgumentsPerToken = true };
        var trials = new Option<int>("--trials") { Description = "Crashes per size (fewer for N >= 5000).", DefaultValueFactory = _ => 6 };
        var seed = SeedOption();
        var command = new Command("dissemination", "Time until every live member knows of a failure, against log N.") { sizes, trials, seed };
        command.SetAction(parse =>
        {
            PrintDissemination(Console.Out, parse.GetValue(sizes)!, parse.GetValue(trials), parse.GetValue(seed));
            return 0;
        });
        return command;
    }

    internal static void PrintDissemination(TextWriter output, int[] sizes, int trials, ulong seed)
    {
        output.WriteLine(string.Create(C, $"## Dissemination of a failure (SWIM + Lifeguard defaults, seed {seed})"));
        output.WriteLine();
        output.WriteLine("| N | ln N | trials | first suspicion (s) | no one believes it alive (s) | everyone holds it dead (s) | suspicion min (s) |");
        output.WriteLine("|---|---|---|---|---|---|---|");
        var results = new List<DisseminationResult>();
        foreach (var n in sizes)
        {
            var r = MembershipValidation.Dissemination(n, n >= 5000 ? Math.Max(2, trials / 3) : trials, seed);
            results.Add(r);
            var min = 4 * Math.Max(1, Math.Log10(n)); // memberlist: SuspicionMult · max(1, log10 N) · ProbeInterval
            output.WriteLine(string.Create(C, $"| {n:N0} | {Math.Log(n):0.00} | {r.Trials} | {r.FirstSuspicion:0.00} | {r.AllSuspect:0.00} | {r.AllDead:0.00} | {min:0} |"));
        }

        var spread = FitLogN(sizes, results.Select(r => r.AllSuspect - r.FirstSuspicion).ToList());
        var dead = FitLogN(sizes, results.Select(r => r.AllDead).ToList());
        output.WriteLine();
        output.WriteLine(string.Create(C, $"Spread of the suspicion (everyone − first): {spread.Intercept:0.00} + {spread.Slope:0.00}·ln N s, R² = {spread.RSquared:0.00}."));
        output.WriteLine(string.Create(C, $"Everyone holds it dead: {dead.Intercept:0.00} + {dead.Slope:0.00}·ln N s, R² = {dead.RSquared:0.00}."));
        output.WriteLine("SWIM's infection-style dissemination reaches everyone in O(log N) protocol periods; memberlist's");
        output.WriteLine("suspicion timeout also grows with log10 N by design.");
    }

    private static Command ScaleCommand()
    {
        var nodes = new Option<int>("--nodes") { Description = "Cluster size.", DefaultValueFactory = _ => 10_000 };
        var minutes = new Option<int>("--minutes") { Description = "Simulated minutes.", DefaultValueFactory = _ => 60 };
        var seed = SeedOption();
        var command = new Command("scale", "SWIM with many members: wall time and memory of a simulated hour (target: 10 000 members in <= 60 s, <= 4 GB).") { nodes, minutes, seed };
        command.SetAction(parse =>
        {
            PrintScale(Console.Out, parse.GetValue(nodes), parse.GetValue(minutes), parse.GetValue(seed));
            return 0;
        });
        return command;
    }

    internal static void PrintScale(TextWriter output, int nodes, int minutes, ulong seed)
    {
        var setupClock = WallClock.Start();
        using var lab = MembershipLab.Start(nodes, new SwimMembershipFactory(new SwimOptions()), seed, Lan());
        var setup = setupClock.Elapsed;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var collectionsBefore = GC.CollectionCount(0);
        var clock = WallClock.Start();
        lab.Simulation.RunFor(TimeSpan.FromMinutes(minutes / 2.0));
        var firstHalf = clock.Elapsed;
        var eventsFirstHalf = lab.Simulation.Statistics.EventsProcessed;
        lab.Simulation.RunFor(TimeSpan.FromMinutes(minutes / 2.0));
        var wall = clock.Elapsed;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var collections = GC.CollectionCount(0) - collectionsBefore;
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var statistics = lab.Simulation.Statistics;
        output.WriteLine(string.Create(C, $"## SWIM scale: {nodes:N0} members, {minutes} simulated minutes (seed {seed})"));
        output.WriteLine();
        output.WriteLine("| measure | value |");
        output.WriteLine("|---|---|");
        output.WriteLine(string.Create(C, $"| setup (converged views) | {setup.TotalSeconds:0.0} s |"));
        output.WriteLine(string.Create(C, $"| wall time of the run | {wall.TotalSeconds:0.0} s |"));
        output.WriteLine(string.Create(C, $"| wall time, first half / second half | {firstHalf.TotalSeconds:0.0} s / {(wall - firstHalf).TotalSeconds:0.0} s (the first holds the nodes' start: 2 GB of member tables paged in) |"));
        output.WriteLine(string.Create(C, $"| events | {statistics.EventsProcessed:N0} ({statistics.EventsProcessed / wall.TotalSeconds / 1e6:0.00} M/s; second half {(statistics.EventsProcessed - eventsFirstHalf) / (wall - firstHalf).TotalSeconds / 1e6:0.00} M/s) |"));
        output.WriteLine(string.Create(C, $"| messages | {statistics.MessagesSent:N0} ({statistics.MessagesSent / (double)nodes / (minutes * 60):0.00} per member per second) |"));
        output.WriteLine(string.Create(C, $"| peak working set | {process.PeakWorkingSet64 / (1024.0 * 1024 * 1024):0.00} GB |"));
        output.WriteLine(string.Create(C, $"| live managed heap at the end | {heap / (1024.0 * 1024 * 1024):0.00} GB |"));
        output.WriteLine(string.Create(C, $"| allocated during the run | {allocated / (1024.0 * 1024 * 1024):0.00} GB in {collections:N0} collections |"));
        output.WriteLine(string.Create(C, $"| false deaths | {lab.Sum(c => c.DeathsDeclared)} |"));
        output.WriteLine(string.Create(C, $"| trace hash | 0x{lab.Simulation.TraceHash:X16} |"));
    }
}
