using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using MathNet.Numerics.Distributions;
using VolunteerCloud.Simulator.ControlPlane;

namespace VolunteerCloud.Simulator.Experiments.Runner;

/// <summary>One run of an experiment: a combination, a seed, and what it measured.</summary>
public sealed record RunRecord(Combination Combination, ulong Seed, ControlPlaneResult Result)
{
    /// <summary>The commit that made the run, when it is not the one writing the results (a run read back from a checkpoint).</summary>
    public string? Commit { get; init; }
}

/// <summary>How far a set of runs has got (for progress bars): runs done, simulated seconds, events processed.</summary>
public sealed class RunProgress
{
    private long _done;
    private long _simulatedMilliseconds;
    private long _events;

    /// <summary>Runs finished.</summary>
    public long RunsDone => Interlocked.Read(ref _done);

    /// <summary>Simulated time covered, summed over runs.</summary>
    public TimeSpan Simulated => TimeSpan.FromMilliseconds(Interlocked.Read(ref _simulatedMilliseconds));

    /// <summary>Events processed, summed over runs.</summary>
    public long Events => Interlocked.Read(ref _events);

    internal void Advance(TimeSpan simulated, long events)
    {
        Interlocked.Add(ref _simulatedMilliseconds, (long)simulated.TotalMilliseconds);
        Interlocked.Add(ref _events, events);
    }

    internal void RunDone() => Interlocked.Increment(ref _done);
}

/// <summary>
/// Runs an experiment's combinations × seeds, in parallel across cores (every run is an independent, deterministic
/// simulation: the numbers do not depend on how many run at once), and writes its results: runs.csv, timeseries.csv,
/// restores.csv, summary.md (mean and 95% confidence interval per combination) and the figures.
/// </summary>
public static class ExperimentRunner
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>The runs to make: every combination × seed (seed by seed), or the one asked for.</summary>
    /// <exception cref="ExperimentDefinitionException">The combination or seed is not in the definition.</exception>
    public static IReadOnlyList<(Combination Combination, ulong Seed)> Plan(ExperimentDefinition definition, string? only = null, ulong? seed = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var combinations = definition.Combinations;
        if (only is not null)
        {
            combinations = [.. combinations.Where(c => c.Name == only)];
            if (combinations.Count == 0)
            {
                throw new ExperimentDefinitionException($"{definition.Path}: no combination '{only}'; the combinations are {string.Join(", ", definition.Combinations.Select(c => c.Name))}.");
            }
        }

        // --seed reruns any seed, listed or not (a row's seed is all it takes to reproduce it).
        IReadOnlyList<ulong> seeds = seed is { } s ? [s] : definition.Seeds;
        // Seed by seed: a grid stopped part-way (see RunCheckpoint) already holds every combination at the first seeds.
        return [.. from s2 in seeds from c in combinations select (c, s2)];
    }

    /// <summary>Runs the planned runs; results come back in plan order. <paramref name="finished"/> sees each run as it finishes (from the run's thread).</summary>
    public static IReadOnlyList<RunRecord> Run(ExperimentDefinition definition, IReadOnlyList<(Combination Combination, ulong Seed)> plan, int parallelism, RunProgress? progress = null, Action<RunRecord>? finished = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(plan);
        var records = new RunRecord[plan.Count];
        // Runs are taken one at a time in plan order (Parallel.For would hand each worker a range, so a grid stopped
        // part-way would hold runs from the middle of the plan instead of every combination at the first seeds).
        var inPlanOrder = Partitioner.Create(Enumerable.Range(0, plan.Count), EnumerablePartitionerOptions.NoBuffering);
        Parallel.ForEach(inPlanOrder, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism) }, i =>
        {
            var (combination, seed) = plan[i];
            var last = (Time: TimeSpan.Zero, Events: 0L);
            var scenario = definition.Scenario(combination, seed) with
            {
                OnSample = progress is null ? null : (t, events) =>
                {
                    progress.Advance(t - last.Time, events - last.Events);
                    last = (t, events);
                },
            };
            records[i] = new RunRecord(combination, seed, ControlPlaneLab.Run(scenario));
            finished?.Invoke(records[i]);
            progress?.RunDone();
        });
        return records;
    }

    /// <summary>The planned runs that are not among <paramref name="done"/> (matched by combination name and seed).</summary>
    public static IReadOnlyList<(Combination Combination, ulong Seed)> Remaining(IReadOnlyList<(Combination Combination, ulong Seed)> plan, IReadOnlyList<RunRecord> done)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var made = ByRun(done);
        return [.. plan.Where(p => !made.ContainsKey((p.Combination.Name, p.Seed)))];
    }

    /// <summary>The planned runs that are among <paramref name="done"/>, in plan order (a grid part-way).</summary>
    public static IReadOnlyList<RunRecord> Recorded(IReadOnlyList<(Combination Combination, ulong Seed)> plan, IReadOnlyList<RunRecord> done)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var made = ByRun(done);
        return [.. plan.Where(p => made.ContainsKey((p.Combination.Name, p.Seed))).Select(p => made[(p.Combination.Name, p.Seed)])];
    }

    /// <summary>
    /// Makes the planned runs not among <paramref name="done"/> (runs read back from the checkpoint), recording each in
    /// <paramref name="directory"/>'s <see cref="RunCheckpoint"/> as it finishes, and returns every planned run in plan
    /// order: what an uninterrupted run would have returned.
    /// </summary>
    public static IReadOnlyList<RunRecord> RunWithCheckpoint(
        ExperimentDefinition definition, IReadOnlyList<(Combination Combination, ulong Seed)> plan, IReadOnlyList<RunRecord> done, string directory, string commit, int parallelism, RunProgress? progress = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        IReadOnlyList<RunRecord> made;
        using (var checkpoint = RunCheckpoint.Open(definition, directory, done, commit))
        {
            made = Run(definition, Remaining(plan, done), parallelism, progress, run => checkpoint.Append(definition, run, commit));
        }

        return Recorded(plan, [.. done, .. made]);
    }

    private static Dictionary<(string Combination, ulong Seed), RunRecord> ByRun(IReadOnlyList<RunRecord> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var byRun = new Dictionary<(string, ulong), RunRecord>();
        foreach (var run in runs)
        {
            byRun[(run.Combination.Name, run.Seed)] = run; // a later record of the same run wins
        }

        return byRun;
    }

    /// <summary>The header of runs.csv.</summary>
    public const string RunsHeader = "experiment,definition_hash,commit,combination,placement,churn_handler,control,seed,availability_mean,availability_p5,any_up,restore_mean_s,restore_p95_s,restores,replica_starts,msgs_per_node_s,bytes_per_node_s,violations,apps_lost,whole_again_s,events";

    /// <summary>One runs.csv row (everything but the run's wall time, which varies: the numbers are the same on every rerun).</summary>
    public static string RunsRow(ExperimentDefinition definition, string commit, RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(run);
        var r = run.Result;
        var c = run.Combination;
        return string.Create(C,
            $"{definition.Name},{definition.Hash},{run.Commit ?? commit},{c.Name},{c.Placement},{c.Handler},{c.Control},{run.Seed},{r.MeanAvailability:0.######},{r.P5Availability:0.######},{r.MeanAnyAvailability:0.######},{r.MeanRestoreSeconds:0.#},{r.P95RestoreSeconds:0.#},{r.Restores},{r.ReplicaStarts},{r.ControlMessagesPerNodeSecond:0.#####},{r.ControlBytesPerNodeSecond:0.##},{r.InvariantViolations},{r.AppsLost},{r.WholeAgainSecondsAfterMassFailure:0.#},{r.Events}");
    }

    /// <summary>
    /// Writes results/ (runs.csv, timeseries.csv, restores.csv, summary.md, figures as PNG and SVG). A file is written
    /// only when it changes, and runs that reproduce the rows of the runs.csv already there keep the commits those
    /// rows name (see <see cref="ResultFiles"/>): rerunning a committed experiment leaves the tree as it was.
    /// </summary>
    /// <param name="definition">The experiment.</param>
    /// <param name="runs">The runs, in plan order.</param>
    /// <param name="directory">Where the results go.</param>
    /// <param name="commit">The commit writing them (and of every run that names none).</param>
    /// <param name="plannedRuns">How many runs the grid plans, when <paramref name="runs"/> is a grid part-way (summary.md says so).</param>
    public static WrittenResults Write(ExperimentDefinition definition, IReadOnlyList<RunRecord> runs, string directory, string commit, int? plannedRuns = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(runs);
        var reproduced = ResultFiles.ReproducedCommits(directory, RunsHeader, [.. runs.Select(r => RunsRow(definition, commit, r))]);
        if (reproduced is not null)
        {
            runs = [.. runs.Select((r, i) => r with { Commit = reproduced[i] })];
        }

        var files = new ResultFiles(directory);
        files.WriteLines("runs.csv", [RunsHeader, .. runs.Select(r => RunsRow(definition, commit, r))]);

        // Share of apps whole, averaged over bins of at most ~500 per run (1 min to 6 h), so the file stays small.
        var bin = TimeSeriesBin(definition);
        var perBin = Math.Max(1, (int)Math.Round(bin / definition.SampleInterval));
        var timeseries = new List<string> { "combination,seed,hours,apps_whole" };
        var start = TimeSpan.FromMinutes(10); // ControlPlaneLab samples from minute 10 (deploys settle first)
        foreach (var run in runs)
        {
            var series = run.Result.AvailabilityOverTime;
            for (var i = 0; i < series.Length; i += perBin)
            {
                var end = Math.Min(series.Length, i + perBin);
                var mean = 0.0;
                for (var j = i; j < end; j++)
                {
                    mean += series[j];
                }

                var hours = (start + (definition.SampleInterval * i)).TotalHours;
                timeseries.Add(string.Create(C, $"{run.Combination.Name},{run.Seed},{hours:0.####},{mean / (end - i):0.#####}"));
            }
        }

        files.WriteLines("timeseries.csv", timeseries);
        files.WriteLines("restores.csv", ["combination,seed,restore_s", .. from run in runs from seconds in run.Result.RestoreSeconds select string.Create(C, $"{run.Combination.Name},{run.Seed},{seconds:0.#}")]);
        var summary = Summary(definition, runs, commit, plannedRuns);
        files.WriteText("summary.md", summary);
        Figures.Draw(definition, runs, files);
        return new WrittenResults(summary, files, reproduced?.Distinct().Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>The time-series bin: the smallest of 1 min, 5 min, 10 min, 30 min, 1 h, 6 h giving at most ~500 bins per run, and never shorter than a sample.</summary>
    public static TimeSpan TimeSeriesBin(ExperimentDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        TimeSpan[] bins = [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(6)];
        var bin = bins.FirstOrDefault(b => definition.Duration / b <= 500, bins[^1]);
        return bin < definition.SampleInterval ? definition.SampleInterval : bin;
    }

    /// <summary>The mean and the half-width of its 95% confidence interval (Student's t over the seeds); NaN with one seed.</summary>
    public static (double Mean, double HalfWidth) MeanCi(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var mean = values.Average();
        if (values.Count < 2)
        {
            return (mean, double.NaN);
        }

        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return (mean, StudentT.InvCDF(0, 1, values.Count - 1, 0.975) * sd / Math.Sqrt(values.Count));
    }

    private static string Summary(ExperimentDefinition d, IReadOnlyList<RunRecord> runs, string commit, int? plannedRuns)
    {
        var text = new StringBuilder();
        text.AppendLine(C, $"# {d.Name}: results");
        text.AppendLine();
        if (plannedRuns is { } planned && planned != runs.Count)
        {
            text.AppendLine(C, $"**Part-way: {runs.Count} of the {planned} planned runs** (the rest are still to make: `vcsim run {Path.GetDirectoryName(d.Path)} --resume`). Each row averages the seeds in its seeds column; runs.csv lists every run.");
            text.AppendLine();
        }

        if (d.Question.Length > 0)
        {
            text.AppendLine(C, $"**Question.** {d.Question.Trim()}");
            text.AppendLine();
        }

        var groups = runs.GroupBy(r => r.Combination.Name).Select(g => (Name: g.Key, Runs: g.ToList(), Seeds: SeedList(g.Select(r => r.Seed)))).ToList();
        var seeds = groups.Select(g => g.Seeds).Distinct(StringComparer.Ordinal).Count() == 1
            ? $"{Count(groups[0].Runs.Select(r => r.Seed).Distinct().Count(), "seed")} per combination"
            : "seeds differ between combinations (column seeds: compare rows over the same seeds)";
        text.AppendLine(C, $"{d.Volunteers} volunteers ({d.Churn} churn), {d.Apps} apps × {d.Replicas} replicas{(d.AvailabilityTarget is { } t ? $" (availability target {t})" : "")}, {SimulatedSpan(d.Duration)}{(d.Fidelity == ControlPlaneFidelity.Modelled ? ", modelled control plane" : "")}, {seeds}, definition `{d.Hash}`, commit {string.Join(", ", runs.Select(r => r.Commit ?? commit).Distinct().Order(StringComparer.Ordinal).Select(c => $"`{c}`"))}.");
        text.AppendLine();
        text.AppendLine("Mean over seeds ± half-width of the 95% confidence interval (Student's t; — with one seed).");
        text.AppendLine();
        text.AppendLine("| combination | seeds | availability mean (%) | p5 app (%) | any replica up (%) | restore mean (s) | restore p95 (s) | replica starts | msgs/node/s | bytes/node/s | violations | apps lost |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (name, rs, seedList) in groups)
        {
            text.AppendLine(C, $"| {name} | {seedList} | {Ci(rs, r => 100 * r.Result.MeanAvailability, "0.00")} | {Ci(rs, r => 100 * r.Result.P5Availability, "0.00")} | {Ci(rs, r => 100 * r.Result.MeanAnyAvailability, "0.000")} | {Ci(rs, r => r.Result.MeanRestoreSeconds, "0")} | {Ci(rs, r => r.Result.P95RestoreSeconds, "0")} | {Ci(rs, r => r.Result.ReplicaStarts, "0")} | {Ci(rs, r => r.Result.ControlMessagesPerNodeSecond, "0.000")} | {Ci(rs, r => r.Result.ControlBytesPerNodeSecond, "0")} | {rs.Sum(r => r.Result.InvariantViolations)} | {rs.Sum(r => r.Result.AppsLost)} |");
        }

        text.AppendLine();
        text.AppendLine("Availability: share of samples in which an app had all its replicas running (mean over apps; p5: the 5th-percentile");
        text.AppendLine("app). Restore: from the first sample an app was short of replicas to the first it was whole again. Violations: the");
        text.AppendLine(d.Fidelity == ControlPlaneFidelity.Modelled
            ? "invariant checkers' findings at every sample (goal 0). Modelled control plane: no messages are sent, so none are counted (NaN). Figures (PNG and SVG): availability-over-time, restore-cdf."
            : "invariant checkers' findings at every sample (goal 0). Figures (PNG and SVG): availability-over-time, restore-cdf, messages.");
        return text.ToString();
    }

    /// <summary>Seeds as a short list, consecutive ones as a range: "1–5", "1, 3", "1–3, 5".</summary>
    internal static string SeedList(IEnumerable<ulong> seeds)
    {
        var sorted = seeds.Distinct().Order().ToList();
        var parts = new List<string>();
        for (var i = 0; i < sorted.Count;)
        {
            var j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1)
            {
                j++;
            }

            parts.Add(j - i >= 2 ? $"{sorted[i].ToString(C)}–{sorted[j].ToString(C)}" : string.Join(", ", sorted[i..(j + 1)].Select(s => s.ToString(C))));
            i = j + 1;
        }

        return string.Join(", ", parts);
    }

    private static string Ci(IReadOnlyList<RunRecord> runs, Func<RunRecord, double> metric, string format)
    {
        var (mean, half) = MeanCi([.. runs.Select(metric)]);
        return FormatCi(mean, half, format);
    }

    /// <summary>
    /// "mean ± half-width" with the decimals of <paramref name="format"/>, or more when the mean needs them to show two
    /// significant digits (0.38 bytes/node/s is "0.38 ± 0.03", not "0 ± 0") or the half-width its first one
    /// (99.878 ± 0.004, not 99.88 ± 0.00); the mean alone when the half-width is NaN.
    /// </summary>
    public static string FormatCi(double mean, double halfWidth, string format)
    {
        ArgumentNullException.ThrowIfNull(format);
        var dot = format.IndexOf('.', StringComparison.Ordinal);
        var decimals = dot < 0 ? 0 : format.Length - dot - 1;
        if (double.IsFinite(mean) && mean != 0)
        {
            decimals = Math.Clamp(1 - (int)Math.Floor(Math.Log10(Math.Abs(mean))), decimals, 6);
        }

        if (double.IsFinite(halfWidth) && halfWidth > 0)
        {
            decimals = Math.Clamp(-(int)Math.Floor(Math.Log10(halfWidth)), decimals, 6); // the half-width's first digit shows
        }

        var f = "F" + decimals.ToString(C);
        return double.IsNaN(halfWidth) ? mean.ToString(f, C) : $"{mean.ToString(f, C)} ± {halfWidth.ToString(f, C)}";
    }

    /// <summary>"1 seed", "3 seeds".</summary>
    internal static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n.ToString(C)} {noun}s";

    /// <summary>A simulated duration in its largest whole-ish unit: "1 simulated day", "7 simulated days", "3 simulated hours".</summary>
    internal static string SimulatedSpan(TimeSpan duration)
    {
        var (value, unit) = duration.TotalDays >= 1 ? (duration.TotalDays, "day") : duration.TotalHours >= 1 ? (duration.TotalHours, "hour") : (duration.TotalMinutes, "minute");
        var number = value.ToString("0.##", C);
        return number == "1" ? $"1 simulated {unit}" : $"{number} simulated {unit}s";
    }
}
