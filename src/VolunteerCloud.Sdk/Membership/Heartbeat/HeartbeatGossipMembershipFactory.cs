using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership.Heartbeat;

/// <summary>Creates heartbeat-gossip membership instances with one set of options.</summary>
public sealed class HeartbeatGossipMembershipFactory : IMembershipProtocolFactory
{
    private readonly HeartbeatGossipOptions _options;

    /// <summary>Creates the factory; the options are checked now.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public HeartbeatGossipMembershipFactory(HeartbeatGossipOptions options) => _options = OptionsGuard.EnsureValid(options).Clone();

    /// <inheritdoc />
    public string Name => _options.PhiAccrual ? StrategyNames.HeartbeatPhi : StrategyNames.Heartbeat;

    /// <inheritdoc />
    public IMembershipProtocol Create(MembershipSetup setup) => new HeartbeatGossipMembership(setup, _options);
}
