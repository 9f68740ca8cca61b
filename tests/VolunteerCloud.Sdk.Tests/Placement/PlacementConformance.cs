using VolunteerCloud.Placement;
using VolunteerCloud.Testing;

namespace VolunteerCloud.Sdk.Tests.Placement;

// The Sdk's own strategies against the conformance suite that VolunteerCloud.Testing ships.

public sealed class RandomPlacementConformance : PlacementConformanceTests
{
    protected override IPlacementStrategy Create() => new RandomPlacement();
}

public sealed class RoundRobinPlacementConformance : PlacementConformanceTests
{
    protected override IPlacementStrategy Create() => new RoundRobinPlacement();
}

public sealed class LeastLoadedPlacementConformance : PlacementConformanceTests
{
    protected override IPlacementStrategy Create() => new LeastLoadedPlacement();
}

public sealed class PowerOfTwoPlacementConformance : PlacementConformanceTests
{
    protected override IPlacementStrategy Create() => new PowerOfChoicesPlacement(2);
}

public sealed class PowerOfThreePlacementConformance : PlacementConformanceTests
{
    protected override IPlacementStrategy Create() => new PowerOfChoicesPlacement(3);
}

public sealed class RendezvousPlacementConformance : PlacementConformanceTests
{
    protected override IPlacementStrategy Create() => new RendezvousPlacement();
}

public sealed class BinPackPlacementConformance : PlacementConformanceTests
{
    protected override IPlacementStrategy Create() => new BinPackPlacement();
}

public sealed class SpreadPlacementConformance : PlacementConformanceTests
{
    protected override IPlacementStrategy Create() => new SpreadPlacement();
}

public sealed class AvailabilityAwarePlacementConformance : PlacementConformanceTests
{
    protected override IPlacementStrategy Create() => new AvailabilityAwarePlacement();
}
