namespace VolunteerCloud.Membership.Swim;

/// <summary>Creates <c>SwimMembership</c> instances (SWIM with Lifeguard) with one set of options.</summary>
public sealed class SwimMembershipFactory : IMembershipProtocolFactory
{
    private readonly SwimOptions _options;

    /// <summary>Creates the factory; the options are checked now and copied for every node.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public SwimMembershipFactory(SwimOptions options) => _options = OptionsGuard.EnsureValid(options).Clone();

    /// <inheritdoc />
    public string Name => _options.Lifeguard ? StrategyNames.Swim : StrategyNames.SwimWithoutLifeguard;

    /// <inheritdoc />
    public IMembershipProtocol Create(MembershipSetup setup) => new SwimMembership(setup, _options);
}
