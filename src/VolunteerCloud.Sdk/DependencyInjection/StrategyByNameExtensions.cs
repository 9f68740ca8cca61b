using VolunteerCloud.Membership.Heartbeat;
using VolunteerCloud.Membership.Swim;
using VolunteerCloud.Strategies;
using VolunteerCloud;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Chooses strategies by their names (<see cref="StrategyNames"/>), as a configuration file does: the volunteer
/// daemon's <c>Volunteer:Membership</c>, <c>Volunteer:Placement</c> and <c>Volunteer:ChurnHandler</c>.
/// </summary>
public static class StrategyByNameExtensions
{
    /// <summary>The membership protocols that can be chosen by name alone (the registry needs its node: use <c>UseCentralRegistryMembership</c>).</summary>
    public static IReadOnlyList<string> MembershipNames { get; } = [StrategyNames.Swim, StrategyNames.SwimWithoutLifeguard, StrategyNames.Heartbeat, StrategyNames.HeartbeatPhi];

    /// <summary>A placement strategy of <see cref="StrategyCatalog.Placements"/>, at its defaults.</summary>
    /// <exception cref="ArgumentException">No strategy has that name; the message lists those that do.</exception>
    public static IVolunteerCloudBuilder UsePlacement(this IVolunteerCloudBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name == StrategyNames.AvailabilityAware
            ? builder.UseAvailabilityAwarePlacement() // registers the residual-uptime model the churn handlers share
            : builder.UsePlacement(Lookup(StrategyCatalog.Placements, name, "placement strategy"));
    }

    /// <summary>A churn handler of <see cref="StrategyCatalog.ChurnHandlers"/>, at its defaults but for <paramref name="grace"/>.</summary>
    /// <exception cref="ArgumentException">No handler has that name.</exception>
    public static IVolunteerCloudBuilder UseChurnHandler(this IVolunteerCloudBuilder builder, string name, TimeSpan? grace = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        _ = Lookup(StrategyCatalog.ChurnHandlers, name, "churn handler");
        return name switch
        {
            StrategyNames.Reactive => builder.UseReactiveChurnHandler(grace),
            StrategyNames.Replication => builder.UseReplicationChurnHandler(grace),
            _ => builder.UseProactiveChurnHandler(grace),
        };
    }

    /// <summary>A membership protocol of <see cref="MembershipNames"/>, with <paramref name="configureSwim"/> or <paramref name="configureHeartbeat"/> applied to its options.</summary>
    /// <exception cref="ArgumentException">No protocol of those has that name.</exception>
    public static IVolunteerCloudBuilder UseMembership(this IVolunteerCloudBuilder builder, string name, Action<SwimOptions>? configureSwim = null, Action<HeartbeatGossipOptions>? configureHeartbeat = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name switch
        {
            StrategyNames.Swim => builder.UseSwimMembership(configureSwim),
            StrategyNames.SwimWithoutLifeguard => builder.UseSwimMembership(o => { configureSwim?.Invoke(o); o.Lifeguard = false; }),
            StrategyNames.Heartbeat => builder.UseHeartbeatGossipMembership(configureHeartbeat),
            StrategyNames.HeartbeatPhi => builder.UseHeartbeatGossipMembership(o => { configureHeartbeat?.Invoke(o); o.PhiAccrual = true; }),
            _ => throw Unknown(name, "membership protocol", MembershipNames),
        };
    }

    private static T Lookup<T>(IReadOnlyDictionary<string, T> catalog, string name, string what) =>
        catalog.TryGetValue(name, out var found) ? found : throw Unknown(name, what, catalog.Keys);

    private static ArgumentException Unknown(string name, string what, IEnumerable<string> known) =>
        new($"'{name}' is not a {what}; choose one of: {string.Join(", ", known)}.", nameof(name));
}
