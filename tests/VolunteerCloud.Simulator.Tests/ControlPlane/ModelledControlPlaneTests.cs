using VolunteerCloud.ControlPlane;
using VolunteerCloud.Simulator.Churn;
using VolunteerCloud.Simulator.ControlPlane;
using VolunteerCloud.Simulator.Experiments;
using VolunteerCloud.Strategies;

namespace VolunteerCloud.Simulator.Tests.ControlPlane;

/// <summary>The modelled control plane: deterministic, its invariants hold, and it agrees with the protocol run where it should.</summary>
public sealed class ModelledControlPlaneTests
{
    private static ControlPlaneScenario Scenario(ulong seed, ControlPlaneFidelity fidelity) => new()
    {
        Hosts = 300,
        Apps = 30,
        Replicas = 3,
        Churn = new AvailabilityModel("seti", ChurnPresets.Seti.Up, ChurnPresets.Seti.Down)
        {
            Reclaim = new ReclaimNotices(0.5, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)),
        },
        Duration = TimeSpan.FromHours(12),
        Fidelity = fidelity,
        Seed = seed,
    };

    [Fact]
    public void A_modelled_run_is_deterministic_and_keeps_its_invariants()
    {
        var first = ControlPlaneLab.Run(Scenario(4, ControlPlaneFidelity.Modelled));
        var again = ControlPlaneLab.Run(Scenario(4, ControlPlaneFidelity.Modelled));
        Assert.Equal((first.MeanAvailability, first.ReplicaStarts, first.Events, first.Restores), (again.MeanAvailability, again.ReplicaStarts, again.Events, again.Restores));
        Assert.True(first.InvariantViolations == 0, string.Join("; ", first.ViolationExamples));
        Assert.True(first.ReplicaStarts > 30 * 3, $"churn should have moved replicas: {first.ReplicaStarts} starts (seed 4)");
        Assert.True(first.Restores > 0, "churn should have broken some apps (seed 4)");
        Assert.True(double.IsNaN(first.ControlMessagesPerNodeSecond), "no messages are counted in a modelled run");
    }

    [Theory]
    [InlineData("power-of-2", "reactive")]
    [InlineData("availability-aware", "proactive")]
    [InlineData("random", "reactive")]
    public void For_randomised_placements_modelled_and_protocol_runs_agree_on_availability_and_restore_times(string placement, string handler)
    {
        // Seed by seed (three seeds): the modelled run must land within half a percentage point of availability and
        // 20 s of mean restore time of the run in which every node runs the real control plane.
        foreach (var seed in new ulong[] { 1, 2, 3 })
        {
            ControlPlaneScenario With(ControlPlaneFidelity fidelity) =>
                Scenario(seed, fidelity) with { Placement = StrategyCatalog.Placements[placement], ChurnHandler = StrategyCatalog.ChurnHandlers[handler] };
            var protocol = ControlPlaneLab.Run(With(ControlPlaneFidelity.Protocol));
            var modelled = ControlPlaneLab.Run(With(ControlPlaneFidelity.Modelled));
            var availabilityGap = modelled.MeanAvailability - protocol.MeanAvailability;
            var restoreGap = modelled.MeanRestoreSeconds - protocol.MeanRestoreSeconds;
            Assert.True(Math.Abs(availabilityGap) < 0.005, $"{placement}+{handler}: modelled − protocol availability {availabilityGap:P2} (seed {seed})");
            Assert.True(Math.Abs(restoreGap) < 20, $"{placement}+{handler}: modelled − protocol mean restore {restoreGap:0} s (seed {seed})");
        }
    }

    [Fact]
    public void In_a_modelled_run_too_the_fixed_controller_stops_restoring_when_it_dies()
    {
        var crash = TimeSpan.FromHours(2);
        var leaderless = ControlPlaneLab.Run(Scenario(5, ControlPlaneFidelity.Modelled) with { CrashControllerAt = crash });
        var controller = ControlPlaneLab.Run(Scenario(5, ControlPlaneFidelity.Modelled) with { CrashControllerAt = crash, PinnedController = true });
        double Late(ControlPlaneResult r) => r.AvailabilityOverTime.Skip(r.AvailabilityOverTime.Length - 360).Average();
        Assert.True(Late(leaderless) > 0.95, $"leaderless: {Late(leaderless):P1} whole in the last 6 h (seed 5)");
        Assert.True(Late(controller) < Late(leaderless) - 0.2, $"controller: {Late(controller):P1} vs leaderless {Late(leaderless):P1} (seed 5)");
    }

    [Fact]
    public void A_mass_failure_in_a_modelled_run_is_repaired()
    {
        var result = ControlPlaneLab.Run(Scenario(7, ControlPlaneFidelity.Modelled) with { MassFailureShare = 0.5, MassFailureAt = TimeSpan.FromHours(3), Duration = TimeSpan.FromHours(6) });
        Assert.True(result.InvariantViolations == 0, string.Join("; ", result.ViolationExamples));
        Assert.True(result.WholeAgainSecondsAfterMassFailure is > 0 and < 1800, $"whole again after {result.WholeAgainSecondsAfterMassFailure} s (seed 7)");
    }
}
