using VolunteerCloud.Simulator.Cli;
using VolunteerCloud.Simulator.Experiments;

namespace VolunteerCloud.Simulator.Tests.Workloads;

/// <summary>The membership studies at small sizes: the commands keep working and their numbers stay sane.</summary>
public sealed class MembershipValidationTests
{
    [Fact]
    public void Lockstep_detection_takes_about_1_58_periods()
    {
        var result = MembershipValidation.Detection(100, 60, new(1.0, Lockstep: true, Lifeguard: false), seed: 1);

        Assert.InRange(result.Mean, result.Expected * 0.75, result.Expected * 1.25);
        // A member is probed by each other member with chance 1/(n−1) per period, so one escapes detection for k
        // periods with chance about e^−k: in 60 trials, more than 12 periods would be a 1-in-2 000 event.
        Assert.All(result.Periods, p => Assert.InRange(p, 0.9, 12));
    }

    [Fact]
    public void Basic_swim_false_positives_follow_the_loss_formula()
    {
        var result = MembershipValidation.FalsePositives(50, 0.10, 1, seed: 3, minProbes: 40_000, maxProbes: 40_000);
        var (low, high) = result.Interval95;

        Assert.InRange(result.Expected, low * 0.9, high * 1.1);
    }

    [Fact]
    public void Probe_load_is_two_messages_per_member_per_second()
    {
        var result = MembershipValidation.Load(50, TimeSpan.FromSeconds(30), seed: 2);

        Assert.InRange(result.ProbeMessagesPerMemberSecond, 1.9, 2.1);
    }

    [Fact]
    public void Every_study_command_prints_its_table()
    {
        using var output = new StringWriter();
        MembershipCommands.PrintDissemination(output, [30, 60], trials: 2, seed: 1);
        MembershipCommands.PrintScale(output, nodes: 100, minutes: 1, seed: 1);
        MembershipCommands.PrintLoad(output, [30], seconds: 10, seed: 1);

        var text = output.ToString();
        Assert.Contains("| 60 | 4.09 | 2 |", text, StringComparison.Ordinal);
        Assert.Contains("Spread of the suspicion", text, StringComparison.Ordinal);
        Assert.Contains("| false deaths | 0 |", text, StringComparison.Ordinal);
        Assert.Contains("| 30 | 2.0", text, StringComparison.Ordinal);
    }
}
