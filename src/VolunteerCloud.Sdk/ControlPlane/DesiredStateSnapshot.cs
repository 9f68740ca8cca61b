using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using VolunteerCloud.Wire;

namespace VolunteerCloud.ControlPlane;

/// <summary>
/// The desired state a node holds (<see cref="ControlPlaneNode.DesiredEntries"/>: every app's entry, tombstones
/// included, and the cluster's id) as bytes to keep on disk, so a cluster restarted as a whole — every volunteer's machine rebooted after
/// a power cut — gets its apps back (<see cref="ControlPlaneNode.RestoreDesired"/>). Entries keep their stamps, so a
/// stale snapshot can only lose to what the cluster wrote since: a newer version or a tombstone wins as it would
/// over gossip. Layout: <c>"VCDS"</c>, a format byte (2; format 1, still read, could hold only apps' entries), a count, the entries in the wire format's encoding
/// (docs/wire-format.md), and the XxHash64 of everything before it (8 bytes, little-endian), so a torn or damaged
/// file is refused whole rather than read in part.
/// </summary>
public static class DesiredStateSnapshot
{
    /// <summary>The format this version writes: 2, which may hold the cluster's id beside the apps' entries.</summary>
    public const byte Format = 2;

    /// <summary>The oldest format this version reads (1: apps' entries only).</summary>
    public const byte OldestFormat = 1;

    /// <summary>The most entries a snapshot may hold (one million apps and tombstones).</summary>
    public const int MaxEntries = 1_000_000;

    private static ReadOnlySpan<byte> Magic => "VCDS"u8;

    /// <summary>Encodes app entries and the cluster's id.</summary>
    /// <exception cref="ArgumentException">An entry is neither an app's (its key does not start with <c>app/</c>) nor the cluster's id.</exception>
    public static byte[] Encode(IEnumerable<StateEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var list = entries.ToList();
        if (list.Count > MaxEntries)
        {
            throw new ArgumentException($"A snapshot holds at most {MaxEntries} entries, not {list.Count}.", nameof(entries));
        }

        var length = Magic.Length + 1 + WireLength.VarUInt((uint)list.Count) + sizeof(ulong);
        foreach (var entry in list)
        {
            if (!DesiredState.IsKeptKey(entry.Key))
            {
                throw new ArgumentException($"'{entry.Key}' is not an app's entry; a desired-state snapshot holds only keys starting with '{DesiredState.AppPrefix}' and the cluster's id ('{DesiredState.ClusterKey}').", nameof(entries));
            }

            length += entry.EncodedLength;
        }

        var bytes = new byte[length];
        var writer = new WireWriter(bytes);
        foreach (var b in Magic)
        {
            writer.WriteByte(b);
        }

        writer.WriteByte(Format);
        writer.WriteVarUInt32((uint)list.Count);
        foreach (var entry in list)
        {
            entry.Write(ref writer);
        }

        var body = writer.WrittenSpan.Length;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(body), XxHash64.HashToUInt64(bytes.AsSpan(0, body)));
        return bytes;
    }

    /// <summary>The format byte of bytes that start as a snapshot does (the magic), whatever the format; null for other bytes.</summary>
    public static byte? FormatOf(ReadOnlySpan<byte> bytes) => bytes.Length > Magic.Length && bytes.StartsWith(Magic) ? bytes[Magic.Length] : null;

    /// <summary>Decodes a snapshot written by <see cref="Encode"/>, in this format or an older one.</summary>
    /// <exception cref="WireFormatException">The bytes are not a whole, undamaged snapshot of a format this version reads, or hold an entry its format may not.</exception>
    public static IReadOnlyList<StateEntry> Decode(ReadOnlySpan<byte> bytes)
    {
        if (FormatOf(bytes) is not { } format)
        {
            throw new WireFormatException("Not a desired-state snapshot (it does not start with \"VCDS\").");
        }

        if (format is < OldestFormat or > Format)
        {
            throw new WireFormatException($"Snapshot format {format.ToString(CultureInfo.InvariantCulture)} is not one this version reads ({OldestFormat.ToString(CultureInfo.InvariantCulture)}–{Format.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (bytes.Length < Magic.Length + 1 + 1 + sizeof(ulong))
        {
            throw new WireFormatException("The snapshot is cut short.");
        }

        var body = bytes[..^sizeof(ulong)];
        if (BinaryPrimitives.ReadUInt64LittleEndian(bytes[^sizeof(ulong)..]) != XxHash64.HashToUInt64(body))
        {
            throw new WireFormatException("The snapshot's checksum does not match: the file is damaged or was cut short.");
        }

        var reader = new WireReader(body[(Magic.Length + 1)..]);
        var count = reader.ReadCount(MaxEntries, minimumElementBytes: 4);
        var entries = new StateEntry[count];
        for (var i = 0; i < count; i++)
        {
            entries[i] = StateEntry.Read(ref reader);
            if (!(format == 1 ? DesiredState.IsAppKey(entries[i].Key) : DesiredState.IsKeptKey(entries[i].Key)))
            {
                throw new WireFormatException($"Entry {i.ToString(CultureInfo.InvariantCulture)} ('{entries[i].Key}') is not one a format {format.ToString(CultureInfo.InvariantCulture)} snapshot holds.");
            }
        }

        reader.EnsureEnd();
        return entries;
    }
}
