using System.Globalization;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using VolunteerCloud.Containers;
using ContainerSpec = VolunteerCloud.Containers.ContainerSpec;
using ContainerStatus = VolunteerCloud.Containers.ContainerStatus;

namespace VolunteerCloud.Host.Docker;

/// <summary>
/// The Sdk's container runtime on a real Docker Engine. Calls from the node return at once; the engine work
/// (pull, create, start, stop, remove) runs in the background, every call cancellable, and its outcome comes back
/// to the node as a <see cref="ContainerEvent"/> through <c>post</c>. Containers exiting on their own are seen on
/// the engine's event stream. Admission is against the volunteer's caps, so the limits of the containers never add
/// up to more than the volunteer allowed. Every container carries the labels <c>volunteercloud.app</c>,
/// <c>volunteercloud.replica</c> and <c>volunteercloud.node</c>.
/// </summary>
internal sealed partial class DockerContainerRuntime : IContainerRuntime, IAsyncDisposable
{
    /// <summary>The label naming the node that started a container.</summary>
    public const string NodeLabel = "volunteercloud.node";

    /// <summary>The label naming the app a container runs a copy of (<see cref="ContainerSpec.App"/>).</summary>
    public const string AppLabel = "volunteercloud.app";

    /// <summary>The label naming the copy (<see cref="ContainerSpec.Replica"/>).</summary>
    public const string ReplicaLabel = "volunteercloud.replica";

    private readonly Lock _lock = new();
    private readonly Dictionary<ContainerId, Entry> _entries = [];
    private readonly Dictionary<string, ContainerId> _byDockerId = new(StringComparer.Ordinal);
    private readonly DockerClient _client;
    private readonly DockerRuntimeOptions _options;
    private readonly Action<ContainerEvent> _post;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ImageCache _images;
    private ResourceAmount _allocated;
    private long _next;
    private Task _events = Task.CompletedTask;

    public DockerContainerRuntime(DockerClient client, DockerRuntimeOptions options, Action<ContainerEvent> post, ILogger logger)
    {
        _client = client;
        _options = options;
        _post = post;
        _logger = logger;
        _images = new ImageCache(client, options.DiskBytes, options.StateFile, logger);
    }

    public ResourceAmount Capacity => _options.Capacity;

    public ResourceAmount Allocated
    {
        get
        {
            lock (_lock)
            {
                return _allocated;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The containers this runtime started and has not seen exit, with their engine ids (null while creating).</summary>
    public IReadOnlyList<(ContainerId Id, string? DockerId, string Replica, ContainerStatus Status)> Snapshot()
    {
        lock (_lock)
        {
            return [.. _entries.Select(e => (e.Key, e.Value.DockerId, e.Value.Spec.Replica, e.Value.Status))];
        }
    }

    /// <summary>
    /// Checks the engine answers, removes the containers a previous run of this node left behind (its replicas
    /// were written off by the cluster when it went away; they are started afresh where the stewards decide), and
    /// starts following the engine's event stream.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _images.Load();
        await _client.System.PingAsync(cancellationToken).ConfigureAwait(false);
        var leftovers = await _client.Containers.ListContainersAsync(
            new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{NodeLabel}={_options.Node.Value}"] = true } },
            },
            cancellationToken).ConfigureAwait(false);
        foreach (var container in leftovers)
        {
            LogLeftover(_logger, container.ID, container.Labels is { } l && l.TryGetValue(ReplicaLabel, out var r) ? r : "?");
            await _client.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true }, cancellationToken).ConfigureAwait(false);
        }

        _events = Task.Run(() => FollowEventsAsync(_stopping.Token), CancellationToken.None);
    }

    public bool TryRun(ContainerSpec spec, out ContainerId container)
    {
        ArgumentNullException.ThrowIfNull(spec);
        lock (_lock)
        {
            if (!(_allocated + spec.Limits).FitsWithin(_options.Capacity) || _stopping.IsCancellationRequested)
            {
                container = default;
                return false;
            }

            container = new ContainerId(++_next);
            _allocated += spec.Limits;
            _entries[container] = new Entry(spec);
        }

        var id = container;
        LogRunning(_logger, Named(spec.Replica), spec.Image);
        _ = Task.Run(() => RunAsync(id, spec, _stopping.Token), CancellationToken.None);
        return true;
    }

    public bool Stop(ContainerId container)
    {
        Entry? entry;
        lock (_lock)
        {
            if (!_entries.TryGetValue(container, out entry) || entry.Status is ContainerStatus.Stopping)
            {
                return false;
            }

            entry.Status = ContainerStatus.Stopping;
            if (entry.DockerId is null)
            {
                return true; // still being created: RunAsync sees Stopping and removes it
            }
        }

        _ = Task.Run(() => StopAsync(container, entry.DockerId, _stopping.Token), CancellationToken.None);
        return true;
    }

    public ContainerStatus GetStatus(ContainerId container)
    {
        lock (_lock)
        {
            return _entries.TryGetValue(container, out var entry) ? entry.Status : ContainerStatus.Unknown;
        }
    }

    /// <summary>A replica's container logs (stdout and stderr, the last <paramref name="tail"/> lines).</summary>
    public async Task<string?> GetLogsAsync(string replica, int tail, CancellationToken cancellationToken)
    {
        string? dockerId;
        lock (_lock)
        {
            dockerId = _entries.Values.FirstOrDefault(e => e.Spec.Replica == replica)?.DockerId;
        }

        if (dockerId is null)
        {
            return null;
        }

        using var stream = await _client.Containers.GetContainerLogsAsync(
            dockerId,
            new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Tail = tail.ToString(CultureInfo.InvariantCulture) },
            cancellationToken).ConfigureAwait(false);
        var (stdout, stderr) = await stream.ReadOutputToEndAsync(cancellationToken).ConfigureAwait(false);
        return stdout + stderr;
    }

    /// <summary>Stops and removes every container this runtime runs (a graceful leave), and waits for them.</summary>
    public async Task StopAllAsync(CancellationToken cancellationToken)
    {
        List<(ContainerId, string?)> running;
        lock (_lock)
        {
            running = [.. _entries.Where(e => e.Value.Status != ContainerStatus.Stopping).Select(e => (e.Key, e.Value.DockerId))];
            foreach (var (id, _) in running)
            {
                _entries[id].Status = ContainerStatus.Stopping;
            }
        }

        await Task.WhenAll(running.Where(r => r.Item2 is not null).Select(r => StopAsync(r.Item1, r.Item2!, cancellationToken))).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _events.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
        _images.Dispose();
    }

    private async Task RunAsync(ContainerId id, ContainerSpec spec, CancellationToken cancellationToken)
    {
        string? dockerId = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await _images.EnsureAsync(spec.Image, ImagesInUse, cancellationToken).ConfigureAwait(false);
            var pulled = clock.Elapsed;
            CreateContainerResponse created;
            try
            {
                created = await _client.Containers.CreateContainerAsync(CreateParameters(spec, id), cancellationToken).ConfigureAwait(false);
            }
            catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                // The image went away since this runtime last saw it (removed by hand): pull it again, once.
                _images.Forget(spec.Image);
                await _images.EnsureAsync(spec.Image, ImagesInUse, cancellationToken).ConfigureAwait(false);
                created = await _client.Containers.CreateContainerAsync(CreateParameters(spec, id), cancellationToken).ConfigureAwait(false);
            }

            var made = clock.Elapsed;
            dockerId = created.ID;
            bool stopRequested;
            lock (_lock)
            {
                var entry = _entries[id];
                entry.DockerId = dockerId;
                _byDockerId[dockerId] = id;
                stopRequested = entry.Status == ContainerStatus.Stopping;
            }

            if (stopRequested)
            {
                await StopAsync(id, dockerId, cancellationToken).ConfigureAwait(false);
                return;
            }

            await _client.Containers.StartContainerAsync(dockerId, new ContainerStartParameters(), cancellationToken).ConfigureAwait(false);
            if (spec.HealthCheck is { } health && !await WaitHealthyAsync(id, dockerId, health, cancellationToken).ConfigureAwait(false))
            {
                return; // reported (failed, exited or stopped) by WaitHealthyAsync or the event stream
            }

            lock (_lock)
            {
                var entry = _entries[id];
                if (entry.Status == ContainerStatus.Stopping)
                {
                    stopRequested = true;
                }
                else
                {
                    entry.Status = ContainerStatus.Running;
                }
            }

            if (stopRequested)
            {
                await StopAsync(id, dockerId, cancellationToken).ConfigureAwait(false);
                return;
            }

            _post(new ContainerEvent(id, ContainerEventKind.Started));
            LogStarted(_logger, Named(spec.Replica), pulled.TotalMilliseconds, (made - pulled).TotalMilliseconds, (clock.Elapsed - made).TotalMilliseconds);
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException or TimeoutException or OperationCanceledException)
        {
            LogStartFailed(_logger, spec.Image, e.Message);
            if (dockerId is not null)
            {
                await TryRemoveAsync(dockerId).ConfigureAwait(false);
            }

            Forget(id, dockerId);
            _post(new ContainerEvent(id, ContainerEventKind.Failed, -1, e.Message));
        }
    }

    /// <summary>
    /// Waits until the engine's health check passes. False when the container turned unhealthy or exited first (it is
    /// removed and reported failed), or a stop was asked for meanwhile (the stop reports it).
    /// </summary>
    private async Task<bool> WaitHealthyAsync(ContainerId id, string dockerId, Apps.HealthCheckSpec health, CancellationToken cancellationToken)
    {
        var limit = health.StartPeriod + ((health.Interval + health.Timeout) * (health.Retries + 1)) + TimeSpan.FromSeconds(5);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var status = "starting";
        while (clock.Elapsed < limit)
        {
            lock (_lock)
            {
                if (!_entries.TryGetValue(id, out var entry) || entry.Status == ContainerStatus.Stopping)
                {
                    return false;
                }
            }

            var inspect = await _client.Containers.InspectContainerAsync(dockerId, cancellationToken).ConfigureAwait(false);
            status = inspect.State?.Health?.Status ?? "none";
            if (status == "healthy")
            {
                return true;
            }

            if (status == "unhealthy" || inspect.State?.Running != true)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
        }

        lock (_lock)
        {
            if (!_entries.TryGetValue(id, out var entry) || entry.Status == ContainerStatus.Stopping)
            {
                return false;
            }

            entry.Status = ContainerStatus.Stopping;
        }

        LogStartFailed(_logger, dockerId, $"health check {status} after {clock.Elapsed.TotalSeconds:F1} s");
        await TryRemoveAsync(dockerId).ConfigureAwait(false);
        if (Forget(id, dockerId))
        {
            _post(new ContainerEvent(id, ContainerEventKind.Failed, -1, $"health check {status}"));
        }

        return false;
    }

    /// <summary>The images our containers run (not those stopping): the image cache never removes them.</summary>
    private IReadOnlySet<string> ImagesInUse()
    {
        lock (_lock)
        {
            return _entries.Values.Where(e => e.Status != ContainerStatus.Stopping).Select(e => e.Spec.Image).ToHashSet(StringComparer.Ordinal);
        }
    }

    private async Task StopAsync(ContainerId id, string dockerId, CancellationToken cancellationToken, string reason = "stopped")
    {
        var exitCode = 0;
        try
        {
            await _client.Containers.StopContainerAsync(dockerId, new ContainerStopParameters { WaitBeforeKillSeconds = (uint)_options.StopGrace.TotalSeconds }, cancellationToken).ConfigureAwait(false);
            var inspect = await _client.Containers.InspectContainerAsync(dockerId, cancellationToken).ConfigureAwait(false);
            exitCode = (int)(inspect.State?.ExitCode ?? -1);
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException or OperationCanceledException)
        {
            LogStopFailed(_logger, dockerId, e.Message);
        }

        await TryRemoveAsync(dockerId).ConfigureAwait(false);
        if (Forget(id, dockerId))
        {
            _post(new ContainerEvent(id, ContainerEventKind.Exited, exitCode, reason));
        }
    }

    private async Task TryRemoveAsync(string dockerId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _client.Containers.RemoveContainerAsync(dockerId, new ContainerRemoveParameters { Force = true }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException or OperationCanceledException)
        {
            LogStopFailed(_logger, dockerId, e.Message);
        }
    }

    /// <summary>Drops a container from the books and releases its share of the caps; false when it was gone already.</summary>
    private bool Forget(ContainerId id, string? dockerId)
    {
        lock (_lock)
        {
            if (dockerId is not null)
            {
                _byDockerId.Remove(dockerId);
            }

            if (!_entries.Remove(id, out var entry))
            {
                return false;
            }

            _allocated -= entry.Spec.Limits;
            return true;
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Removing container {Container} (replica {Replica}) left by a previous run of this host")]
    private static partial void LogLeftover(ILogger logger, string container, string replica);

    [LoggerMessage(2, LogLevel.Warning, "Could not start a container of {Image}: {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string image, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Could not stop or remove container {Container}: {Reason}")]
    private static partial void LogStopFailed(ILogger logger, string container, string reason);

    [LoggerMessage(6, LogLevel.Information, "Starting {Replica} ({Image})")]
    private static partial void LogRunning(ILogger logger, string replica, string image);

    [LoggerMessage(5, LogLevel.Information, "Started {Replica}: image {ImageMs:F0} ms, create {CreateMs:F0} ms, start {StartMs:F0} ms")]
    private static partial void LogStarted(ILogger logger, string replica, double imageMs, double createMs, double startMs);

    [LoggerMessage(4, LogLevel.Warning, "Lost the engine's event stream ({Reason}); following it again")]
    private static partial void LogEventsLost(ILogger logger, string reason);

    private static string Named(string replica) => replica.Length > 0 ? replica : "?";

    private sealed class Entry(ContainerSpec spec)
    {
        public ContainerSpec Spec { get; } = spec;

        public string? DockerId { get; set; }

        public ContainerStatus Status { get; set; } = ContainerStatus.Starting;
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and reorder events).</summary>
    private sealed class SyncProgress(Action<Message> report) : IProgress<Message>
    {
        public void Report(Message value) => report(value);
    }
}

/// <summary>What the Docker runtime needs to know of its node and its volunteer.</summary>
internal sealed record DockerRuntimeOptions(NodeId Node, ResourceAmount Capacity, long PidsLimit, TimeSpan StopGrace, string? PublishAddress, long DiskBytes = long.MaxValue, string? StateFile = null)
{
    /// <summary>
    /// The only capabilities a container keeps (everything else is dropped): enough for a Twelve-Factor web process
    /// that starts as root and drops to a user, and nothing that reaches the host (no NET_RAW, no SYS_*, no MKNOD).
    /// </summary>
    public static IReadOnlyList<string> Capabilities { get; } = ["CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE", "KILL", "DAC_OVERRIDE", "FOWNER"];
}
