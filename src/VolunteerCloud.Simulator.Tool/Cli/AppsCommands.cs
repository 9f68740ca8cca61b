using System.CommandLine;
using System.Globalization;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Placement;
using VolunteerCloud.Simulator.Churn;
using VolunteerCloud.Simulator.ControlPlane;
using VolunteerCloud.Simulator.Experiments;
using VolunteerCloud.Strategies;

namespace VolunteerCloud.Simulator.Cli;

/// <summary><c>vcsim apps churn</c>: apps on churning volunteers, every placement × churn-handler pair.</summary>
internal static class AppsCommands
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>The placements the experiment compares by default (every one but power-of-3, which the balls-into-bins study covers).</summary>
    private static readonly string[] DefaultPlacements = [StrategyNames.Random, StrategyNames.RoundRobin, StrategyNames.LeastLoaded, StrategyNames.PowerOfTwo, StrategyNames.Rendezvous, StrategyNames.BinPack, StrategyNames.SpreadRegions, StrategyNames.AvailabilityAware];

    private static IReadOnlyDictionary<string, Func<IPlacementStrategy>> Placements => StrategyCatalog.Placements;

    private static IReadOnlyDictionary<string, Func<IChurnHandler>> Handlers => StrategyCatalog.ChurnHandlers;

    public static Command Create()
    {
        var apps = new Command("apps", "Apps on churning volunteers: availability, restore time, moves and control traffic.");
        var hosts = new Option<int>("--hosts") { Description = "Volunteers.", DefaultValueFactory = _ => 2000 };
        var count = new Option<int>("--apps") { Description = "Apps.", DefaultValueFactory = _ => 200 };
        var replicas = new Option<int>("--replicas") { Description = "Replicas per app.", DefaultValueFactory = _ => 3 };
        var target = new Option<double?>("--target") { Description = "Availability target per app (e.g. 0.999): the replication handler derives k." };
        var days = new Option<double>("--days") { Description = "Simulated days.", DefaultValueFactory = _ => 7 };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per pair (1..s).", DefaultValueFactory = _ => 5 };
        var preset = new Option<string>("--preset") { Description = "Churn preset (half of the departures announced 30 s–2 min ahead).", DefaultValueFactory = _ => "seti" };
        var placement = new Option<string[]>("--placement") { Description = $"Placements ({string.Join(", ", Placements.Keys)}); by default {string.Join(", ", DefaultPlacements)}.", AllowMultipleArgumentsPerToken = true };
        var handler = new Option<string[]>("--handler") { Description = $"Churn handlers ({string.Join(", ", Handlers.Keys)}); all by default.", AllowMultipleArgumentsPerToken = true };
        var pinned = new Option<bool>("--controller") { Description = "The Deis-like baseline: one fixed controller stewards every app." };
        var crash = new Option<double?>("--crash-controller-hours") { Description = "Crash the entry node / controller at this hour." };
        var mass = new Option<double>("--mass-failure") { Description = "Crash this share of live hosts at hour 12.", DefaultValueFactory = _ => 0 };
        var csv = new Option<string?>("--csv") { Description = "Write one row per run to this CSV file." };
        var fidelity = new Option<string>("--fidelity") { Description = "protocol: every node runs the real control plane and its messages are counted; modelled: the replicated state is a delayed copy of the truth (for 100 000 volunteers; no control traffic measured).", DefaultValueFactory = _ => "protocol" };
        fidelity.AcceptOnlyFromAmong("protocol", "modelled");
        var churn = new Command("churn", "Every placement × churn-handler pair over seeds: app availability (mean, p5), time to restore, replica moves, control messages.")
        {
            hosts, count, replicas, target, days, seeds, preset, placement, handler, pinned, crash, mass, csv, fidelity,
        };
        churn.SetAction(parse =>
        {
            var placements = parse.GetValue(placement) is { Length: > 0 } p ? p : DefaultPlacements;
            var handlers = parse.GetValue(handler) is { Length: > 0 } h ? h : [.. Handlers.Keys];
            foreach (var name in placements.Where(n => !Placements.ContainsKey(n)).Concat(handlers.Where(n => !Handlers.ContainsKey(n))))
            {
                Console.Error.WriteLine($"vcsim apps churn: unknown strategy '{name}'; placements: {string.Join(", ", Placements.Keys)}; handlers: {string.Join(", ", Handlers.Keys)}");
                return 2;
            }

            if (!ChurnPresets.All.TryGetValue(parse.GetValue(preset)!, out var model))
            {
                Console.Error.WriteLine($"vcsim apps churn: no churn preset is called '{parse.GetValue(preset)}'");
                return 2;
            }

            var crashHours = parse.GetValue(crash);
            var baseScenario = new ControlPlaneScenario
            {
                Hosts = parse.GetValue(hosts),
                Apps = parse.GetValue(count),
                Replicas = parse.GetValue(replicas),
                AvailabilityTarget = parse.GetValue(target),
                Duration = TimeSpan.FromDays(parse.GetValue(days)),
                Churn = new AvailabilityModel(model.Name, model.Up, model.Down) { Reclaim = new ReclaimNotices(0.5, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)) },
                PinnedController = parse.GetValue(pinned),
                CrashControllerAt = crashHours is { } ch ? TimeSpan.FromHours(ch) : null,
                MassFailureShare = parse.GetValue(mass),
                Fidelity = parse.GetValue(fidelity) == "modelled" ? ControlPlaneFidelity.Modelled : ControlPlaneFidelity.Protocol,
            };
            Run(Console.Out, baseScenario, placements, handlers, parse.GetValue(seeds), parse.GetValue(csv));
            return 0;
        });
        apps.Subcommands.Add(churn);
        return apps;
    }

    internal static void Run(TextWriter output, ControlPlaneScenario baseScenario, string[] placements, string[] handlers, int seeds, string? csvPath)
    {
        output.WriteLine(string.Create(C,
            $"## Apps under churn: {baseScenario.Hosts} volunteers ({baseScenario.Churn.Name}), {baseScenario.Apps} apps × {baseScenario.Replicas} replicas{(baseScenario.AvailabilityTarget is { } t ? $" (target {t})" : "")}, {baseScenario.Duration.TotalDays} days, {seeds} seeds{(baseScenario.PinnedController ? ", one fixed controller" : ", leaderless stewards")}{(baseScenario.CrashControllerAt is { } c ? $", node 0 crashed at {c.TotalHours} h" : "")}{(baseScenario.Fidelity == ControlPlaneFidelity.Modelled ? ", modelled control plane" : "")}"));
        output.WriteLine();
        output.WriteLine("| placement | handler | availability mean | p5 | any replica up | restore mean (s) | restore p95 (s) | replica starts | control msgs/node/s | bytes/node/s | violations | CPU (s) |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        using var csv = csvPath is null ? null : new StreamWriter(csvPath);
        csv?.WriteLine("placement,handler,seed,availability_mean,availability_p5,any_up,restore_mean_s,restore_p95_s,restores,replica_starts,msgs_per_node_s,bytes_per_node_s,violations,apps_lost,whole_again_s,events");
        // Every (pair, seed) is an independent simulation: run them in parallel across the cores, then report in order.
        var jobs = (from placement in placements from handler in handlers from seed in Enumerable.Range(1, seeds) select (placement, handler, seed)).ToArray();
        var results = new ControlPlaneResult[jobs.Length];
        var seconds = new double[jobs.Length];
        Parallel.For(0, jobs.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var (placement, handler, seed) = jobs[i];
            var clock = WallClock.Start();
            results[i] = ControlPlaneLab.Run(baseScenario with { Placement = Placements[placement], ChurnHandler = Handlers[handler], Seed = (ulong)seed });
            seconds[i] = clock.Elapsed.TotalSeconds;
        });

        for (var i = 0; i < jobs.Length; i++)
        {
            var (placement, handler, seed) = jobs[i];
            var result = results[i];
            csv?.WriteLine(string.Create(C,
                $"{placement},{handler},{seed},{result.MeanAvailability:0.#####},{result.P5Availability:0.#####},{result.MeanAnyAvailability:0.#####},{result.MeanRestoreSeconds:0.#},{result.P95RestoreSeconds:0.#},{result.Restores},{result.ReplicaStarts},{result.ControlMessagesPerNodeSecond:0.####},{result.ControlBytesPerNodeSecond:0.#},{result.InvariantViolations},{result.AppsLost},{result.WholeAgainSecondsAfterMassFailure:0.#},{result.Events}"));
            foreach (var example in result.ViolationExamples.Take(3))
            {
                Console.Error.WriteLine($"violation: {example}");
            }
        }

        foreach (var group in jobs.Select((job, i) => (job, i)).GroupBy(x => (x.job.placement, x.job.handler)))
        {
            var rs = group.Select(x => results[x.i]).ToList();
            output.WriteLine(string.Create(C,
                $"| {group.Key.placement} | {group.Key.handler} | {rs.Average(r => r.MeanAvailability):P2} | {rs.Average(r => r.P5Availability):P2} | {rs.Average(r => r.MeanAnyAvailability):P2} | {rs.Average(r => r.MeanRestoreSeconds):0} | {rs.Average(r => r.P95RestoreSeconds):0} | {rs.Average(r => r.ReplicaStarts):0} | {rs.Average(r => r.ControlMessagesPerNodeSecond):0.000} | {rs.Average(r => r.ControlBytesPerNodeSecond):0} | {rs.Sum(r => r.InvariantViolations)} | {group.Sum(x => seconds[x.i]):0} |"));
        }

        output.WriteLine();
        output.WriteLine("Availability: share of one-minute samples in which an app had all its replicas running (mean over apps, and the");
        output.WriteLine("5th percentile app); any replica up: at least one running. Restore: from the first sample an app was short of");
        output.WriteLine("replicas to the first sample it was whole again. Membership is modelled (departures seen after 15 s, arrivals");
        output.WriteLine("after 1 s); control messages are the replicated state's and the steward's commands.");
    }
}
