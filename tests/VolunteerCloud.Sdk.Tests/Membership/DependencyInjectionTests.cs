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
        long ProbesIn60Seconds(TimeSpan interval)
        {
            using var cluster = new MembershipCluster(Resolve(vc => vc.UseSwimMembership(o => o.ProbeInterval = interval)), 1);
            var a = cluster.Add();
            cluster.AddMany(7, a);
            cluster.RunFor(TimeSpan.FromSeconds(60));
            return cluster[a].Counters.ProbesSent;
        }

        // About one probe per interval (memberlist skips a tick now and then when its own entry ends a round).
        Assert.InRange(ProbesIn60Seconds(TimeSpan.FromSeconds(1)), 50, 61);
        Assert.InRange(ProbesIn60Seconds(TimeSpan.FromSeconds(2)), 25, 31);
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
