using System.Collections.Immutable;
using System.Text.RegularExpressions;
using VolunteerCloud.Containers;

namespace VolunteerCloud.Apps;

/// <summary>What to do when a replica's container exits (Compose's <c>restart</c>).</summary>
public enum RestartPolicy
{
    /// <summary>Keep the app running: a replica that exits for any reason is replaced (Compose <c>always</c>; the default, since apps are services).</summary>
    Always = 0,

    /// <summary>Replace a replica only when it exits with a non-zero code (Compose <c>on-failure</c>).</summary>
    OnFailure = 1,

    /// <summary>Never replace an exited replica (Compose <c>no</c>); replicas lost with their host are still replaced.</summary>
    No = 2,

    /// <summary>As <see cref="Always"/> unless the app was scaled to zero (Compose <c>unless-stopped</c>).</summary>
    UnlessStopped = 3,
}

/// <summary>A health check (Compose <c>healthcheck</c>); Compose's defaults.</summary>
/// <param name="Test">The command, in Compose's form: <c>["CMD", "curl", "-f", "http://localhost"]</c> or <c>["CMD-SHELL", "…"]</c>.</param>
public sealed record HealthCheckSpec(ImmutableArray<string> Test)
{
    /// <summary>Time between checks. Default 30 s.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time a check may take. Default 30 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Consecutive failures before the replica counts as unhealthy. Default 3.</summary>
    public int Retries { get; init; } = 3;

    /// <summary>Grace period after start during which failures do not count. Default 0.</summary>
    public TimeSpan StartPeriod { get; init; } = TimeSpan.Zero;

    /// <inheritdoc />
    public bool Equals(HealthCheckSpec? other) =>
        other is not null && Test.SequenceEqual(other.Test) && Interval == other.Interval && Timeout == other.Timeout &&
        Retries == other.Retries && StartPeriod == other.StartPeriod;

    /// <inheritdoc />
    public override int GetHashCode() => Test.Length ^ Retries;
}

/// <summary>
/// A deployed app: a plain Docker image, how many replicas, their limits, how to check them. Built from a Compose
/// service (<c>VolunteerCloud.Compose.ComposeFile</c>, in its own package) or directly. Immutable; collections are immutable and ordered, so a spec
/// encodes the same bytes on every node.
/// </summary>
public sealed record AppSpec
{
    /// <summary>Limits of a replica whose spec names none: 1 CPU and 512 MiB. The runtime never runs a container without limits.</summary>
    public static readonly ResourceAmount DefaultLimits = new(1, 512L << 20);

    private static readonly Regex NamePattern = new("^[a-z0-9][a-z0-9_.-]{0,62}$", RegexOptions.CultureInvariant);

    /// <summary>Creates a spec.</summary>
    /// <param name="name">Lower-case letters, digits, '-', '_' and '.', starting with a letter or digit, at most 63 characters.</param>
    /// <param name="image">The image reference.</param>
    /// <exception cref="ArgumentException">The name or the image is not valid.</exception>
    public AppSpec(string name, string image)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!NamePattern.IsMatch(name))
        {
            throw new ArgumentException($"App name '{name}' is not valid: use 1 to 63 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit.", nameof(name));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(image);
        if (image.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"Image reference '{image}' contains white space.", nameof(image));
        }

        Name = name;
        Image = image;
    }

    /// <summary>The app's name, unique in the cluster.</summary>
    public string Name { get; }

    /// <summary>The image reference.</summary>
    public string Image { get; }

    /// <summary>The command (overrides the image's); empty for the image's own.</summary>
    public ImmutableArray<string> Command { get; init; } = [];

    /// <summary>Environment variables, by name.</summary>
    public ImmutableSortedDictionary<string, string> Environment { get; init; } = ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>Ports to publish.</summary>
    public ImmutableArray<PortBinding> Ports { get; init; } = [];

    /// <summary>Desired number of replicas (0 or more). Default 1.</summary>
    public int Replicas
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Replicas must be 0 or more.");
    } = 1;

    /// <summary>Limits of each replica. Default <see cref="DefaultLimits"/>.</summary>
    public ResourceAmount Limits
    {
        get;
        init => field = value.Cpus > 0 && double.IsFinite(value.Cpus) && value.MemoryBytes > 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "Limits need a positive CPU and memory amount.");
    } = DefaultLimits;

    /// <summary>The health check, or null for none.</summary>
    public HealthCheckSpec? HealthCheck { get; init; }

    /// <summary>What to do when a replica exits. Default <see cref="RestartPolicy.Always"/>.</summary>
    public RestartPolicy Restart { get; init; } = RestartPolicy.Always;

    /// <summary>Whether the container's root file system is mounted read-only (Compose <c>read_only</c>). Default false.</summary>
    public bool ReadOnlyRootFilesystem { get; init; }

    /// <summary>
    /// Availability the app asks for (the probability that at least one replica runs), in (0, 1), or null. A
    /// replication churn handler derives the replica count from it (<c>x-volunteercloud.availability</c> in Compose).
    /// </summary>
    public double? AvailabilityTarget
    {
        get;
        init => field = value is null || (value > 0 && value < 1)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "An availability target lies strictly between 0 and 1.");
    }

    /// <summary>The container of one replica, labelled with the app and replica id.</summary>
    public ContainerSpec ToContainerSpec(string replicaId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(replicaId);
        return new ContainerSpec(Image, Limits)
        {
            Command = Command,
            Environment = Environment,
            Ports = Ports,
            HealthCheck = HealthCheck,
            ReadOnlyRootFilesystem = ReadOnlyRootFilesystem,
            App = Name,
            Replica = replicaId,
        };
    }

    /// <inheritdoc />
    public bool Equals(AppSpec? other) =>
        other is not null && Name == other.Name && Image == other.Image && Command.SequenceEqual(other.Command) &&
        Environment.SequenceEqual(other.Environment) && Ports.SequenceEqual(other.Ports) && Replicas == other.Replicas &&
        Limits == other.Limits && Equals(HealthCheck, other.HealthCheck) && Restart == other.Restart &&
        AvailabilityTarget == other.AvailabilityTarget && ReadOnlyRootFilesystem == other.ReadOnlyRootFilesystem;

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Name) ^ StringComparer.Ordinal.GetHashCode(Image) ^ Replicas;
}
