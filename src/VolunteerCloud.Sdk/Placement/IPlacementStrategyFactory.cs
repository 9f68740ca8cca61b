namespace VolunteerCloud.Placement;

/// <summary>Makes a placement strategy for each node (strategies may keep state, such as round-robin's cursor).</summary>
public interface IPlacementStrategyFactory
{
    /// <summary>A new strategy instance for one node.</summary>
    IPlacementStrategy Create();
}

/// <summary>A factory from a delegate.</summary>
/// <param name="create">Makes one strategy.</param>
public sealed class PlacementStrategyFactory(Func<IPlacementStrategy> create) : IPlacementStrategyFactory
{
    /// <inheritdoc />
    public IPlacementStrategy Create() => create() ?? throw new InvalidOperationException("The placement factory returned null.");
}
