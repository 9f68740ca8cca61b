using System.Globalization;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership;

/// <summary>What a node believes about a member.</summary>
public enum MemberState : byte
{
    /// <summary>Answering, as far as this node knows.</summary>
    Alive = 0,

    /// <summary>Failed a probe; dead unless it refutes in time.</summary>
    Suspect = 1,

    /// <summary>Declared failed.</summary>
    Dead = 2,

    /// <summary>Left on purpose (graceful leave).</summary>
    Left = 3,
}

/// <summary>
/// What a member tells the cluster about itself: where it is and what it offers. Carried with its alive
/// announcements, so every node's view holds it.
/// </summary>
/// <param name="Region">The member's network region (0 when unknown).</param>
/// <param name="CpuMillicores">CPU the volunteer offers, in thousandths of a core (0 when unknown).</param>
/// <param name="MemoryMegabytes">Memory the volunteer offers, in MiB (0 when unknown).</param>
public readonly record struct MemberMetadata(ushort Region, int CpuMillicores, int MemoryMegabytes)
{
    /// <summary>The longest <see cref="Address"/>, in UTF-8 bytes.</summary>
    public const int MaxAddressBytes = 255;

    private readonly string? _address;

    /// <summary>Nothing known.</summary>
    public static MemberMetadata None => default;

    /// <summary>
    /// Where the member's gossip reaches it on a real network, as <c>host:port</c> (memberlist's Addr and Port);
    /// empty in the simulator, which addresses nodes by id alone.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Longer than <see cref="MaxAddressBytes"/> bytes.</exception>
    public string Address
    {
        get => _address ?? string.Empty;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            if (System.Text.Encoding.UTF8.GetByteCount(value) > MaxAddressBytes)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, $"An address may have at most {MaxAddressBytes} bytes.");
            }

            _address = value.Length == 0 ? null : value;
        }
    }

    /// <summary>The TCP port of the member's HTTP API on <see cref="Address"/>'s host (0: none).</summary>
    public ushort ApiPort { get; init; }

    /// <summary>Writes the metadata (three variable-length integers, the address, the API port).</summary>
    public void Write(ref WireWriter writer)
    {
        writer.WriteVarUInt32(Region);
        writer.WriteVarInt32(CpuMillicores);
        writer.WriteVarInt32(MemoryMegabytes);
        writer.WriteString(Address);
        writer.WriteVarUInt32(ApiPort);
    }

    /// <summary>Reads metadata written by <see cref="Write"/>.</summary>
    public static MemberMetadata Read(ref WireReader reader)
    {
        var region = reader.ReadVarUInt32();
        if (region > ushort.MaxValue)
        {
            throw new WireFormatException($"Region {region.ToString(CultureInfo.InvariantCulture)} is out of range.");
        }

        var cpu = reader.ReadVarInt32();
        var memory = reader.ReadVarInt32();
        var address = reader.ReadString();
        if (System.Text.Encoding.UTF8.GetByteCount(address) > MaxAddressBytes)
        {
            throw new WireFormatException($"An address may have at most {MaxAddressBytes.ToString(CultureInfo.InvariantCulture)} bytes.");
        }

        var apiPort = reader.ReadVarUInt32();
        if (apiPort > ushort.MaxValue)
        {
            throw new WireFormatException($"API port {apiPort.ToString(CultureInfo.InvariantCulture)} is out of range.");
        }

        return new MemberMetadata((ushort)region, cpu, memory) { Address = address, ApiPort = (ushort)apiPort };
    }

    /// <summary>The encoded size in bytes.</summary>
    public int EncodedLength =>
        WireLength.VarUInt(Region) + WireLength.VarInt(CpuMillicores) + WireLength.VarInt(MemoryMegabytes) +
        (_address is null ? 1 : WireLength.Text(_address)) + WireLength.VarUInt(ApiPort);
}

/// <summary>One member as a node sees it.</summary>
/// <param name="Id">The member.</param>
/// <param name="State">Alive, suspect, dead or left.</param>
/// <param name="Incarnation">The member's incarnation: only the member itself raises it, to refute suspicion or to rejoin.</param>
/// <param name="Metadata">What the member announced about itself.</param>
public readonly record struct Member(NodeId Id, MemberState State, uint Incarnation, MemberMetadata Metadata);

/// <summary>A change in a node's view of one member.</summary>
/// <param name="Node">The member that changed.</param>
/// <param name="Previous">Its state before, or <see langword="null"/> when it was unknown.</param>
/// <param name="Current">Its state now (for a removal, its last state).</param>
/// <param name="Incarnation">Its incarnation now.</param>
/// <param name="Version">The view's version after the change.</param>
/// <param name="Removed">The member was forgotten (dead or gone long enough) and is no longer in the view.</param>
public readonly record struct MembershipChange(NodeId Node, MemberState? Previous, MemberState Current, uint Incarnation, long Version, bool Removed = false);
