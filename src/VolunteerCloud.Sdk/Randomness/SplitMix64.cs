using System.Numerics;
using System.Text;

namespace VolunteerCloud.Randomness;

/// <summary>
/// The arithmetic of the SplitMix64 generator and its splittable streams, after Steele, Lea and Flood,
/// "Fast splittable pseudorandom number generators" (OOPSLA 2014), the algorithm of Java's
/// <c>java.util.SplittableRandom</c>. Exposed so that a runtime can keep a stream's state in its own
/// storage (the simulator keeps 8 bytes per node) and still produce exactly the values
/// <see cref="SplittableRandom"/> would.
/// </summary>
internal static class SplitMix64
{
    /// <summary>The default stream increment: the odd integer closest to 2^64 / φ.</summary>
    public const ulong GoldenGamma = 0x9E3779B97F4A7C15UL;

    /// <summary>The output function (Stafford's "variant 13" 64-bit finalizer): a bijection with good avalanche.</summary>
    public static ulong Mix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Derives a stream increment: odd, and with enough bit transitions to make a good Weyl sequence.</summary>
    public static ulong MixGamma(ulong z)
    {
        z = (z ^ (z >> 33)) * 0xFF51AFD7ED558CCDUL;
        z = (z ^ (z >> 33)) * 0xC4CEB9FE1A85EC53UL;
        z = (z ^ (z >> 33)) | 1UL;
        var transitions = BitOperations.PopCount(z ^ (z >> 1));
        return transitions < 24 ? z ^ 0xAAAAAAAAAAAAAAAAUL : z;
    }

    /// <summary>Advances a stream and returns its next 64 random bits.</summary>
    /// <param name="state">The stream's state; advanced by <paramref name="gamma"/>.</param>
    /// <param name="gamma">The stream's increment (odd).</param>
    public static ulong Next(ref ulong state, ulong gamma)
    {
        state += gamma;
        return Mix64(state);
    }

    /// <summary>
    /// The initial state of stream <paramref name="streamIndex"/> of a root generator seeded with
    /// <paramref name="rootSeed"/>: the state of its <paramref name="streamIndex"/>-th <c>split()</c>
    /// (counting from zero), computed directly.
    /// </summary>
    public static ulong StreamSeed(ulong rootSeed, ulong streamIndex) =>
        Mix64(rootSeed + ((2 * streamIndex) + 1) * GoldenGamma);

    /// <summary>The increment of stream <paramref name="streamIndex"/> (see <see cref="StreamSeed"/>).</summary>
    public static ulong StreamGamma(ulong rootSeed, ulong streamIndex) =>
        MixGamma(rootSeed + ((2 * streamIndex) + 2) * GoldenGamma);

    /// <summary>
    /// A stream index for a named purpose ("network", "churn", ...): a 64-bit hash of the name. Node streams use
    /// the indices 0, 1, 2, ...; a named stream equals node <c>i</c>'s stream only if its index equals <c>i</c>
    /// modulo 2^63 (the index is doubled in <see cref="StreamSeed"/>), which for a million nodes happens with
    /// probability about 2^-43 per name; tests check the names the project uses.
    /// </summary>
    public static ulong StreamIndexFor(string purpose)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        // FNV-1a over the UTF-8 bytes, then the finalizer: stable across processes and platforms.
        var hash = 0xCBF29CE484222325UL;
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetByteCount(purpose) <= buffer.Length
            ? buffer[..Encoding.UTF8.GetBytes(purpose, buffer)]
            : Encoding.UTF8.GetBytes(purpose);
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 0x100000001B3UL;
        }

        return Mix64(hash);
    }
}
