using VolunteerCloud.ControlPlane;
using VolunteerCloud.Placement;

namespace VolunteerCloud.Strategies;

/// <summary>
/// The Sdk's placement strategies and churn handlers by name, each at its defaults: what an experiment definition,
/// <c>vcsim</c> and <c>vchost</c>'s configuration choose from. Strategies may keep state (round-robin's cursor), so
/// each entry makes a new instance.
/// </summary>
public static class StrategyCatalog
{
    /// <summary>Placement strategies by name.</summary>
    public static IReadOnlyDictionary<string, Func<IPlacementStrategy>> Placements { get; } = new Dictionary<string, Func<IPlacementStrategy>>(StringComparer.Ordinal)
    {
        [StrategyNames.Random] = () => new RandomPlacement(),
        [StrategyNames.RoundRobin] = () => new RoundRobinPlacement(),
        [StrategyNames.LeastLoaded] = () => new LeastLoadedPlacement(),
        [StrategyNames.PowerOfTwo] = () => new PowerOfChoicesPlacement(2),
        [StrategyNames.PowerOfThree] = () => new PowerOfChoicesPlacement(3),
        [StrategyNames.Rendezvous] = () => new RendezvousPlacement(),
        [StrategyNames.BinPack] = () => new BinPackPlacement(),
        [StrategyNames.SpreadRegions] = () => new SpreadPlacement(),
        [StrategyNames.AvailabilityAware] = () => new AvailabilityAwarePlacement(),
    };

    /// <summary>Churn handlers by name.</summary>
    public static IReadOnlyDictionary<string, Func<IChurnHandler>> ChurnHandlers { get; } = new Dictionary<string, Func<IChurnHandler>>(StringComparer.Ordinal)
    {
        [StrategyNames.Reactive] = () => new ReactiveChurnHandler(),
        [StrategyNames.Replication] = () => new ReplicationChurnHandler(),
        [StrategyNames.Proactive] = () => new ProactiveChurnHandler(),
    };
}
