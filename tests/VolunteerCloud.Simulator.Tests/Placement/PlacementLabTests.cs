using VolunteerCloud.Placement;
using VolunteerCloud.Simulator.Experiments;

namespace VolunteerCloud.Simulator.Tests.Placement;

public sealed class PlacementLabTests
{
    [Fact]
    public void A_million_balls_in_a_million_bins_match_the_published_max_loads()
    {
        // docs/references.md: n = 10^6: 8–10 with one choice, 4 with two, 3 with three.
        Assert.InRange(PlacementLab.BallsIntoBins(new RandomPlacement(), 1_000_000, 1), 8, 10);
        Assert.Equal(4, PlacementLab.BallsIntoBins(new PowerOfChoicesPlacement(2), 1_000_000, 1));
        Assert.Equal(3, PlacementLab.BallsIntoBins(new PowerOfChoicesPlacement(3), 1_000_000, 1));
    }

    [Fact]
    public void Rendezvous_hashing_balances_keys_as_published_and_spreads_them_binomially()
    {
        // docs/references.md: 10^5 keys on 1000 nodes: max/mean 1.33, 1.02 with a second choice.
        var (max, spread) = PlacementLab.RendezvousLoads(100_000, 1000, twoChoices: false);
        Assert.InRange(max, 1.25, 1.45);
        Assert.InRange(spread, 0.9, 1.12);
        Assert.InRange(PlacementLab.RendezvousBalance(100_000, 1000, twoChoices: true), 1.0, 1.05);
    }
}
