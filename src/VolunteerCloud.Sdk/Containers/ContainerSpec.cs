using System.Collections.Frozen;

namespace VolunteerCloud.Containers;

/// <summary>
/// What to run: a plain Docker image with its command, environment, ports and limits. The runtime adds the
/// volunteer's own caps on top; it never runs a container without limits, because limits are what its
/// capacity accounting counts.
/// </summary>
public sealed record ContainerSpec
{
    /// <summary>Creates a spec.</summary>
    /// <param name="image">The image reference, e.g. <c>registry.local:5000/web:1.2</c>.</param>
    /// <param name="limits">The container's CPU and memory limits; both must be positive.</param>
    /// <exception cref="ArgumentException">The image is empty or a limit is not positive.</exception>
    public ContainerSpec(string image, ResourceAmount limits)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(image);
        if (!(limits.Cpus > 0) || !double.IsFinite(limits.Cpus) || limits.MemoryBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(limits), limits, "A container needs a positive CPU limit and a positive memory limit.");
        }

        Image = image;
        Limits = limits;
    }

    /// <summary>The image reference.</summary>
    public string Image { get; }

    /// <summary>CPU and memory limits (Docker's <c>NanoCPUs</c> and <c>Memory</c>).</summary>
    public ResourceAmount Limits { get; }

    /// <summary>The command and its arguments; empty means the image's default.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary>Environment variables: Twelve-Factor configuration.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>Container ports to publish.</summary>
    public IReadOnlyList<PortBinding> Ports { get; init; } = [];

    /// <summary>The app the container runs a copy of (empty when it is none of the cluster's apps).</summary>
    public string App { get; init; } = string.Empty;

    /// <summary>Which copy it is (<c>ControlPlane.ReplicaId</c>'s text, e.g. <c>web/2.4294967297</c>); the runtime names and labels the container with it.</summary>
    public string Replica { get; init; } = string.Empty;

    /// <summary>
    /// How the engine checks the container is healthy (Compose <c>healthcheck</c>), or null. With one, the container
    /// counts as started only once a check passes, and a container turning unhealthy is stopped and reported exited.
    /// </summary>
    public Apps.HealthCheckSpec? HealthCheck { get; init; }

    /// <summary>Whether the root file system is mounted read-only.</summary>
    public bool ReadOnlyRootFilesystem { get; init; }
}

/// <summary>A container port published on the host.</summary>
/// <param name="ContainerPort">The port inside the container, 1–65535.</param>
/// <param name="HostPort">The port on the host, or 0 to let the runtime choose.</param>
/// <param name="Protocol"><c>tcp</c> or <c>udp</c>.</param>
public readonly record struct PortBinding(int ContainerPort, int HostPort = 0, string Protocol = "tcp");
