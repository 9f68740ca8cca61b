using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Heartbeat;
using VolunteerCloud.Membership.Registry;
using VolunteerCloud.Membership.Swim;

namespace VolunteerCloud.Sdk.Tests.Membership;

public sealed class DependencyInjectionTests
{
    private static IMembershipProtocolFactory Resolve(Action<IVolunteerCloudBuilder>? configure = null)
    {
        using var provider = new ServiceCollection().AddVolunteerCloud(configure).BuildServiceProvider();
        return provider.GetRequiredService<IMembershipProtocolFactory>();
    }

    [Fact]
    public void Swim_with_Lifeguard_is_the_default()
    {
        Assert.Equal("swim", Resolve().Name);
    }

    [Fact]
    public void Each_Use_call_replaces_the_default()
    {
        Assert.IsType<HeartbeatGossipMembershipFactory>(Resolve(vc => vc.UseHeartbeatGossipMembership(o => o.PhiAccrual = true)));
        Assert.Equal("heartbeat-phi", Resolve(vc => vc.UseHeartbeatGossipMembership(o => o.PhiAccrual = true)).Name);
        Assert.IsType<CentralRegistryMembershipFactory>(Resolve(vc => vc.UseCentralRegistryMembership(o => o.Registry = new NodeId(0))));
        Assert.Equal("swim-no-lifeguard", Resolve(vc => vc.UseSwimMembership(o => o.Lifeguard = false)).Name);
    }

    [Fact]
    public void Options_reach_the_protocol()
    {
        var factory = Resolve(vc => vc.UseSwimMembership(o => o.ProbeInterval = TimeSpan.FromSeconds(2)));
        using var cluster = new MembershipCluster(factory, 1);
        var node = cluster.Add();
        cluster.RunFor(TimeSpan.FromSeconds(20));

        Assert.InRange(cluster[node].Counters.ProbesSent, 0, 0); // alone: nothing to probe
        Assert.Equal(TimeSpan.FromSeconds(2), new ServiceCollection().AddVolunteerCloud(vc => vc.UseSwimMembership(o => o.ProbeInterval = TimeSpan.FromSeconds(2)))
            .BuildServiceProvider().GetRequiredService<IOptions<SwimOptions>>().Value.ProbeInterval);
    }

    [Fact]
    public void An_integrators_own_protocol_can_be_registered()
    {
        var mine = new HeartbeatGossipMembershipFactory(new HeartbeatGossipOptions());

        Assert.Same(mine, Resolve(vc => vc.UseMembership(_ => mine)));
    }

    [Fact]
    public void Invalid_options_fail_with_every_problem_named()
    {
        var exception = Assert.Throws<OptionsValidationException>(() => Resolve(vc => vc.UseSwimMembership(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(5);
            o.IndirectChecks = -1;
        })));

        Assert.Contains(exception.Failures, f => f.Contains("ProbeTimeout", StringComparison.Ordinal));
        Assert.Contains(exception.Failures, f => f.Contains("IndirectChecks", StringComparison.Ordinal));
        Assert.Contains("Registry", Assert.Throws<OptionsValidationException>(() => Resolve(vc => vc.UseCentralRegistryMembership(_ => { }))).Message, StringComparison.Ordinal);
        Assert.Contains("GossipNodes", Assert.Throws<ArgumentException>(() => new HeartbeatGossipMembershipFactory(new HeartbeatGossipOptions { GossipNodes = 0 })).Message, StringComparison.Ordinal);
    }
}
