using VolunteerCloud.Randomness;
using VolunteerCloud.Wire;

namespace VolunteerCloud.ControlPlane;

/// <summary>Options of <see cref="ReplicatedState"/>. Defaults follow memberlist's LAN configuration where one exists.</summary>
public sealed class ReplicatedStateOptions
{
    /// <summary>How often pending updates are pushed to random peers (the timer runs only while there are some). Default 1 s.</summary>
    public TimeSpan GossipInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Peers each push goes to. Default 3 (memberlist's GossipNodes).</summary>
    public int GossipFanout { get; set; } = 3;

    /// <summary>An update is sent multiplier × ⌈log10(n + 1)⌉ times by each node, in all (as memberlist's transmit-limited queue: a round to three peers uses three). Default 4 (memberlist's RetransmitMult).</summary>
    public int RetransmitMultiplier { get; set; } = 4;

    /// <summary>How often this node runs anti-entropy with one random peer. Default 10 s (memberlist's push-pull is 30 s; desired state is small).</summary>
    public TimeSpan AntiEntropyInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Bytes of entries per gossip push, to fit one UDP datagram. Default 1 400 (memberlist's UDPBufferSize).</summary>
    public int GossipBudgetBytes { get; set; } = 1_400;

    /// <summary>Bytes per anti-entropy message (summaries and entries are split to fit). Default 60 000.</summary>
    public int SyncBudgetBytes { get; set; } = 60_000;

    /// <summary>
    /// Until the node has synced, run anti-entropy every <see cref="GossipInterval"/> and start it with a
    /// <see cref="StateDigestQuery"/>, which the peer answers even when the two states are equal, so
    /// <see cref="ReplicatedState.Synced"/> turns true within about a second of joining rather than whenever a peer's
    /// digest happens to arrive. Default false (the simulator's experiments measure the protocol
    /// without it); the volunteer daemon turns it on, since it answers "no such app" only once synced.
    /// </summary>
    public bool ConfirmUntilSynced { get; set; }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public void Validate()
    {
        if (GossipInterval <= TimeSpan.Zero || AntiEntropyInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(GossipInterval), "GossipInterval and AntiEntropyInterval must be positive.");
        }

        if (GossipFanout < 1 || RetransmitMultiplier < 1 || GossipBudgetBytes < 256 || SyncBudgetBytes < GossipBudgetBytes || SyncBudgetBytes > WireFormat.MaxDatagramBytes - 64)
        {
            throw new ArgumentOutOfRangeException(nameof(GossipFanout), "GossipFanout and RetransmitMultiplier must be at least 1, GossipBudgetBytes at least 256 and at most SyncBudgetBytes, which must fit a datagram.");
        }
    }
}
