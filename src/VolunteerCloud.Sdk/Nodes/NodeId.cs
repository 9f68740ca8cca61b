using System.Globalization;

namespace VolunteerCloud;

/// <summary>
/// Identifies one volunteer node in a cluster.
/// </summary>
/// <remarks>
/// In the simulator node ids are dense indices (0, 1, 2, ...). A real host picks a random non-negative
/// value when it first starts and keeps it. The value is carried on the wire as a variable-length integer.
/// </remarks>
/// <param name="Value">The id's number; never negative.</param>
public readonly record struct NodeId(int Value) : IComparable<NodeId>
{
    /// <inheritdoc />
    public int CompareTo(NodeId other) => Value.CompareTo(other.Value);

    /// <summary>Formats the id as <c>n</c> followed by its number, e.g. <c>n42</c>.</summary>
    public override string ToString() => "n" + Value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Orders ids by their number.</summary>
    public static bool operator <(NodeId left, NodeId right) => left.Value < right.Value;

    /// <summary>Orders ids by their number.</summary>
    public static bool operator >(NodeId left, NodeId right) => left.Value > right.Value;

    /// <summary>Orders ids by their number.</summary>
    public static bool operator <=(NodeId left, NodeId right) => left.Value <= right.Value;

    /// <summary>Orders ids by their number.</summary>
    public static bool operator >=(NodeId left, NodeId right) => left.Value >= right.Value;
}
