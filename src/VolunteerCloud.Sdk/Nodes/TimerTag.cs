namespace VolunteerCloud;

/// <summary>
/// What a timer means to the node that set it. The runtime hands the tag back, unchanged, in
/// <see cref="INode.OnTimer"/> when the timer fires.
/// </summary>
/// <param name="Kind">The node's own timer kind (for example "probe timeout").</param>
/// <param name="Argument">A value the node needs to act on the timer (for example a probe sequence number).</param>
public readonly record struct TimerTag(int Kind, int Argument = 0)
{
    /// <summary>Packs the tag into one 64-bit value (kind in the high half).</summary>
    public long ToInt64() => ((long)Kind << 32) | (uint)Argument;

    /// <summary>Unpacks a tag packed by <see cref="ToInt64"/>.</summary>
    public static TimerTag FromInt64(long value) => new((int)(value >> 32), (int)value);
}

/// <summary>
/// A handle to a timer set through <see cref="NodeContext.SetTimer"/>, used to cancel it.
/// Opaque: only the runtime that issued it gives its fields meaning.
/// </summary>
/// <param name="Sequence">The runtime's unique number for the timer.</param>
/// <param name="DueTicks">When the timer is due, in the runtime's clock ticks.</param>
public readonly record struct TimerId(long Sequence, long DueTicks);
