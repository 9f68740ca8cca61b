using VolunteerCloud.Containers;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Placement;
using VolunteerCloud.Randomness;

namespace VolunteerCloud.Simulator.Experiments;

/// <summary>The strategies the studies compare, by the names the commands and benchmarks use.</summary>
public static class StrategyCatalog
{
    /// <summary>Placement strategies by name, each a factory (strategies may keep state, one per node).</summary>
    public static IReadOnlyDictionary<string, Func<IPlacementStrategy>> Placements { get; } = new Dictionary<string, Func<IPlacementStrategy>>(StringComparer.Ordinal)
    {
        ["random"] = () => new RandomPlacement(),
        ["round-robin"] = () => new RoundRobinPlacement(),
        ["least-loaded"] = () => new LeastLoadedPlacement(),
        ["power-of-2"] = () => new PowerOfChoicesPlacement(2),
        ["power-of-3"] = () => new PowerOfChoicesPlacement(3),
        ["rendezvous"] = () => new RendezvousPlacement(),
        ["bin-pack"] = () => new BinPackPlacement(),
        ["spread-regions"] = () => new SpreadPlacement(),
        ["availability-aware"] = () => new AvailabilityAwarePlacement(),
    };

    /// <summary>Churn handlers by name.</summary>
    public static IReadOnlyDictionary<string, Func<IChurnHandler>> ChurnHandlers { get; } = new Dictionary<string, Func<IChurnHandler>>(StringComparer.Ordinal)
    {
        ["reactive"] = () => new ReactiveChurnHandler(),
        ["replication"] = () => new ReplicationChurnHandler(),
        ["proactive"] = () => new ProactiveChurnHandler(),
    };

    /// <summary>
    /// The mixed cluster of the placement-throughput study: 1–8 cores and 2–31 GiB per host, six regions, 10% of
    /// the hosts ineligible, sessions begun up to 100 h before "now" (100 h).
    /// </summary>
    public static ClusterState ThroughputCluster(int hosts, RandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var cluster = new ClusterState(hosts);
        for (var i = 0; i < hosts; i++)
        {
            var index = cluster.Add(new NodeId(i), new ResourceAmount(1 + random.NextInt32(8), (2L + random.NextInt32(30)) << 30), (ushort)random.NextInt32(6));
            cluster.HistoryOf(index).SessionStarted(TimeSpan.FromHours(random.NextDouble() * 100));
            if (random.NextBoolean(0.1))
            {
                cluster.SetEligible(index, false);
            }
        }

        cluster.Now = TimeSpan.FromHours(100);
        return cluster;
    }
}
