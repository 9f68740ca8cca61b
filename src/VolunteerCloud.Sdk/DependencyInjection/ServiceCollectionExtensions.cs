using VolunteerCloud.Availability;
using VolunteerCloud.ControlPlane;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using VolunteerCloud;
using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Swim;
using VolunteerCloud.Placement;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers VolunteerCloud in a service collection.</summary>
public static class VolunteerCloudServiceCollectionExtensions
{
    /// <summary>
    /// Adds VolunteerCloud's strategies. Each <c>Use*</c> call in <paramref name="configure"/> replaces one
    /// default; the defaults (SWIM membership, power-of-two-choices placement, reactive churn handling, SETI@home's residual-uptime model) are added with TryAdd after it, so only what was not chosen
    /// falls back to them.
    /// </summary>
    /// <example><code>
    /// services.AddVolunteerCloud(vc => vc.UseSwimMembership(o => o.ProbeInterval = TimeSpan.FromSeconds(2)));
    /// </code></example>
    public static IServiceCollection AddVolunteerCloud(this IServiceCollection services, Action<IVolunteerCloudBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        configure?.Invoke(new VolunteerCloudBuilder(services));
        services.AddOptions<SwimOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SwimOptions>, SelfValidatingOptionsValidator<SwimOptions>>());
        services.TryAddSingleton<IMembershipProtocolFactory>(sp => new SwimMembershipFactory(sp.GetRequiredService<IOptions<SwimOptions>>().Value));
        services.TryAddSingleton<IPlacementStrategyFactory>(new PlacementStrategyFactory(() => new PowerOfChoicesPlacement(2)));
        services.TryAddSingleton<IChurnHandlerFactory>(new ChurnHandlerFactory(() => new ReactiveChurnHandler()));
        services.TryAddSingleton(new ResidualUptimeEstimator());
        return services;
    }
}
