using VolunteerCloud.Containers;
using VolunteerCloud.Simulator.Churn;

namespace VolunteerCloud.Simulator.Containers;

/// <summary>How the simulated container engines behave. Every default is named and documented.</summary>
public sealed class ContainerSimulationOptions
{
    /// <summary>
    /// The registry: image reference → what pulling and running it costs. A container whose image is not listed
    /// fails with <c>image not found</c>, as <c>docker run</c> does for a reference the registry does not have.
    /// </summary>
    public IDictionary<string, SimulatedImage> Images { get; init; } = new Dictionary<string, SimulatedImage>(StringComparer.Ordinal);

    /// <summary>Each host's machine and the owner's caps; <see cref="SimulatedHost.Default"/> for every host when null.</summary>
    public Func<NodeId, SimulatedHost>? Hosts { get; init; }

    /// <summary>
    /// Time from "image present" to "container running", in seconds (values the distribution samples are read as
    /// seconds). Default log-normal with median 1 s and σ 0.5 (mean ≈ 1.13 s, 95th percentile ≈ 2.3 s): an
    /// assumption in the range Docker's create+start takes for a small image on a laptop, not a published fit.
    /// An image's own <see cref="SimulatedImage.StartSeconds"/> overrides it.
    /// </summary>
    public DurationDistribution StartSeconds { get; init; } = DurationDistribution.LogNormal(0, 0.5);

    /// <summary>Fixed cost of each pull on top of the transfer (registry round trips, manifest, layer extraction). Default 0.5 s.</summary>
    public TimeSpan PullOverhead { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Time from a stop request to the container's exit. Default 0.5 s (a process that handles SIGTERM; Docker's kill grace is 10 s).</summary>
    public TimeSpan StopTime { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Time to report a container that cannot be created (unknown image, no disk space). Default 0.2 s.</summary>
    public TimeSpan FailureTime { get; init; } = TimeSpan.FromSeconds(0.2);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Images, nameof(Images));
        ArgumentNullException.ThrowIfNull(StartSeconds, nameof(StartSeconds));
        foreach (var (name, image) in Images)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentException("An image reference in ContainerSimulationOptions.Images is empty.", nameof(Images));
            }

            ArgumentNullException.ThrowIfNull(image, $"Images[{name}]");
            image.Validate(name);
        }

        if (PullOverhead < TimeSpan.Zero || StopTime < TimeSpan.Zero || FailureTime < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(PullOverhead), "PullOverhead, StopTime and FailureTime must not be negative.");
        }
    }
}

/// <summary>An image in the simulated registry.</summary>
/// <param name="SizeBytes">Compressed size: what a pull transfers and what the image takes on the host's disk.</param>
public sealed record SimulatedImage(long SizeBytes)
{
    /// <summary>Start-time distribution (seconds) for this image; the options' default when null.</summary>
    public DurationDistribution? StartSeconds { get; init; }

    /// <summary>Mean time a running container lives before it crashes by itself (exponential; exit code 1). Never, by default.</summary>
    public double MeanSecondsToCrash { get; init; } = double.PositiveInfinity;

    /// <summary>For a batch job: how long it runs before it exits with code 0. A service (runs until stopped) when null.</summary>
    public TimeSpan? RunTime { get; init; }

    internal void Validate(string name)
    {
        if (SizeBytes < 0)
        {
            throw new ArgumentException($"Image '{name}' has a negative size.");
        }

        if (!(MeanSecondsToCrash > 0))
        {
            throw new ArgumentException($"Image '{name}': the mean time to crash must be positive (infinity for never).");
        }

        if (RunTime is { } run && run < TimeSpan.Zero)
        {
            throw new ArgumentException($"Image '{name}': the run time must not be negative.");
        }
    }
}

/// <summary>A volunteer's machine as the container engine sees it.</summary>
/// <param name="Capacity">What the owner lets containers use in all (CPU cores and memory caps).</param>
/// <param name="DiskBytes">Disk the owner lets images use; least recently used unused images are removed to make room.</param>
/// <param name="DownloadBitsPerSecond">Download bandwidth for image pulls (one pull at a time per host, as the engine serialises layer downloads per image).</param>
public readonly record struct SimulatedHost(ResourceAmount Capacity, long DiskBytes, double DownloadBitsPerSecond)
{
    /// <summary>4 cores, 8 GiB, 50 GB of disk, 100 Mbit/s: a mid-range volunteer desktop giving all of it.</summary>
    public static SimulatedHost Default { get; } = new(new ResourceAmount(4, 8L << 30), 50_000_000_000, 100e6);
}
