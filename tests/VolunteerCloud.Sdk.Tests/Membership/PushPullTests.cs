using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Swim;
using VolunteerCloud.Simulator;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Sdk.Tests.Membership;

/// <summary>SWIM's full-state exchange (join and push-pull) with the largest members real hosts announce.</summary>
public sealed class PushPullTests
{
    /// <summary>
    /// A node that knows 2 500 members, each announcing a 200-byte address, answers a join: about 550 KB of state. Cut
    /// only by member count (2 048 a chunk), the first chunk would be ~450 KB, past any datagram; cut by bytes as well,
    /// every chunk fits and the joiner learns every member.
    /// </summary>
    [Fact]
    public void A_join_answered_with_members_of_long_addresses_comes_in_chunks_that_fit_a_datagram()
    {
        const int known = 2_500;
        var others = Enumerable.Range(2, known)
            .Select(i => new Member(new NodeId(i), MemberState.Alive, 1, new MemberMetadata(1, 1000, 1024) { Address = $"{i}-{new string('a', 200)}"[..195] + ":7946", ApiPort = 8080 }))
            .ToArray();
        using var simulation = new Simulation(new SimulationOptions { Seed = 5 });
        var factory = new SwimMembershipFactory(new SwimOptions());
        var seed = factory.Create(new MembershipSetup(new NodeId(0), MemberMetadata.None, []) { InitialMembers = others });
        var joiner = factory.Create(new MembershipSetup(new NodeId(1), MemberMetadata.None, [new NodeId(0)]));
        simulation.AddNode(new MembershipNode(seed));
        simulation.AddNode(new MembershipNode(joiner));

        simulation.RunFor(TimeSpan.FromMilliseconds(300));

        Assert.Equal(0, seed.Counters.MalformedMessages + joiner.Counters.MalformedMessages);
        Assert.Equal(known + 2, joiner.View.Count);
        Assert.Equal(others[^1].Metadata, joiner.View.Single(m => m.Id == others[^1].Id).Metadata);
        var pushPullBytes = simulation.Statistics.SentByType[SwimPushPull.MessageType].Bytes;
        Assert.InRange(pushPullBytes, known * 200, long.MaxValue); // the state really was that large
        Assert.True(simulation.Statistics.SentByType[SwimPushPull.MessageType].Messages >= 1 + (known * 200 / SwimPushPull.MaxChunkBytes));
        Assert.True(SwimPushPull.MaxChunkBytes + 64 < WireFormat.MaxDatagramBytes);
    }
}
