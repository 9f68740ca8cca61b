using System.Collections.Immutable;
using VolunteerCloud.Apps;
using VolunteerCloud.Containers;
using VolunteerCloud.Wire;

namespace VolunteerCloud.ControlPlane;

/// <summary>The wire encoding of an <see cref="AppSpec"/> (key <c>app/{name}</c> of the replicated state, and start commands).</summary>
internal static class AppSpecCodec
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
