namespace VolunteerCloud.Membership;

/// <summary>What one node's membership protocol has done; read by experiments and exported as metrics by the host.</summary>
public sealed class MembershipCounters
{
    /// <summary>Probes (or heartbeats) this node sent.</summary>
    public long ProbesSent { get; internal set; }

    /// <summary>Probes that got no answer in time.</summary>
    public long ProbesFailed { get; internal set; }

    /// <summary>Indirect probe requests this node sent.</summary>
    public long IndirectProbesSent { get; internal set; }

    /// <summary>Members this node started to suspect.</summary>
    public long SuspicionsRaised { get; internal set; }

    /// <summary>Members this node declared dead.</summary>
    public long DeathsDeclared { get; internal set; }

    /// <summary>Times this node refuted a suspicion or death about itself.</summary>
    public long Refutations { get; internal set; }

    /// <summary>Full-state exchanges this node started.</summary>
    public long PushPullsStarted { get; internal set; }

    /// <summary>Full-state exchanges this node started with a member it had declared dead and forgotten (SWIM's reconnect).</summary>
    public long ReconnectsAttempted { get; internal set; }

    /// <summary>Members this node told that it holds them dead or left while others announce them alive (SWIM).</summary>
    public long StaleNotices { get; internal set; }

    /// <summary>Messages of the protocol that were malformed and dropped.</summary>
    public long MalformedMessages { get; internal set; }
}
