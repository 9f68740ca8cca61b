using VolunteerCloud.Availability;
using Microsoft.Extensions.DependencyInjection.Extensions;
using VolunteerCloud.Placement;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chooses the placement strategy: <c>vc.UsePowerOfTwoChoicesPlacement()</c> and the others. The default is power of two choices.</summary>
public static class PlacementBuilderExtensions
{
    /// <summary>A uniformly random host that fits.</summary>
    public static IVolunteerCloudBuilder UseRandomPlacement(this IVolunteerCloudBuilder builder) => builder.UsePlacement(() => new RandomPlacement());

    /// <summary>The next host that fits, in turn.</summary>
    public static IVolunteerCloudBuilder UseRoundRobinPlacement(this IVolunteerCloudBuilder builder) => builder.UsePlacement(() => new RoundRobinPlacement());

    /// <summary>A host with the fewest replicas.</summary>
    public static IVolunteerCloudBuilder UseLeastLoadedPlacement(this IVolunteerCloudBuilder builder) => builder.UsePlacement(() => new LeastLoadedPlacement());

    /// <summary>The less loaded of two random hosts (the default).</summary>
    public static IVolunteerCloudBuilder UsePowerOfTwoChoicesPlacement(this IVolunteerCloudBuilder builder) => builder.UsePowerOfChoicesPlacement(2);

    /// <summary>The least loaded of d random hosts.</summary>
    public static IVolunteerCloudBuilder UsePowerOfChoicesPlacement(this IVolunteerCloudBuilder builder, int choices)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(choices, 1);
        return builder.UsePlacement(() => new PowerOfChoicesPlacement(choices));
    }

    /// <summary>Rendezvous hashing of (app, replica, host).</summary>
    public static IVolunteerCloudBuilder UseRendezvousPlacement(this IVolunteerCloudBuilder builder) => builder.UsePlacement(() => new RendezvousPlacement());

    /// <summary>Best-fit bin packing.</summary>
    public static IVolunteerCloudBuilder UseBinPackPlacement(this IVolunteerCloudBuilder builder) => builder.UsePlacement(() => new BinPackPlacement());

    /// <summary>Spread over hosts and, optionally, regions.</summary>
    public static IVolunteerCloudBuilder UseSpreadPlacement(this IVolunteerCloudBuilder builder, bool regions = true) =>
        builder.UsePlacement(() => new SpreadPlacement(regions));

    /// <summary>The host with the largest predicted residual uptime (per-host Weibull fits, population model until history builds up).</summary>
    public static IVolunteerCloudBuilder UseAvailabilityAwarePlacement(
        this IVolunteerCloudBuilder builder, double populationShape = 0.393, double populationScaleHours = 2.964, int minimumHistory = 5)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var estimator = new ResidualUptimeEstimator(populationShape, populationScaleHours, minimumHistory); // validates now, not at first use
        builder.Services.Replace(ServiceDescriptor.Singleton(estimator)); // the churn handlers predict with the same model
        return builder.UsePlacement(() => new AvailabilityAwarePlacement(estimator));
    }

    /// <summary>Your own strategy: <paramref name="create"/> makes one instance per node.</summary>
    public static IVolunteerCloudBuilder UsePlacement(this IVolunteerCloudBuilder builder, Func<IPlacementStrategy> create)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(create);
        builder.Services.Replace(ServiceDescriptor.Singleton<IPlacementStrategyFactory>(new PlacementStrategyFactory(create)));
        return builder;
    }
}
