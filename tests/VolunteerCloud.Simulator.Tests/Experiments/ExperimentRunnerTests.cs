using System.Collections.Concurrent;
using VolunteerCloud.Simulator.Experiments.Runner;

namespace VolunteerCloud.Simulator.Tests.Experiments;

public sealed class ExperimentRunnerTests
{
    private const string Small = """
        name: tiny
        question: does it run?
        population: { volunteers: 24, churn: seti, reclaim_notices: 0.5 }
        network: { detection_delay: 15s }
        strategies:
          placement: [power-of-2, availability-aware]
          churn_handler: reactive
          control: [leaderless, controller]
        workload: { apps: 3, replicas: 2, cpus: 0.25, memory: 128m }
        duration: 3h
        sample_interval: 1m
        seeds: [3, 4]
        """;

    [Theory]
    [InlineData(new ulong[] { 1, 2, 3, 4, 5 }, "1–5")]
    [InlineData(new ulong[] { 3, 1 }, "1, 3")]
    [InlineData(new ulong[] { 1, 2 }, "1, 2")]
    [InlineData(new ulong[] { 5, 1, 2, 3, 3 }, "1–3, 5")]
    public void Seed_lists_are_short(ulong[] seeds, string expected) => Assert.Equal(expected, ExperimentRunner.SeedList(seeds));

    [Fact]
    public void A_definition_lists_every_combination_and_its_settings()
    {
        var d = ExperimentDefinition.Parse(Small, "tiny.yaml", "h");
        Assert.Equal(["power-of-2+reactive", "power-of-2+reactive+controller", "availability-aware+reactive", "availability-aware+reactive+controller"], d.Combinations.Select(c => c.Name));
        Assert.Equal((24, 3, 2, 128L << 20, TimeSpan.FromHours(3)), (d.Volunteers, d.Apps, d.Replicas, d.MemoryBytes, d.Duration));
        Assert.Equal([3UL, 4UL], d.Seeds);
        var scenario = d.Scenario(d.Combinations[1], 4);
        Assert.True(scenario.PinnedController);
        Assert.Equal(4UL, scenario.Seed);
    }

    [Theory]
    [InlineData("name: x\ncolour: blue\n", "x.yaml:2:9: colour: unknown key")]
    [InlineData("name: x\nduration: soon\n", "x.yaml:2:11: duration: 'soon' is not a duration, e.g. 90s, 15m, 6h, 7d")]
    [InlineData("name: x\npopulation:\n  churn: nowhere\n", "x.yaml:3:10: population.churn: no churn preset 'nowhere'")]
    [InlineData("name: x\nstrategies:\n  placement: [power-of-2, power-of-2]\n", "strategies.placement: must name at least one, each once")]
    [InlineData("name: x\nseeds: [1, 1]\n", "seeds: a seed is listed twice")]
    [InlineData("name: x\nworkload: { availability_target: 1 }\n", "workload.availability_target: must be a number strictly between 0 and 1")]
    [InlineData("question: no name\n", "'name' is missing")]
    [InlineData("name: x\nduration: 1h\nsample_interval: 2h\n", "sample_interval (02:00:00) must be shorter than duration")]
    [InlineData("name: [x\n", "not valid YAML")]
    [InlineData("name: x\nfidelity: packets\n", "fidelity: must be protocol")]
    [InlineData("name: x\nkind: membership\nfidelity: modelled\n", "fidelity: does not apply to a membership experiment")]
    public void Bad_definitions_are_refused_naming_the_place_and_the_key(string text, string expected)
    {
        var error = Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinition.Parse(text, "x.yaml", "h"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_shipped_experiments_definitions_load()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "experiments");
        var found = Directory.GetFiles(root, "experiment.yaml", SearchOption.AllDirectories);
        Assert.NotEmpty(found);
        foreach (var file in found)
        {
            var d = ExperimentDefinition.Load(Path.GetDirectoryName(file)!);
            Assert.NotEmpty(d.Combinations);
            Assert.Equal(16, d.Hash.Length);
        }
    }

    [Fact]
    public void A_row_rerun_alone_gives_the_numbers_of_the_full_parallel_run()
    {
        var d = ExperimentDefinition.Parse(Small, "tiny.yaml", "h");
        var progress = new RunProgress();
        var all = ExperimentRunner.Run(d, ExperimentRunner.Plan(d), parallelism: 2, progress);
        Assert.Equal(8, all.Count);
        Assert.Equal(8, progress.RunsDone);
        Assert.True(progress.Simulated >= TimeSpan.FromHours(2.5 * 8), $"progress saw {progress.Simulated}");

        var one = ExperimentRunner.Run(d, ExperimentRunner.Plan(d, "availability-aware+reactive+controller", 4), parallelism: 1);
        var row = ExperimentRunner.RunsRow(d, "c", one.Single());
        Assert.Equal(row, ExperimentRunner.RunsRow(d, "c", all.Single(r => r.Combination.Name == "availability-aware+reactive+controller" && r.Seed == 4)));
        Assert.All(all, r => Assert.Equal(0, r.Result.InvariantViolations));
        Assert.Throws<ExperimentDefinitionException>(() => ExperimentRunner.Plan(d, "nothing"));
    }

    [Fact]
    public void Results_are_written_with_a_summary_per_combination_and_the_figures()
    {
        var d = ExperimentDefinition.Parse(Small.Replace("duration: 3h", "duration: 1h", StringComparison.Ordinal), "tiny.yaml", "abc");
        var runs = ExperimentRunner.Run(d, ExperimentRunner.Plan(d), parallelism: 2);
        var directory = Path.Combine(Path.GetTempPath(), "vc-results-" + Guid.NewGuid().ToString("N"));
        try
        {
            var summary = ExperimentRunner.Write(d, runs, directory, "commit1").Summary;
            foreach (var file in new[] { "runs.csv", "timeseries.csv", "restores.csv", "summary.md", "availability-over-time.png", "restore-cdf.png", "messages.png", "availability-over-time.svg", "restore-cdf.svg", "messages.svg" })
            {
                Assert.True(new FileInfo(Path.Combine(directory, file)).Length > 0, file);
            }

            var rows = File.ReadAllLines(Path.Combine(directory, "runs.csv"));
            Assert.Equal(ExperimentRunner.RunsHeader, rows[0]);
            Assert.Equal(9, rows.Length);
            Assert.All(rows.Skip(1), r => Assert.StartsWith("tiny,abc,commit1,", r, StringComparison.Ordinal));
            Assert.Equal(4, summary.Split('\n').Count(l => l.StartsWith("| power-of-2+", StringComparison.Ordinal) || l.StartsWith("| availability-aware+", StringComparison.Ordinal)));
            Assert.Contains(" ± ", summary, StringComparison.Ordinal); // two seeds: a confidence interval
            Assert.Contains("1 simulated hour, 2 seeds per combination", summary, StringComparison.Ordinal);
            Assert.Contains("<svg", File.ReadAllText(Path.Combine(directory, "restore-cdf.svg")), StringComparison.Ordinal);

            // The same runs written again by another commit reproduce the rows: nothing is rewritten, the rows keep
            // the commit that first made them (a rerun of a committed experiment leaves the tree clean).
            var again = ExperimentRunner.Write(d, runs, directory, "commit2");
            Assert.Empty(again.Files.Written);
            Assert.Equal(["commit1"], again.ReproducedCommits);
            Assert.All(File.ReadAllLines(Path.Combine(directory, "runs.csv")).Skip(1), r => Assert.StartsWith("tiny,abc,commit1,", r, StringComparison.Ordinal));

            // One number different: the runs did not reproduce, the new commit stands and the files that change are written.
            var edited = File.ReadAllLines(Path.Combine(directory, "runs.csv"));
            edited[1] = edited[1][..edited[1].LastIndexOf(',')] + ",1"; // the events column
            File.WriteAllLines(Path.Combine(directory, "runs.csv"), edited);
            var changed = ExperimentRunner.Write(d, runs, directory, "commit2");
            Assert.Null(changed.ReproducedCommits);
            Assert.Contains("runs.csv", changed.Files.Written);
            Assert.Contains("summary.md", changed.Files.Written);
            Assert.All(File.ReadAllLines(Path.Combine(directory, "runs.csv")).Skip(1), r => Assert.StartsWith("tiny,abc,commit2,", r, StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Vcsim_installed_without_a_clone_runs_the_quickstart_it_carries_and_reproduces_the_committed_rows()
    {
        var work = Directory.CreateTempSubdirectory("vc-quickstart-");
        try
        {
            // In an empty folder, as after `dotnet tool install`: the name of the experiment that comes with vcsim.
            var start = new System.Diagnostics.ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "vcsim.dll"), "run", "quickstart", "--only", "availability-aware+proactive", "--seed", "2"])
            {
                WorkingDirectory = work.FullName,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = System.Diagnostics.Process.Start(start)!;
            var stderrRead = process.StandardError.ReadToEndAsync();
            var rows = (await process.StandardOutput.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            await process.WaitForExitAsync();
            var stderr = await stderrRead;
            Assert.True(process.ExitCode == 0, stderr);
            Assert.Contains("wrote the definition that comes with vcsim", stderr, StringComparison.Ordinal);

            var committed = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "experiments", "quickstart"); // as the test above finds experiments/
            Assert.Equal(File.ReadAllBytes(Path.Combine(committed, "experiment.yaml")), File.ReadAllBytes(Path.Combine(work.FullName, "quickstart", "experiment.yaml")));
            static string WithoutCommit(string row) => string.Join(',', row.TrimEnd('\r').Split(',').Select((f, i) => i == 2 ? "" : f));
            var expected = File.ReadAllLines(Path.Combine(committed, "results", "runs.csv")).Single(r => r.Contains(",availability-aware+proactive,", StringComparison.Ordinal) && r.Split(',')[7] == "2");
            Assert.Equal(WithoutCommit(expected), WithoutCommit(rows[^1]));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("0.1.0+7e61e3073353e9d242857772e0155d9616337406", "7e61e3073353e9d242857772e0155d9616337406", false, "7e61e3073353")]
    [InlineData("0.1.0+7e61e3073353e9d242857772e0155d9616337406", "7e61e3073353e9d242857772e0155d9616337406", true, "7e61e3073353-dirty")]
    [InlineData("0.1.0+7e61e3073353e9d242857772e0155d9616337406", "851c27d7806d00000000000000000000000000aa", true, "7e61e3073353")] // an older build's copy
    [InlineData("0.1.0+7e61e3073353e9d242857772e0155d9616337406", null, false, "7e61e3073353")] // outside a work tree
    [InlineData("0.1.0", "851c27d7806d00000000000000000000000000aa", true, "851c27d7806d-dirty")] // built without a stamp
    [InlineData(null, null, false, "unknown")]
    public void A_run_is_credited_to_the_commit_its_build_came_from(string? version, string? head, bool dirty, string expected)
    {
        Assert.Equal(expected, VolunteerCloud.Simulator.Cli.RunCommand.DescribeCommit(version, head, dirty));
    }

    [Fact]
    public void Parallel_workers_take_runs_in_plan_order()
    {
        // One combination, seeds 1..6: a run's seed is its place in the plan. While the first run's worker is held,
        // the other worker must make runs 2 and 3 next (a worker handed the second half of the plan would make 4 and 5).
        var d = ExperimentDefinition.Parse(
            Small.Replace("duration: 3h", "duration: 10m", StringComparison.Ordinal)
                .Replace("placement: [power-of-2, availability-aware]", "placement: random", StringComparison.Ordinal)
                .Replace("control: [leaderless, controller]", "control: leaderless", StringComparison.Ordinal)
                .Replace("seeds: [3, 4]", "seeds: 6", StringComparison.Ordinal),
            "tiny.yaml", "h");
        var plan = ExperimentRunner.Plan(d);
        Assert.Equal([1UL, 2UL, 3UL, 4UL, 5UL, 6UL], plan.Select(p => p.Seed));
        var finishedOrder = new ConcurrentQueue<ulong>();
        using var twoOthersDone = new CountdownEvent(2);
        ExperimentRunner.Run(d, plan, parallelism: 2, finished: run =>
        {
            if (run.Seed == 1)
            {
                Assert.True(twoOthersDone.Wait(TimeSpan.FromMinutes(2)), "the other worker did not finish two runs");
                return; // once released, this worker races the other one's next run: only the first two are ordered
            }

            finishedOrder.Enqueue(run.Seed); // before the signal, so run 3 is queued before run 1's worker wakes
            if (!twoOthersDone.IsSet)
            {
                twoOthersDone.Signal();
            }
        });
        Assert.Equal([2UL, 3UL], finishedOrder.Take(2));
    }

    [Fact]
    public void A_run_killed_part_way_and_resumed_from_its_checkpoint_writes_what_an_uninterrupted_run_writes()
    {
        var d = ExperimentDefinition.Parse(Small.Replace("duration: 3h", "duration: 1h", StringComparison.Ordinal), "tiny.yaml", "abc");
        var plan = ExperimentRunner.Plan(d);
        var whole = Path.Combine(Path.GetTempPath(), "vc-whole-" + Guid.NewGuid().ToString("N"));
        var pieces = Path.Combine(Path.GetTempPath(), "vc-pieces-" + Guid.NewGuid().ToString("N"));
        var mixedDirectory = Path.Combine(Path.GetTempPath(), "vc-mixed-" + Guid.NewGuid().ToString("N"));
        try
        {
            var all = ExperimentRunner.RunWithCheckpoint(d, plan, [], whole, "c1", parallelism: 2);
            ExperimentRunner.Write(d, all, whole, "c1");
            var recorded = RunCheckpoint.Load(d, whole);
            Assert.Equal(8, recorded.Count);
            foreach (var run in all)
            {
                var back = recorded.Single(r => r.Combination == run.Combination && r.Seed == run.Seed);
                Assert.Equal("c1", back.Commit);
                Assert.Equal(ExperimentRunner.RunsRow(d, "c1", run), ExperimentRunner.RunsRow(d, "other", back));
                Assert.Equal(run.Result.AvailabilityOverTime, back.Result.AvailabilityOverTime);
                Assert.Equal(run.Result.RestoreSeconds, back.Result.RestoreSeconds);
            }

            // Killed after three runs, in the middle of writing the fourth line.
            Directory.CreateDirectory(pieces);
            var lines = File.ReadAllLines(Path.Combine(whole, RunCheckpoint.FileName));
            File.WriteAllText(Path.Combine(pieces, RunCheckpoint.FileName), string.Join('\n', lines.Take(3)) + "\n" + lines[3][..(lines[3].Length / 2)]);
            var kept = RunCheckpoint.Load(d, pieces);
            Assert.Equal(3, kept.Count);
            Assert.Equal(5, ExperimentRunner.Remaining(plan, kept).Count);
            var partWay = ExperimentRunner.Write(d, ExperimentRunner.Recorded(plan, kept), pieces, "c2", plannedRuns: plan.Count).Summary;
            Assert.Contains("**Part-way: 3 of the 8 planned runs**", partWay, StringComparison.Ordinal);
            Assert.Contains("1 seed per combination", partWay, StringComparison.Ordinal);

            // Part-way, a combination can hold more seeds than another: the table says which each row averages.
            var first = all[0].Combination;
            var mixed = ExperimentRunner.Write(d, [.. all.Where(r => r.Seed == 3 || r.Combination == first)], mixedDirectory, "c1", plannedRuns: plan.Count).Summary;
            Assert.Contains("seeds differ between combinations", mixed, StringComparison.Ordinal);
            Assert.Contains($"| {first.Name} | 3, 4 |", mixed, StringComparison.Ordinal);
            Assert.Contains($"| {all.First(r => r.Combination != first).Combination.Name} | 3 |", mixed, StringComparison.Ordinal);
            Assert.Equal(4, File.ReadAllLines(Path.Combine(pieces, "runs.csv")).Length);

            var resumed = ExperimentRunner.RunWithCheckpoint(d, plan, kept, pieces, "c2", parallelism: 2);
            ExperimentRunner.Write(d, resumed, pieces, "c2");
            var expected = File.ReadAllLines(Path.Combine(whole, "runs.csv")).Skip(1).Select(r => r.Replace(",c1,", ",?,", StringComparison.Ordinal));
            var actual = File.ReadAllLines(Path.Combine(pieces, "runs.csv")).Skip(1).Select(r => r.Replace(",c1,", ",?,", StringComparison.Ordinal).Replace(",c2,", ",?,", StringComparison.Ordinal));
            Assert.Equal(expected, actual);
            Assert.Equal(File.ReadAllText(Path.Combine(whole, "timeseries.csv")), File.ReadAllText(Path.Combine(pieces, "timeseries.csv")));
            Assert.Equal(File.ReadAllText(Path.Combine(whole, "restores.csv")), File.ReadAllText(Path.Combine(pieces, "restores.csv")));
            Assert.Equal(3, File.ReadAllLines(Path.Combine(pieces, "runs.csv")).Count(r => r.Contains(",c1,", StringComparison.Ordinal)));
            Assert.Contains("commit `c1`, `c2`", File.ReadAllText(Path.Combine(pieces, "summary.md")), StringComparison.Ordinal);
            Assert.Equal(8, RunCheckpoint.Load(d, pieces).Count); // the cut line was dropped, the five new ones added

            var changed = ExperimentDefinition.Parse(Small.Replace("duration: 3h", "duration: 1h", StringComparison.Ordinal), "tiny.yaml", "def");
            var refusal = Assert.Throws<ExperimentDefinitionException>(() => RunCheckpoint.Load(changed, pieces));
            Assert.Contains("from definition abc, not this one (def)", refusal.Message, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var directory in new[] { whole, pieces, mixedDirectory })
            {
                if (Directory.Exists(directory))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        }
    }

    [Fact]
    public void A_checkpoint_is_carried_over_to_a_definition_that_differs_only_in_comments_and_layout_and_refused_for_any_other_change()
    {
        var text = Small.Replace("duration: 3h", "duration: 30m", StringComparison.Ordinal).Replace("seeds: [3, 4]", "seeds: [3]", StringComparison.Ordinal);
        var earlier = ExperimentDefinition.Parse(text, "earlier.yaml", "e1");
        var commented = ExperimentDefinition.Parse("# run in pieces; done\n" + text.Replace("name: tiny", "name:   'tiny'   # renamed? no", StringComparison.Ordinal), "now.yaml", "c2");
        var changed = ExperimentDefinition.Parse(text.Replace("apps: 3", "apps: 4", StringComparison.Ordinal), "now.yaml", "x3");
        var moved = ExperimentDefinition.Parse(text.Replace("placement: [power-of-2, availability-aware]", "placement: [availability-aware, power-of-2]", StringComparison.Ordinal), "now.yaml", "m4");
        Assert.Equal(earlier.Content, commented.Content);
        Assert.NotEqual(earlier.Content, changed.Content);
        Assert.NotEqual(earlier.Content, moved.Content); // order matters: it orders the runs
        var directory = Path.Combine(Path.GetTempPath(), "vc-restamp-" + Guid.NewGuid().ToString("N"));
        try
        {
            var runs = ExperimentRunner.RunWithCheckpoint(earlier, ExperimentRunner.Plan(earlier), [], directory, "c1", parallelism: 2);
            var file = Path.Combine(directory, RunCheckpoint.FileName);
            var before = File.ReadAllLines(file);

            var refusal = Assert.Throws<ExperimentDefinitionException>(() => RunCheckpoint.Restamp(earlier, changed, directory));
            Assert.Contains("define different experiments", refusal.Message, StringComparison.Ordinal);
            Assert.Throws<ExperimentDefinitionException>(() => RunCheckpoint.Restamp(changed, commented, directory));
            Assert.Equal(before, File.ReadAllLines(file)); // refused whole, untouched

            Assert.Equal(runs.Count, RunCheckpoint.Restamp(earlier, commented, directory));
            var after = File.ReadAllLines(file);
            Assert.Equal(before.Select(l => l.Replace("\"Hash\":\"e1\"", "\"Hash\":\"c2\"", StringComparison.Ordinal)), after); // the hash and nothing else
            Assert.Equal(runs.Count, RunCheckpoint.Load(commented, directory).Count);
            Assert.Throws<ExperimentDefinitionException>(() => RunCheckpoint.Load(earlier, directory));
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public void The_confidence_interval_uses_Students_t()
    {
        var (mean, half) = ExperimentRunner.MeanCi([1.0, 2.0, 3.0]);
        Assert.Equal(2.0, mean, 12);
        Assert.Equal(4.302652729911275 / Math.Sqrt(3), half, 9); // t(0.975, 2) · s / √n with s = 1
        Assert.True(double.IsNaN(ExperimentRunner.MeanCi([5.0]).HalfWidth));
    }

    [Fact]
    public void A_membership_definition_lists_every_protocol_size_loss_and_seed_and_refuses_apps_keys()
    {
        const string text = """
            name: m
            kind: membership
            population: { volunteers: [20, 40] }
            network: { loss: [0, 0.05] }
            strategies: { membership: [swim, registry] }
            crashes: 3
            duration: 2m
            seeds: 2
            """;
        var d = ExperimentDefinition.Parse(text, "m.yaml", "h");
        Assert.Equal(2 * 2 * 2 * 2, d.MembershipCases.Count);
        Assert.Contains(d.MembershipCases, c => c.Combination == "registry/n40/loss0.05" && c.Seed == 2);
        var error = Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinition.Parse(text + "\nworkload: { apps: 3 }\n", "m.yaml", "h"));
        Assert.Contains("workload: does not apply to a membership experiment", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinition.Parse("name: a\ncrashes: 3\n", "a.yaml", "h"));
        Assert.Contains("crashes: does not apply to a apps experiment", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinition.Parse("name: a\nnetwork: { loss: 0.1 }\n", "a.yaml", "h"));
        Assert.Contains("are for kind: membership", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SWIM_detects_every_crash_without_false_positives_on_a_lossless_LAN()
    {
        var result = MembershipStudy.Run(new MembershipCase("swim", 30, 0, 7), TimeSpan.FromMinutes(2), crashes: 3);
        Assert.Equal(3, result.Crashes);
        Assert.Equal(3, result.Detected);
        Assert.Equal(0, result.FalsePositives);
        Assert.All(result.DetectionSeconds, s => Assert.InRange(s, 0.5, 30)); // a probe round, then the suspicion timeout
        Assert.InRange(result.MessagesPerNodeSecond, 1, 20);
        var again = MembershipStudy.Run(new MembershipCase("swim", 30, 0, 7), TimeSpan.FromMinutes(2), crashes: 3);
        Assert.Equal(result.DetectionSeconds, again.DetectionSeconds); // deterministic for a seed
    }
}
