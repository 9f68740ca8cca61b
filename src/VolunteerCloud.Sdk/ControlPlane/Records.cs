using System.Collections.Immutable;
using VolunteerCloud.Apps;
using VolunteerCloud.Containers;
using VolunteerCloud.Wire;

namespace VolunteerCloud.ControlPlane;

/// <summary>
/// One copy of one replica of an app. A slot is a replica's place in the app (0 … replicas − 1); the serial tells
/// copies of a slot apart (a replacement gets a new serial), so every action names exactly one copy and can be
/// repeated safely.
/// </summary>
/// <param name="App">The app.</param>
/// <param name="Slot">The replica's slot.</param>
/// <param name="Serial">The copy: chosen by the steward that placed it, unique cluster-wide (node id in the high bits).</param>
public readonly record struct ReplicaId(string App, int Slot, long Serial)
{
    /// <summary>A readable id, e.g. <c>web/2.4294967297</c>; used as the container's replica label.</summary>
    public override string ToString() => $"{App}/{Slot}.{Serial}";
}

/// <summary>A copy as its host reports it.</summary>
/// <param name="Replica">Which copy.</param>
/// <param name="Running">Started (true) or still starting (false).</param>
public readonly record struct ReplicaRecord(ReplicaId Replica, bool Running);

/// <summary>What a host tells the cluster about itself through the replicated state (key <c>node/{id}</c>).</summary>
/// <param name="Leaving">The host announced it will leave soon (its owner reclaims the machine): move its replicas.</param>
/// <param name="Replicas">The copies it runs or is starting.</param>
public sealed record NodeReport(bool Leaving, ImmutableArray<ReplicaRecord> Replicas)
{
    /// <summary>An empty report.</summary>
    public static NodeReport Empty { get; } = new(false, []);

    /// <summary>Encodes the report.</summary>
    public byte[] Encode()
    {
        var buffer = new byte[16 + Replicas.Sum(r => WireLength.Text(r.Replica.App) + 20)];
        var writer = new WireWriter(buffer);
        writer.WriteBoolean(Leaving);
        writer.WriteVarUInt32((uint)Replicas.Length);
        foreach (var record in Replicas)
        {
            writer.WriteString(record.Replica.App);
            writer.WriteVarInt32(record.Replica.Slot);
            writer.WriteVarInt64(record.Replica.Serial);
            writer.WriteBoolean(record.Running);
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a report.</summary>
    /// <exception cref="WireFormatException">The bytes are not a report.</exception>
    public static NodeReport Decode(ReadOnlySpan<byte> bytes)
    {
        var reader = new WireReader(bytes);
        var leaving = reader.ReadBoolean();
        var count = reader.ReadCount(100_000, minimumElementBytes: 4);
        var records = ImmutableArray.CreateBuilder<ReplicaRecord>(count);
        for (var i = 0; i < count; i++)
        {
            records.Add(new ReplicaRecord(new ReplicaId(reader.ReadString(), reader.ReadVarInt32(), reader.ReadVarInt64()), reader.ReadBoolean()));
        }

        reader.EnsureEnd();
        return new NodeReport(leaving, records.MoveToImmutable());
    }

    /// <inheritdoc />
    public bool Equals(NodeReport? other) => other is not null && Leaving == other.Leaving && Replicas.SequenceEqual(other.Replicas);

    /// <inheritdoc />
    public override int GetHashCode() => Replicas.Length;
}

/// <summary>The wire encoding of an <see cref="AppSpec"/> (key <c>app/{name}</c> of the replicated state, and start commands).</summary>
public static class AppSpecCodec
{
    /// <summary>Encodes a spec.</summary>
    public static byte[] Encode(AppSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var size = 64 + WireLength.Text(spec.Name) + WireLength.Text(spec.Image)
            + spec.Command.Sum(c => WireLength.Text(c)) + spec.Environment.Sum(e => WireLength.Text(e.Key) + WireLength.Text(e.Value))
            + (spec.Ports.Length * 16) + (spec.HealthCheck?.Test.Sum(t => WireLength.Text(t)) ?? 0) + 64;
        var buffer = new byte[size];
        var writer = new WireWriter(buffer);
        writer.WriteString(spec.Name);
        writer.WriteString(spec.Image);
        writer.WriteVarUInt32((uint)spec.Command.Length);
        foreach (var word in spec.Command)
        {
            writer.WriteString(word);
        }

        writer.WriteVarUInt32((uint)spec.Environment.Count);
        foreach (var (key, value) in spec.Environment)
        {
            writer.WriteString(key);
            writer.WriteString(value);
        }

        writer.WriteVarUInt32((uint)spec.Ports.Length);
        foreach (var port in spec.Ports)
        {
            writer.WriteVarUInt32((uint)port.ContainerPort);
            writer.WriteVarUInt32((uint)port.HostPort);
            writer.WriteBoolean(port.Protocol == "udp");
        }

        writer.WriteVarUInt32((uint)spec.Replicas);
        writer.WriteDouble(spec.Limits.Cpus);
        writer.WriteVarInt64(spec.Limits.MemoryBytes);
        writer.WriteByte((byte)spec.Restart);
        writer.WriteBoolean(spec.AvailabilityTarget is not null);
        if (spec.AvailabilityTarget is { } target)
        {
            writer.WriteDouble(target);
        }

        writer.WriteBoolean(spec.HealthCheck is not null);
        if (spec.HealthCheck is { } health)
        {
            writer.WriteVarUInt32((uint)health.Test.Length);
            foreach (var word in health.Test)
            {
                writer.WriteString(word);
            }

            writer.WriteTimeSpan(health.Interval);
            writer.WriteTimeSpan(health.Timeout);
            writer.WriteVarUInt32((uint)health.Retries);
            writer.WriteTimeSpan(health.StartPeriod);
        }

        writer.WriteBoolean(spec.ReadOnlyRootFilesystem);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a spec.</summary>
    /// <exception cref="WireFormatException">The bytes are not a valid spec.</exception>
    public static AppSpec Decode(ReadOnlySpan<byte> bytes)
    {
        var reader = new WireReader(bytes);
        try
        {
            var name = reader.ReadString();
            var image = reader.ReadString();
            var command = ImmutableArray.CreateBuilder<string>();
            for (var i = reader.ReadCount(4096); i > 0; i--)
            {
                command.Add(reader.ReadString());
            }

            var environment = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            for (var i = reader.ReadCount(4096, 2); i > 0; i--)
            {
                environment[reader.ReadString()] = reader.ReadString();
            }

            var ports = ImmutableArray.CreateBuilder<PortBinding>();
            for (var i = reader.ReadCount(1024, 3); i > 0; i--)
            {
                ports.Add(new PortBinding((int)reader.ReadVarUInt32(), (int)reader.ReadVarUInt32(), reader.ReadBoolean() ? "udp" : "tcp"));
            }

            var replicas = (int)Math.Min(reader.ReadVarUInt32(), int.MaxValue);
            var limits = new ResourceAmount(reader.ReadDouble(), reader.ReadVarInt64());
            var restart = reader.ReadByte();
            if (restart > (byte)RestartPolicy.UnlessStopped)
            {
                throw new WireFormatException($"Unknown restart policy {restart}.");
            }

            double? target = reader.ReadBoolean() ? reader.ReadDouble() : null;
            HealthCheckSpec? health = null;
            if (reader.ReadBoolean())
            {
                var test = ImmutableArray.CreateBuilder<string>();
                for (var i = reader.ReadCount(1024); i > 0; i--)
                {
                    test.Add(reader.ReadString());
                }

                health = new HealthCheckSpec(test.ToImmutable())
                {
                    Interval = reader.ReadTimeSpan(),
                    Timeout = reader.ReadTimeSpan(),
                    Retries = (int)Math.Min(reader.ReadVarUInt32(), int.MaxValue),
                    StartPeriod = reader.ReadTimeSpan(),
                };
            }

            var readOnly = reader.ReadBoolean();
            reader.EnsureEnd();
            return new AppSpec(name, image)
            {
                Command = command.ToImmutable(),
                Environment = environment.ToImmutable(),
                Ports = ports.ToImmutable(),
                Replicas = replicas,
                Limits = limits,
                Restart = (RestartPolicy)restart,
                AvailabilityTarget = target,
                HealthCheck = health,
                ReadOnlyRootFilesystem = readOnly,
            };
        }
        catch (ArgumentException e)
        {
            throw new WireFormatException($"Invalid app spec: {e.Message}", e);
        }
    }
}

/// <summary>A steward asks a host to start a copy of a replica. Type 68. Idempotent: a host that already runs a copy of the app ignores it.</summary>
/// <param name="Replica">The copy.</param>
/// <param name="Spec">The app's spec, encoded (the host may not have the desired state yet).</param>
public readonly record struct StartReplica(ReplicaId Replica, ReadOnlyMemory<byte> Spec) : IWireMessage<StartReplica>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(68);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteString(Replica.App);
        writer.WriteVarInt32(Replica.Slot);
        writer.WriteVarInt64(Replica.Serial);
        writer.WriteBytes(Spec.Span);
    }

    /// <inheritdoc />
    public static StartReplica Read(ref WireReader reader) =>
        new(new ReplicaId(reader.ReadString(), reader.ReadVarInt32(), reader.ReadVarInt64()), reader.ReadBytes().ToArray());

    /// <inheritdoc />
    public bool Equals(StartReplica other) => Replica == other.Replica && Spec.Span.SequenceEqual(other.Spec.Span);

    /// <inheritdoc />
    public override int GetHashCode() => Replica.GetHashCode();
}

/// <summary>A steward asks a host to stop a copy. Type 69. Idempotent.</summary>
/// <param name="Replica">The copy.</param>
public readonly record struct StopReplica(ReplicaId Replica) : IWireMessage<StopReplica>
{
    /// <inheritdoc />
    public static MessageType MessageType => new(69);

    /// <inheritdoc />
    public void Write(ref WireWriter writer)
    {
        writer.WriteString(Replica.App);
        writer.WriteVarInt32(Replica.Slot);
        writer.WriteVarInt64(Replica.Serial);
    }

    /// <inheritdoc />
    public static StopReplica Read(ref WireReader reader) => new(new ReplicaId(reader.ReadString(), reader.ReadVarInt32(), reader.ReadVarInt64()));
}
