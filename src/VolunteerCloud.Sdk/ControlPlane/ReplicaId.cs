namespace VolunteerCloud.ControlPlane;

/// <summary>
/// One copy of one replica of an app. A slot is a replica's place in the app (0 … replicas − 1); the serial tells
/// copies of a slot apart (a replacement gets a new serial), so every action names exactly one copy and can be
/// repeated safely.
/// </summary>
/// <param name="App">The app.</param>
/// <param name="Slot">The replica's slot.</param>
/// <param name="Serial">The copy: chosen by the steward that placed it, unique cluster-wide (node id in the high bits).</param>
public readonly record struct ReplicaId(string App, int Slot, long Serial)
{
    /// <summary>A readable id, e.g. <c>web/2.4294967297</c>; used as the container's replica label.</summary>
    public override string ToString() => $"{App}/{Slot}.{Serial}";
}

/// <summary>A copy as its host reports it.</summary>
/// <param name="Replica">Which copy.</param>
/// <param name="Running">Started (true) or still starting (false).</param>
public readonly record struct ReplicaRecord(ReplicaId Replica, bool Running);
