using Microsoft.Extensions.DependencyInjection;
using VolunteerCloud.Placement;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.ControlPlane;

namespace VolunteerCloud.Simulator.Tests.Docs;

// The custom strategy of docs/placement.md, verbatim: if this file stops compiling or passing, the guide is wrong.

/// <summary>Prefers hosts in the app's home region; otherwise the less loaded of two random hosts.</summary>
public sealed class HomeRegionPlacement(ushort home) : IPlacementStrategy
{
    private readonly PowerOfChoicesPlacement _fallback = new(2);

    public string Name => "home-region";

    public int Choose(ClusterState cluster, in PlacementRequest request, RandomSource random)
    {
        var best = -1;
        for (var attempt = 0; attempt < 64 && cluster.Count > 0; attempt++)
        {
            var i = random.NextInt32(cluster.Count);
            if (cluster.RegionOf(i) == home && cluster.Fits(i, request) &&
                (best < 0 || cluster.ReplicasOf(i) < cluster.ReplicasOf(best)))
            {
                best = i;
                if (attempt >= 1)
                {
                    break; // two fitting candidates seen: the less loaded wins
                }
            }
        }

        return best >= 0 ? best : _fallback.Choose(cluster, request, random);
    }
}

public sealed class IntegratorGuideTests
{
    [Fact]
    public void The_guide_s_custom_strategy_registers_through_DI_and_compares_in_the_simulator()
    {
        // Registered through dependency injection:
        var services = new ServiceCollection().AddVolunteerCloud(vc => vc.UsePlacement(() => new HomeRegionPlacement(home: 1))).BuildServiceProvider();
        Assert.Equal("home-region", services.GetRequiredService<IPlacementStrategyFactory>().Create().Name);

        // Compared in the simulator against the default:
        var scenario = new ControlPlaneScenario { Hosts = 150, Apps = 10, Duration = TimeSpan.FromHours(6), Seed = 4 };
        var mine = ControlPlaneLab.Run(scenario with { Placement = () => new HomeRegionPlacement(home: 1) });
        var baseline = ControlPlaneLab.Run(scenario);
        var numbers = $"home-region {mine.MeanAvailability:P2}, {mine.ReplicaStarts} starts; power-of-2 {baseline.MeanAvailability:P2}, {baseline.ReplicaStarts} starts (seed 4)";
        Assert.True(mine.InvariantViolations == 0 && baseline.InvariantViolations == 0, numbers);
        Assert.True(mine.Events != baseline.Events || mine.ReplicaStarts != baseline.ReplicaStarts, $"the custom strategy did not change the run: {numbers}");
        Assert.True(mine.MeanAvailability > 0.97 && baseline.MeanAvailability > 0.97, numbers);
    }
}
