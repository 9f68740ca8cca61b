namespace VolunteerCloud.Wire;

/// <summary>
/// A list carried in a message: a view of the sender's buffer when sending (no copy), a fresh array when
/// received. Two lists are equal when their elements are.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "Empty and FromArray read as on ImmutableArray<T>.")]
public readonly struct WireList<T> : IEquatable<WireList<T>>
    where T : IEquatable<T>
{
    /// <summary>Wraps elements.</summary>
    public WireList(ReadOnlyMemory<T> items) => Items = items;

    /// <summary>An empty list.</summary>
    public static WireList<T> Empty => default;

    /// <summary>The elements.</summary>
    public ReadOnlyMemory<T> Items { get; }

    /// <summary>How many elements.</summary>
    public int Count => Items.Length;

    /// <summary>Wraps an array.</summary>
    public static implicit operator WireList<T>(T[] items) => new(items);

    /// <summary>Wraps an array.</summary>
    public static WireList<T> FromArray(T[] items) => new(items);

    /// <inheritdoc />
    public bool Equals(WireList<T> other) => Items.Span.SequenceEqual(other.Items.Span);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is WireList<T> other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => Count;

    /// <summary>Compares element by element.</summary>
    public static bool operator ==(WireList<T> left, WireList<T> right) => left.Equals(right);

    /// <summary>Compares element by element.</summary>
    public static bool operator !=(WireList<T> left, WireList<T> right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => $"[{string.Join(", ", Items.ToArray())}]";
}
