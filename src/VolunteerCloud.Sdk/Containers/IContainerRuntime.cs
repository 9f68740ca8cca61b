namespace VolunteerCloud.Containers;

/// <summary>
/// The host's container engine as a node sees it: Docker Engine on a real host, a simulated engine in the
/// simulator. Calls return at once; what happens later (the container started, exited, failed) arrives as
/// <see cref="INode.OnContainerEvent"/> inputs. The runtime accounts for what it has admitted and never lets
/// the containers' limits add up to more than the volunteer's caps.
/// </summary>
public interface IContainerRuntime
{
    /// <summary>What the volunteer lets this host run in all (the owner's caps).</summary>
    ResourceAmount Capacity { get; }

    /// <summary>The limits of every container admitted and not yet exited.</summary>
    ResourceAmount Allocated { get; }

    /// <summary>What is left: <see cref="Capacity"/> minus <see cref="Allocated"/>.</summary>
    ResourceAmount Available => Capacity - Allocated;

    /// <summary>Containers admitted and not yet exited.</summary>
    int Count { get; }

    /// <summary>
    /// Admits a container and starts it: pull the image if this host does not have it, create, start. A
    /// <see cref="ContainerEventKind.Started"/> or <see cref="ContainerEventKind.Failed"/> input follows.
    /// </summary>
    /// <param name="spec">What to run.</param>
    /// <param name="container">The new container's id, when admitted.</param>
    /// <returns><see langword="false"/> when its limits do not fit in <see cref="Available"/>: nothing was started and no input follows.</returns>
    bool TryRun(ContainerSpec spec, out ContainerId container);

    /// <summary>
    /// Stops a container (SIGTERM, then SIGKILL after the runtime's grace period) and removes it. An
    /// <see cref="ContainerEventKind.Exited"/> input follows.
    /// </summary>
    /// <returns><see langword="false"/> when the container is unknown, has exited or is already stopping.</returns>
    bool Stop(ContainerId container);

    /// <summary>Where a container is in its life.</summary>
    ContainerStatus GetStatus(ContainerId container);
}

/// <summary>A runtime without containers: capacity zero, admits nothing. What a node sees where no container engine is attached.</summary>
public sealed class NoContainerRuntime : IContainerRuntime
{
    private NoContainerRuntime()
    {
    }

    /// <summary>The one instance.</summary>
    public static NoContainerRuntime Instance { get; } = new();

    /// <inheritdoc />
    public ResourceAmount Capacity => ResourceAmount.Zero;

    /// <inheritdoc />
    public ResourceAmount Allocated => ResourceAmount.Zero;

    /// <inheritdoc />
    public int Count => 0;

    /// <inheritdoc />
    public bool TryRun(ContainerSpec spec, out ContainerId container)
    {
        ArgumentNullException.ThrowIfNull(spec);
        container = default;
        return false;
    }

    /// <inheritdoc />
    public bool Stop(ContainerId container) => false;

    /// <inheritdoc />
    public ContainerStatus GetStatus(ContainerId container) => ContainerStatus.Unknown;
}
