namespace VolunteerCloud.ControlPlane;

/// <summary>Counters of one control-plane node.</summary>
public sealed class ControlPlaneCounters
{
    /// <summary>Copies this node, as a steward, asked a host to start.</summary>
    public long StartsRequested { get; internal set; }

    /// <summary>Copies this node, as a steward, asked a host to stop.</summary>
    public long StopsRequested { get; internal set; }

    /// <summary>Control messages sent (start and stop commands; the replicated state counts its own).</summary>
    public long CommandsSent { get; internal set; }

    /// <summary>Containers this node started as a host.</summary>
    public long ContainersStarted { get; internal set; }

    /// <summary>Start requests refused as a host (no capacity, or already running a copy of the app).</summary>
    public long StartsRefused { get; internal set; }

    /// <summary>Reconcile passes run as a steward.</summary>
    public long Reconciles { get; internal set; }
}
