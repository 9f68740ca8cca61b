using System.Globalization;

namespace VolunteerCloud.Containers;

/// <summary>An amount of compute: CPUs (fractions allowed, as Docker's <c>--cpus</c>) and memory in bytes.</summary>
/// <param name="Cpus">CPUs; 1.5 means one and a half cores' worth of time.</param>
/// <param name="MemoryBytes">Memory in bytes.</param>
public readonly record struct ResourceAmount(double Cpus, long MemoryBytes)
{
    /// <summary>Nothing.</summary>
    public static ResourceAmount Zero => default;

    /// <summary>Whether this amount fits within <paramref name="limit"/> in every dimension.</summary>
    /// <remarks>CPUs are compared with a tolerance of 1e-9 so that sums of fractions such as 0.1 fit exactly.</remarks>
    public bool FitsWithin(ResourceAmount limit) => Cpus <= limit.Cpus + 1e-9 && MemoryBytes <= limit.MemoryBytes;

    /// <summary>The sum of two amounts.</summary>
    public static ResourceAmount operator +(ResourceAmount left, ResourceAmount right) =>
        new(left.Cpus + right.Cpus, left.MemoryBytes + right.MemoryBytes);

    /// <summary>The difference of two amounts.</summary>
    public static ResourceAmount operator -(ResourceAmount left, ResourceAmount right) =>
        new(left.Cpus - right.Cpus, left.MemoryBytes - right.MemoryBytes);

    /// <summary>The sum of two amounts.</summary>
    public static ResourceAmount Add(ResourceAmount left, ResourceAmount right) => left + right;

    /// <summary>The difference of two amounts.</summary>
    public static ResourceAmount Subtract(ResourceAmount left, ResourceAmount right) => left - right;

    /// <summary>Formats as e.g. <c>1.5 CPUs, 512 MiB</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Cpus:0.###} CPUs, {MemoryBytes / (1024.0 * 1024):0.#} MiB");
}
