using VolunteerCloud.Membership.Swim;
using VolunteerCloud.Simulator.Experiments.Chaos;

namespace VolunteerCloud.Simulator.Tests.Chaos;

/// <summary>The seeded fault campaign (issue 8): CI's budget of runs, the checkers' teeth, exact replay.</summary>
public sealed class ChaosCampaignTests
{
    /// <summary>CI's budgeted campaign: 200 seeds of partitions, loss, duplication, reordering, crashes, mass crashes, slow nodes and clock skew.</summary>
    [Fact]
    public void Two_hundred_seeded_fault_runs_break_no_invariant()
    {
        var results = new ChaosRunResult[200];
        Parallel.For(0, results.Length, i => results[i] = ChaosCampaign.Run(1_000 + (ulong)i));

        var failed = results.Where(r => r.Violations > 0).ToList();
        Assert.True(failed.Count == 0, string.Join(Environment.NewLine, failed.SelectMany(r => r.Examples.Take(3).Prepend($"seed {r.Seed}: {r.Violations} violations; replay: vcsim chaos --seed {r.Seed} --runs 1"))));
        foreach (var fault in Enum.GetValues<ChaosFault>())
        {
            Assert.True(results.Count(r => r.Faults[fault] > 0) > 100, $"{fault} was injected in too few runs");
        }

        Assert.True(results.Sum(r => r.OperationsAcknowledged) > 2_000);
        Assert.Equal(200 * 1830, results.Sum(r => r.Checks)); // one check a second over 30.5 simulated minutes
    }

    [Fact]
    public void The_checkers_catch_a_cluster_that_does_not_heal()
    {
        // SWIM without Serf's reconnect: after seed 1's long partition each side has forgotten the other for good.
        var result = ChaosCampaign.Run(1, new ChaosOptions { Swim = new SwimOptions { ReconnectTimeout = TimeSpan.Zero } });

        Assert.True(result.Violations > 0);
        Assert.Contains(result.Examples, e => e.Contains("alive after the quiet phase", StringComparison.Ordinal) && e.Contains("(seed 1)", StringComparison.Ordinal));
    }

    [Fact]
    public void A_run_replays_exactly_from_its_seed()
    {
        var options = new ChaosOptions { FaultPhase = TimeSpan.FromMinutes(5), QuietPhase = TimeSpan.FromMinutes(5) };
        var first = ChaosCampaign.Run(594, options);
        var again = ChaosCampaign.Run(594, options);

        Assert.Equal(first.TraceHash, again.TraceHash);
        Assert.Equal(first.Events, again.Events);
        Assert.Equal(first.Faults, again.Faults);
        Assert.NotEqual(first.TraceHash, ChaosCampaign.Run(595, options).TraceHash);
    }

    [Fact]
    public void Bad_options_are_refused_with_the_option_named()
    {
        Assert.Contains("Nodes", Assert.Throws<ArgumentException>(() => ChaosCampaign.Run(1, new ChaosOptions { Nodes = 2 })).Message, StringComparison.Ordinal);
        Assert.Contains("QuietPhase", Assert.Throws<ArgumentException>(() => ChaosCampaign.Run(1, new ChaosOptions { QuietPhase = TimeSpan.Zero })).Message, StringComparison.Ordinal);
    }
}
