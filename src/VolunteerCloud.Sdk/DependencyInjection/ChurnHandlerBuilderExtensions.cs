using Microsoft.Extensions.DependencyInjection.Extensions;
using VolunteerCloud.ControlPlane;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chooses what stewards do about hosts that leave: <c>vc.UseReactiveChurnHandler()</c> (the default) and the others.</summary>
public static class ChurnHandlerBuilderExtensions
{
    /// <summary>Replace a lost replica after <paramref name="grace"/> (default 30 s), as Nomad does.</summary>
    public static IVolunteerCloudBuilder UseReactiveChurnHandler(this IVolunteerCloudBuilder builder, TimeSpan? grace = null)
    {
        _ = new ReactiveChurnHandler(grace); // validates now, not at first use
        return builder.UseChurnHandler(() => new ReactiveChurnHandler(grace));
    }

    /// <summary>Keep k = ⌈log(1 − A) / log(1 − a)⌉ replicas for an app with an availability target A (at most <paramref name="maximumReplicas"/>, default 20).</summary>
    public static IVolunteerCloudBuilder UseReplicationChurnHandler(this IVolunteerCloudBuilder builder, TimeSpan? grace = null, int maximumReplicas = 20)
    {
        _ = new ReplicationChurnHandler(grace, maximumReplicas);
        return builder.UseChurnHandler(() => new ReplicationChurnHandler(grace, maximumReplicas));
    }

    /// <summary>
    /// Move replicas off a host that announces it leaves, or whose predicted residual uptime is below
    /// <paramref name="residualThresholdHours"/> (default 0.25 h; 0: on notices only).
    /// </summary>
    public static IVolunteerCloudBuilder UseProactiveChurnHandler(this IVolunteerCloudBuilder builder, TimeSpan? grace = null, double residualThresholdHours = 0.25)
    {
        _ = new ProactiveChurnHandler(grace, residualThresholdHours);
        return builder.UseChurnHandler(() => new ProactiveChurnHandler(grace, residualThresholdHours));
    }

    /// <summary>Your own handler: <paramref name="create"/> makes one instance per node.</summary>
    public static IVolunteerCloudBuilder UseChurnHandler(this IVolunteerCloudBuilder builder, Func<IChurnHandler> create)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(create);
        builder.Services.Replace(ServiceDescriptor.Singleton<IChurnHandlerFactory>(new ChurnHandlerFactory(create)));
        return builder;
    }
}
