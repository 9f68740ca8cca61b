using System.Globalization;

namespace VolunteerCloud.Containers;

/// <summary>
/// A container on this host, as the runtime that started it knows it. Ids are assigned by the runtime and
/// are unique for the life of the node (a restarted host starts with no containers).
/// </summary>
/// <param name="Value">The runtime's number for the container.</param>
public readonly record struct ContainerId(long Value)
{
    /// <summary>Formats the id as <c>c</c> followed by its number.</summary>
    public override string ToString() => "c" + Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What happened to a container.</summary>
public enum ContainerEventKind
{
    /// <summary>The image is present and the container is running.</summary>
    Started = 1,

    /// <summary>
    /// A running (or starting) container stopped: it exited by itself, crashed, or was stopped through
    /// <see cref="IContainerRuntime.Stop"/>. Its resources are free again.
    /// </summary>
    Exited = 2,

    /// <summary>The container never ran: the image could not be pulled or the container could not be created. Its resources are free again.</summary>
    Failed = 3,
}

/// <summary>An input for the node: something happened to one of its containers.</summary>
/// <param name="Container">The container.</param>
/// <param name="Kind">What happened.</param>
/// <param name="ExitCode">The exit code, for <see cref="ContainerEventKind.Exited"/>.</param>
/// <param name="Reason">A short reason for exits and failures (e.g. <c>stopped</c>, <c>crashed</c>, <c>image not found</c>).</param>
public readonly record struct ContainerEvent(ContainerId Container, ContainerEventKind Kind, int ExitCode = 0, string? Reason = null);

/// <summary>Where a container is in its life.</summary>
public enum ContainerStatus
{
    /// <summary>The runtime does not know the container, or it has exited.</summary>
    Unknown = 0,

    /// <summary>Pulling its image or being created.</summary>
    Starting = 1,

    /// <summary>Running.</summary>
    Running = 2,

    /// <summary>Asked to stop; its exit has not been reported yet.</summary>
    Stopping = 3,
}
