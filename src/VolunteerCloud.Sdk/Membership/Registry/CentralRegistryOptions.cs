using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership.Registry;

/// <summary>Settings of central-registry membership: the Deis-like baseline with one point of failure.</summary>
public sealed class CentralRegistryOptions : ISelfValidatingOptions
{
    /// <summary>The one node that decides who is alive. Required.</summary>
    public NodeId? Registry { get; set; }

    /// <summary>Time between a member's heartbeats to the registry. Default: 1 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The registry declares a member dead after this long without a heartbeat. Default: 5 s.</summary>
    public TimeSpan FailTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the registry remembers dead and departed members. Default: 30 s.</summary>
    public TimeSpan ForgetAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The registry pushes its view to every live member at most this often when it changed, and at least every 10 intervals. Default: 1 s.</summary>
    public TimeSpan ViewPushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    public IEnumerable<string> Validate() =>
        (Registry is { Value: >= 0 } ? [] : new[] { $"{nameof(Registry)} must name the registry node." })
            .Concat(OptionsGuard.Positive(HeartbeatInterval, nameof(HeartbeatInterval)))
            .Concat(OptionsGuard.Positive(FailTimeout, nameof(FailTimeout)))
            .Concat(OptionsGuard.Positive(ForgetAfter, nameof(ForgetAfter)))
            .Concat(OptionsGuard.Positive(ViewPushInterval, nameof(ViewPushInterval)));

    /// <summary>A copy for one node.</summary>
    public CentralRegistryOptions Clone() => (CentralRegistryOptions)MemberwiseClone();
}
