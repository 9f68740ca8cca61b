namespace VolunteerCloud.Membership.Swim;

/// <summary>
/// Lifeguard's dynamic suspicion timeout (memberlist suspicion.go): it starts at the maximum and shrinks
/// toward the minimum as independent members confirm the suspicion.
/// </summary>
internal sealed class Suspicion
{
    private readonly NodeId[] _confirmers;
    private int _confirmerCount;
    private int _confirmations;

    public Suspicion(NodeId from, int expectedConfirmations, long minTicks, long maxTicks, long startTicks, long changedAtTicks)
    {
        ExpectedConfirmations = expectedConfirmations;
        MinTicks = minTicks;
        MaxTicks = maxTicks;
        StartTicks = startTicks;
        ChangedAtTicks = changedAtTicks;
        _confirmers = new NodeId[expectedConfirmations + 1];
        _confirmers[_confirmerCount++] = from; // the first accuser never counts as a confirmation
    }

    /// <summary>k: confirmations after which the timeout reaches its minimum.</summary>
    public int ExpectedConfirmations { get; }

    public long MinTicks { get; }

    public long MaxTicks { get; }

    public long StartTicks { get; }

    /// <summary>When the member became suspect: a timer for an older suspicion is ignored.</summary>
    public long ChangedAtTicks { get; }

    public TimerId Timer { get; set; }

    /// <summary>The timeout the timer starts with: the maximum, or the minimum when no confirmations are expected.</summary>
    public long InitialTimeoutTicks => ExpectedConfirmations < 1 ? MinTicks : MaxTicks;

    /// <summary>
    /// memberlist's suspicionTimeout: SuspicionMult · max(1, log10(max(1, n))) · interval, with the node
    /// scale truncated to thousandths as memberlist's integer arithmetic does.
    /// </summary>
    public static long MinimumTimeoutTicks(int suspicionMult, int memberCount, TimeSpan probeInterval)
    {
        var nodeScale = Math.Max(1.0, Math.Log10(Math.Max(1.0, memberCount)));
        return suspicionMult * (long)(nodeScale * 1000) * probeInterval.Ticks / 1000;
    }

    /// <summary>The timeout after <paramref name="confirmations"/> confirmations: max − (max − min)·ln(c + 1)/ln(k + 1), at least min, in whole milliseconds.</summary>
    public long TimeoutAfter(int confirmations)
    {
        var fraction = Math.Log(confirmations + 1.0) / Math.Log(ExpectedConfirmations + 1.0);
        var raw = MaxTicks - (fraction * (MaxTicks - MinTicks));
        var timeout = (long)Math.Floor(raw / TimeSpan.TicksPerMillisecond) * TimeSpan.TicksPerMillisecond;
        return Math.Max(timeout, MinTicks);
    }

    /// <summary>Records an independent confirmation from <paramref name="from"/>.</summary>
    /// <returns><see langword="true"/> if it counted (new confirmer, fewer than k so far); then <paramref name="remainingTicks"/> is the new time left (may be negative).</returns>
    public bool Confirm(NodeId from, long nowTicks, out long remainingTicks)
    {
        remainingTicks = 0;
        if (_confirmations >= ExpectedConfirmations || Array.IndexOf(_confirmers, from, 0, _confirmerCount) >= 0)
        {
            return false;
        }

        _confirmers[_confirmerCount++] = from;
        _confirmations++;
        remainingTicks = TimeoutAfter(_confirmations) - (nowTicks - StartTicks);
        return true;
    }
}
