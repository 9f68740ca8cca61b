using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Heartbeat;
using VolunteerCloud.Membership.Registry;
using VolunteerCloud.Membership.Swim;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chooses VolunteerCloud's strategies; returned by <c>AddVolunteerCloud</c>'s callback.</summary>
public interface IVolunteerCloudBuilder
{
    /// <summary>The service collection the strategies are registered in.</summary>
    IServiceCollection Services { get; }
}

internal sealed class VolunteerCloudBuilder(IServiceCollection services) : IVolunteerCloudBuilder
{
    public IServiceCollection Services { get; } = services;
}

/// <summary>Choosing the membership protocol.</summary>
public static class MembershipBuilderExtensions
{
    /// <summary>SWIM with the Lifeguard extensions (the default), with options starting from memberlist's DefaultLANConfig.</summary>
    public static IVolunteerCloudBuilder UseSwimMembership(this IVolunteerCloudBuilder builder, Action<SwimOptions>? configure = null) =>
        builder.UseMembership<SwimOptions>(configure, options => new SwimMembershipFactory(options));

    /// <summary>Heartbeat-counter gossip with a timeout or phi-accrual failure detector.</summary>
    public static IVolunteerCloudBuilder UseHeartbeatGossipMembership(this IVolunteerCloudBuilder builder, Action<HeartbeatGossipOptions>? configure = null) =>
        builder.UseMembership<HeartbeatGossipOptions>(configure, options => new HeartbeatGossipMembershipFactory(options));

    /// <summary>The Deis-like baseline: one registry node decides who is alive. <see cref="CentralRegistryOptions.Registry"/> must be set.</summary>
    public static IVolunteerCloudBuilder UseCentralRegistryMembership(this IVolunteerCloudBuilder builder, Action<CentralRegistryOptions> configure) =>
        builder.UseMembership<CentralRegistryOptions>(configure, options => new CentralRegistryMembershipFactory(options));

    /// <summary>An integrator's own membership protocol.</summary>
    public static IVolunteerCloudBuilder UseMembership(this IVolunteerCloudBuilder builder, Func<IServiceProvider, IMembershipProtocolFactory> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        builder.Services.Replace(ServiceDescriptor.Singleton(factory));
        return builder;
    }

    private static IVolunteerCloudBuilder UseMembership<TOptions>(this IVolunteerCloudBuilder builder, Action<TOptions>? configure, Func<TOptions, IMembershipProtocolFactory> create)
        where TOptions : class, ISelfValidatingOptions
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<TOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, SelfValidatingOptionsValidator<TOptions>>());
        return builder.UseMembership(services => create(services.GetRequiredService<IOptions<TOptions>>().Value));
    }
}
