namespace VolunteerCloud.ControlPlane;

/// <summary>Options of the control plane. Every default is named.</summary>
public sealed class ControlPlaneOptions
{
    /// <summary>The replicated state's gossip and anti-entropy.</summary>
    public ReplicatedStateOptions State { get; set; } = new();

    /// <summary>How often a steward reconciles its apps (it also does so shortly after every relevant change). Default 5 s.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How soon after a change a steward reconciles. Default 200 ms (changes arriving together are handled together).</summary>
    public TimeSpan ReconcileDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a steward waits for a started copy to show up in its host's report before it places it again. Default 2 min.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The Deis-like baseline: when set, this one node stewards every app and no other node does — the same loop
    /// pinned to a fixed controller, a single point of failure. Default null: leaderless stewards.
    /// </summary>
    public NodeId? PinnedController { get; set; }

    /// <summary>A copy (the replicated-state options are shared).</summary>
    public ControlPlaneOptions Clone() => (ControlPlaneOptions)MemberwiseClone();

    /// <summary>Checks the options.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(State);
        State.Validate();
        if (ReconcileInterval <= TimeSpan.Zero || ReconcileDelay < TimeSpan.Zero || StartTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ReconcileInterval), "ReconcileInterval and StartTimeout must be positive, ReconcileDelay not negative.");
        }
    }
}
