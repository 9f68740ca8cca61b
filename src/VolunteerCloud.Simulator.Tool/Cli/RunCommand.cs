using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Spectre.Console;
using VolunteerCloud.Simulator.ControlPlane;
using VolunteerCloud.Simulator.Experiments.Runner;

namespace VolunteerCloud.Simulator.Cli;

/// <summary><c>vcsim run &lt;experiment&gt;</c>: every combination × seed of an experiment, results and figures under its results/.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var experiment = new Argument<string>("experiment")
        {
            Description = $"The experiment's folder (with experiment.yaml), e.g. experiments/quickstart; or the name of an experiment that comes with vcsim ({string.Join(", ", EmbeddedExperiments)}), written to ./<name>/ when no such folder is here.",
        };
        var only = new Option<string?>("--only") { Description = "Run one combination (as named in runs.csv, e.g. power-of-2+reactive) and print its rows." };
        var seed = new Option<ulong?>("--seed") { Description = "Run this seed only (with --only: rerun one row exactly)." };
        var parallel = new Option<int>("--parallel") { Description = "Runs at once.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var output = new Option<string?>("--output") { Description = "Where results go. Default: <experiment>/results (not written with --only or --seed)." };
        var quiet = new Option<bool>("--quiet") { Description = "No progress bar." };
        var verbose = new Option<bool>("--verbose") { Description = "Also say what the garbage collector cost (collections, time paused), on stderr." };
        var report = new Option<bool>("--report")
        {
            Description = $"Write the results of the runs recorded so far in <output>/{RunCheckpoint.FileName}, making none (a grid part-way; summary.md says how many of the planned runs it holds).",
        };
        var resume = new Option<bool>("--resume")
        {
            Description = $"Go on with an interrupted run: keep the runs recorded in <output>/{RunCheckpoint.FileName} (every full run writes it as runs finish) and make only the others.",
        };
        var restamp = new Option<string?>("--restamp")
        {
            Description = $"Carry <output>/{RunCheckpoint.FileName} over from an earlier version of the definition file that differs only in comments and layout (e.g. git show HEAD~1:<experiment>/experiment.yaml > earlier.yaml): its runs are stamped with the new hash, nothing else changes; then --report.",
        };
        var command = new Command("run", "Run an experiment: every combination of its strategies × every seed, in parallel; runs.csv, timeseries.csv, summary.md and figures.")
        {
            experiment, only, seed, parallel, output, quiet, verbose, resume, report, restamp,
        };
        command.SetAction(parse =>
        {
            ExperimentDefinition definition;
            IReadOnlyList<(Combination, ulong)> plan;
            try
            {
                definition = ExperimentDefinition.Load(Materialize(parse.GetValue(experiment)!));
                if (definition.Kind == "membership")
                {
                    if (parse.GetValue(resume) || parse.GetValue(report) || parse.GetValue(restamp) is not null)
                    {
                        throw new ExperimentDefinitionException($"{definition.Path}: a membership study keeps no checkpoint (--resume, --report, --restamp); it runs in minutes.");
                    }

                    return RunMembership(definition, parse.GetValue(only), parse.GetValue(seed), parse.GetValue(parallel), parse.GetValue(output), parse.GetValue(verbose));
                }

                plan = ExperimentRunner.Plan(definition, parse.GetValue(only), parse.GetValue(seed));
            }
            catch (ExperimentDefinitionException e)
            {
                Console.Error.WriteLine("vcsim run: " + e.Message);
                return 2;
            }

            var partial = parse.GetValue(only) is not null || parse.GetValue(seed) is not null;
            if (parse.GetValue(restamp) is { } earlierFile)
            {
                if (partial || parse.GetValue(resume) || parse.GetValue(report))
                {
                    Console.Error.WriteLine("vcsim run: --restamp works alone (then --report writes the results).");
                    return 2;
                }

                var checkpoint = parse.GetValue(output) ?? Path.Combine(Path.GetDirectoryName(definition.Path)!, "results");
                try
                {
                    var earlier = ExperimentDefinition.Load(earlierFile);
                    var stamped = RunCheckpoint.Restamp(earlier, definition, checkpoint);
                    Console.WriteLine($"vcsim run: {stamped} runs in {Path.Combine(checkpoint, RunCheckpoint.FileName)} carried over from definition {earlier.Hash} to {definition.Hash} (the files differ only in comments and layout); write the results with --report.");
                    return 0;
                }
                catch (ExperimentDefinitionException e)
                {
                    Console.Error.WriteLine("vcsim run: " + e.Message);
                    return 2;
                }
            }

            var commit = Commit();
            var clock = WallClock.Start();
            var quietly = parse.GetValue(quiet) || Console.IsOutputRedirected;
            if (partial && parse.GetValue(output) is null)
            {
                if (parse.GetValue(resume) || parse.GetValue(report))
                {
                    Console.Error.WriteLine("vcsim run: --resume and --report work on a full run's checkpoint; --only and --seed print their rows and keep nothing.");
                    return 2;
                }

                var rows = Execute(definition, plan, parse.GetValue(parallel), quietly);
                Console.WriteLine(ExperimentRunner.RunsHeader);
                foreach (var run in rows)
                {
                    Console.WriteLine(ExperimentRunner.RunsRow(definition, commit, run));
                }

                return rows.Any(r => r.Result.InvariantViolations > 0) ? 1 : 0;
            }

            var directory = parse.GetValue(output) ?? Path.Combine(Path.GetDirectoryName(definition.Path)!, "results");
            IReadOnlyList<RunRecord> done;
            try
            {
                done = parse.GetValue(resume) || parse.GetValue(report) ? RunCheckpoint.Load(definition, directory) : [];
            }
            catch (ExperimentDefinitionException e)
            {
                Console.Error.WriteLine("vcsim run: " + e.Message);
                return 2;
            }

            if (parse.GetValue(report))
            {
                var recorded = ExperimentRunner.Recorded(plan, done);
                var written = ExperimentRunner.Write(definition, recorded, directory, commit, plannedRuns: plan.Count);
                Console.WriteLine(written.Summary);
                Console.WriteLine($"{recorded.Count} of {plan.Count} runs in the checkpoint; {written.Describe()}");
                return recorded.Any(r => r.Result.InvariantViolations > 0) ? 1 : 0;
            }

            var rest = ExperimentRunner.Remaining(plan, done);
            if (done.Count > 0)
            {
                Console.Error.WriteLine($"vcsim run: {plan.Count - rest.Count} of {plan.Count} runs kept from {Path.Combine(directory, RunCheckpoint.FileName)} (commit {string.Join(", ", done.Select(r => r.Commit).Distinct())}); {rest.Count} to make at {commit}.");
            }

            var runs = Execute(definition, rest.Count, quietly, progress => ExperimentRunner.RunWithCheckpoint(definition, plan, done, directory, commit, parse.GetValue(parallel), progress));
            var results = ExperimentRunner.Write(definition, runs, directory, commit);
            Console.WriteLine(results.Summary);
            Console.WriteLine($"{runs.Count} runs in {clock.Elapsed.TotalSeconds:0.0} s; {results.Describe()}");
            if (parse.GetValue(verbose))
            {
                Console.Error.WriteLine(GcReport(clock.Elapsed));
            }

            foreach (var run in runs.Where(r => r.Result.InvariantViolations > 0))
            {
                Console.Error.WriteLine($"invariant violations in {run.Combination.Name} seed {run.Seed} (rerun: vcsim run {parse.GetValue(experiment)} --only {run.Combination.Name} --seed {run.Seed}): {string.Join("; ", run.Result.ViolationExamples.Take(3))}");
            }

            return runs.Any(r => r.Result.InvariantViolations > 0) ? 1 : 0;
        });
        return command;
    }

    private static int RunMembership(ExperimentDefinition definition, string? only, ulong? seed, int parallelism, string? output, bool verbose)
    {
        var cases = definition.MembershipCases.Where(c => only is null || c.Combination == only).ToList();
        if (cases.Count == 0)
        {
            throw new ExperimentDefinitionException($"{definition.Path}: no combination '{only}'; the combinations are {string.Join(", ", definition.MembershipCases.Select(c => c.Combination).Distinct())}.");
        }

        if (seed is { } s)
        {
            cases = [.. cases.Select(c => c with { Seed = s }).Distinct()];
        }

        var commit = Commit();
        var clock = WallClock.Start();
        var results = new MembershipRunResult[cases.Count];
        // The largest clusters first, so the parallel runs finish together.
        var order = Enumerable.Range(0, cases.Count).OrderByDescending(i => cases[i].Nodes).ToArray();
        Parallel.ForEach(order, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism) }, i => results[i] = MembershipStudy.Run(cases[i], definition.Duration, definition.Crashes));
        if ((only is not null || seed is not null) && output is null)
        {
            Console.WriteLine(MembershipStudy.RunsHeader);
            foreach (var result in results)
            {
                Console.WriteLine(MembershipStudy.RunsRow(definition, commit, result));
            }

            return 0;
        }

        var directory = output ?? Path.Combine(Path.GetDirectoryName(definition.Path)!, "results");
        var written = MembershipStudy.Write(definition, results, directory, commit);
        Console.WriteLine(written.Summary);
        Console.WriteLine($"{results.Length} runs in {clock.Elapsed.TotalSeconds:0.0} s; {written.Describe()}");
        if (verbose)
        {
            Console.Error.WriteLine(GcReport(clock.Elapsed));
        }

        return 0;
    }

    /// <summary>The experiments whose definitions come with vcsim (embedded resources), by name.</summary>
    internal static IReadOnlyList<string> EmbeddedExperiments { get; } =
        [.. typeof(RunCommand).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("experiments/", StringComparison.Ordinal) && n.EndsWith("/experiment.yaml", StringComparison.Ordinal))
            .Select(n => n["experiments/".Length..^"/experiment.yaml".Length])
            .Order(StringComparer.Ordinal)];

    /// <summary>
    /// The path to load: <paramref name="argument"/> itself when it exists; for the name of an embedded experiment
    /// with no such folder here (vcsim installed as a tool, no clone), its definition written to ./name/experiment.yaml.
    /// </summary>
    internal static string Materialize(string argument)
    {
        if (File.Exists(argument) || Directory.Exists(argument) || !EmbeddedExperiments.Contains(argument, StringComparer.Ordinal))
        {
            return argument;
        }

        using var embedded = typeof(RunCommand).Assembly.GetManifestResourceStream($"experiments/{argument}/experiment.yaml")!;
        Directory.CreateDirectory(argument);
        var path = Path.Combine(argument, "experiment.yaml");
        using (var file = File.Create(path))
        {
            embedded.CopyTo(file);
        }

        Console.Error.WriteLine($"vcsim run: no folder '{argument}' here; wrote the definition that comes with vcsim to {path} (results go to {Path.Combine(argument, "results")}/)");
        return argument;
    }

    /// <summary>
    /// What the garbage collector cost this process (a line for the console, not the results): collections per
    /// generation, time paused and the mode. Wall times of one build differ from run to run mostly by this.
    /// </summary>
    internal static string GcReport(TimeSpan wall)
    {
        var paused = GC.GetTotalPauseDuration();
        return string.Create(CultureInfo.InvariantCulture, $"vcsim: GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}: {GC.CollectionCount(0)} gen0, {GC.CollectionCount(1)} gen1, {GC.CollectionCount(2)} gen2 collections, {paused.TotalSeconds:0.0} s paused ({(wall > TimeSpan.Zero ? paused / wall : 0):P0} of {wall.TotalSeconds:0.0} s wall)");
    }

    private static IReadOnlyList<RunRecord> Execute(ExperimentDefinition definition, IReadOnlyList<(Combination, ulong)> plan, int parallelism, bool quiet) =>
        Execute(definition, plan.Count, quiet, progress => ExperimentRunner.Run(definition, plan, parallelism, progress));

    /// <summary>Runs <paramref name="work"/> (<paramref name="count"/> runs) behind a progress bar, or quietly.</summary>
    private static IReadOnlyList<RunRecord> Execute(ExperimentDefinition definition, int count, bool quiet, Func<RunProgress?, IReadOnlyList<RunRecord>> work)
    {
        if (quiet)
        {
            return work(null);
        }

        var progress = new RunProgress();
        IReadOnlyList<RunRecord> runs = [];
        var total = definition.Duration.TotalSeconds * count;
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask($"{definition.Name}: 0/{count} runs", maxValue: total);
                var running = Task.Run(() => runs = work(progress));
                var clock = WallClock.Start();
                while (!running.Wait(250))
                {
                    var seconds = Math.Max(clock.Elapsed.TotalSeconds, 0.001);
                    task.Value = Math.Min(total, progress.Simulated.TotalSeconds);
                    task.Description = $"{definition.Name}: {progress.RunsDone}/{count} runs, {progress.Simulated.TotalDays:0.0} simulated days, {progress.Events / seconds / 1e6:0.00} M events/s";
                }

                running.GetAwaiter().GetResult();
                task.Value = total;
            });
        return runs;
    }

    /// <summary>
    /// The commit of the code making the runs: the one this build was made from (the SDK stamps it into the assembly's
    /// informational version), so a copy of an older build run from a newer tree is not credited to the newer commit;
    /// "-dirty" when the tree it was built in has changes under src (likely part of the build). Without a stamp, the
    /// tree's HEAD; "unknown" outside a git work tree.
    /// </summary>
    private static string Commit()
    {
        var version = typeof(RunCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        string? head = null;
        var dirty = false;
        try
        {
            static string Git(string arguments)
            {
                using var git = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
                var text = git.StandardOutput.ReadToEnd().Trim();
                git.WaitForExit();
                return git.ExitCode == 0 ? text : throw new InvalidOperationException();
            }

            head = Git("rev-parse HEAD");
            dirty = Git("status --porcelain --untracked-files=no -- src").Length > 0;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }

        return DescribeCommit(version, head, dirty);
    }

    /// <summary>What <see cref="Commit"/> reports, from the build's informational version ("0.1.0+sha"), the tree's HEAD and whether src has changes.</summary>
    internal static string DescribeCommit(string? informationalVersion, string? head, bool dirty)
    {
        const int Short = 12;
        var plus = informationalVersion?.IndexOf('+', StringComparison.Ordinal) ?? -1;
        var built = plus >= 0 && informationalVersion!.Length - plus - 1 >= Short ? informationalVersion[(plus + 1)..] : null;
        if (built is not null)
        {
            return built[..Short] + (dirty && string.Equals(head, built, StringComparison.OrdinalIgnoreCase) ? "-dirty" : "");
        }

        return head is { Length: >= Short } ? head[..Short] + (dirty ? "-dirty" : "") : "unknown";
    }
}
