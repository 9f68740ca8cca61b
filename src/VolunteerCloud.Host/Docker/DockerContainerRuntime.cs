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

    private readonly Lock _lock = new();
    private readonly Dictionary<ContainerId, Entry> _entries = [];
    private readonly Dictionary<string, ContainerId> _byDockerId = new(StringComparer.Ordinal);
    private readonly DockerClient _client;
    private readonly DockerRuntimeOptions _options;
    private readonly Action<ContainerEvent> _post;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _pulls = new(1, 1);
    private readonly Dictionary<string, long> _pulled = new(StringComparer.Ordinal); // images this daemon pulled → last use
    private readonly HashSet<string> _present = new(StringComparer.Ordinal); // images seen on the engine
    private long _useClock;
    private ResourceAmount _allocated;
    private long _next;
    private Task _events = Task.CompletedTask;

    public DockerContainerRuntime(DockerClient client, DockerRuntimeOptions options, Action<ContainerEvent> post, ILogger logger)
    {
        _client = client;
        _options = options;
        _post = post;
        _logger = logger;
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
            return [.. _entries.Select(e => (e.Key, e.Value.DockerId, e.Value.Spec.Labels.GetValueOrDefault("volunteercloud.replica", ""), e.Value.Status))];
        }
    }

    /// <summary>
    /// Checks the engine answers, removes the containers a previous run of this node left behind (its replicas
    /// were written off by the cluster when it went away; they are started afresh where the stewards decide), and
    /// starts following the engine's event stream.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        LoadPulled();
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
            LogLeftover(_logger, container.ID, container.Labels is { } l && l.TryGetValue("volunteercloud.replica", out var r) ? r : "?");
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
        LogRunning(_logger, spec.Labels.GetValueOrDefault("volunteercloud.replica", "?"), spec.Image);
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
            dockerId = _entries.Values.FirstOrDefault(e => e.Spec.Labels.GetValueOrDefault("volunteercloud.replica") == replica)?.DockerId;
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
        _pulls.Dispose();
    }

    private async Task RunAsync(ContainerId id, ContainerSpec spec, CancellationToken cancellationToken)
    {
        string? dockerId = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await EnsureImageAsync(spec.Image, cancellationToken).ConfigureAwait(false);
            var pulled = clock.Elapsed;
            CreateContainerResponse created;
            try
            {
                created = await _client.Containers.CreateContainerAsync(CreateParameters(spec, id), cancellationToken).ConfigureAwait(false);
            }
            catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                // The image went away since this runtime last saw it (removed by hand): pull it again, once.
                lock (_lock)
                {
                    _present.Remove(spec.Image);
                }

                await EnsureImageAsync(spec.Image, cancellationToken).ConfigureAwait(false);
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
            LogStarted(_logger, spec.Labels.GetValueOrDefault("volunteercloud.replica", "?"), pulled.TotalMilliseconds, (made - pulled).TotalMilliseconds, (clock.Elapsed - made).TotalMilliseconds);
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

    private async Task EnsureImageAsync(string image, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_present.Contains(image))
            {
                Touch(image); // seen on this engine already: no round trip (a create that finds it gone pulls again)
                return;
            }
        }

        await _pulls.WaitAsync(cancellationToken).ConfigureAwait(false); // pulls one at a time, as the simulated engine
        try
        {
            try
            {
                await _client.Images.InspectImageAsync(image, cancellationToken).ConfigureAwait(false);
                Touch(image);
                lock (_lock)
                {
                    _present.Add(image);
                }

                return;
            }
            catch (DockerImageNotFoundException)
            {
            }

            var (name, tag) = SplitImage(image);
            await _client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = name, Tag = tag }, null, new Progress<JSONMessage>(), cancellationToken).ConfigureAwait(false);
            await _client.Images.InspectImageAsync(image, cancellationToken).ConfigureAwait(false); // a failed pull reports itself only in the progress stream
            Touch(image, pulled: true);
            await KeepWithinDiskShareAsync(image, cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                _present.Add(image);
            }
        }
        finally
        {
            _pulls.Release();
        }
    }

    /// <summary>Records a use of an image: one this daemon pulled is tracked from then on; others are not ours.</summary>
    private void Touch(string image, bool pulled = false)
    {
        lock (_lock)
        {
            if (pulled || _pulled.ContainsKey(image))
            {
                _pulled[image] = ++_useClock;
                if (pulled)
                {
                    SavePulled();
                }
            }
        }
    }

    /// <summary>
    /// The images this daemon pulled, kept in its state file so a restart still knows which it may remove. Written
    /// whole or not at all; a write that fails is logged and the start goes on (a restart then forgets an image it
    /// pulled, and leaves it on disk rather than remove one it may not own).
    /// </summary>
    private void SavePulled()
    {
        if (_options.StateFile is { } file)
        {
            try
            {
                Runtime.AtomicFile.Write(file, Encoding.UTF8.GetBytes(string.Concat(_pulled.OrderBy(p => p.Value).Select(p => p.Key + "\n"))));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogPulledNotSaved(_logger, file, e);
            }
        }
    }

    private void LoadPulled()
    {
        if (_options.StateFile is { } file && File.Exists(file))
        {
            foreach (var image in File.ReadAllLines(file).Where(l => l.Length > 0))
            {
                _pulled[image] = ++_useClock;
            }
        }
    }

    /// <summary>
    /// Keeps the images this daemon pulled within the volunteer's disk share: removes the least recently used ones
    /// no container of ours runs, oldest first; if the new image alone does not fit, it is removed and the start fails.
    /// Images the daemon did not pull (the volunteer's own) are never touched.
    /// </summary>
    private async Task KeepWithinDiskShareAsync(string pulledNow, CancellationToken cancellationToken)
    {
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var listed in await _client.Images.ListImagesAsync(new ImagesListParameters(), cancellationToken).ConfigureAwait(false))
        {
            foreach (var repoTag in listed.RepoTags ?? [])
            {
                sizes[repoTag] = listed.Size;
            }
        }

        List<(string Image, long Used)> candidates;
        long total;
        lock (_lock)
        {
            foreach (var gone in _pulled.Keys.Where(i => !sizes.ContainsKey(Canonical(i))).ToList())
            {
                _pulled.Remove(gone); // removed by someone else
            }

            SavePulled();

            total = _pulled.Keys.Sum(i => sizes.GetValueOrDefault(Canonical(i)));
            var inUse = _entries.Values.Where(e => e.Status != ContainerStatus.Stopping).Select(e => e.Spec.Image).ToHashSet(StringComparer.Ordinal);
            candidates = [.. _pulled.Where(p => p.Key != pulledNow && !inUse.Contains(p.Key)).OrderBy(p => p.Value).Select(p => (p.Key, p.Value))];
        }

        foreach (var (image, _) in candidates)
        {
            if (total <= _options.DiskBytes)
            {
                break;
            }

            try
            {
                await _client.Images.DeleteImageAsync(image, new ImageDeleteParameters(), cancellationToken).ConfigureAwait(false);
                total -= sizes.GetValueOrDefault(Canonical(image));
                lock (_lock)
                {
                    _pulled.Remove(image);
                    _present.Remove(image);
                    SavePulled();
                }

                LogEvicted(_logger, image);
            }
            catch (DockerApiException e)
            {
                LogStopFailed(_logger, image, e.Message); // in use by a container that is not ours: keep it
            }
        }

        if (total > _options.DiskBytes)
        {
            await _client.Images.DeleteImageAsync(pulledNow, new ImageDeleteParameters(), cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                _pulled.Remove(pulledNow);
                SavePulled();
            }

            throw new IOException($"the images would take {total >> 20} MiB, more than the volunteer's disk share of {_options.DiskBytes >> 20} MiB");
        }
    }

    /// <summary>How the engine lists an image: with a tag (":latest" when none is given).</summary>
    private static string Canonical(string image)
    {
        var (name, tag) = SplitImage(image);
        return image.Contains('@', StringComparison.Ordinal) ? image : $"{name}:{tag}";
    }

    /// <summary>Splits an image reference into repository and tag (a port in the registry's host is not a tag).</summary>
    internal static (string Name, string Tag) SplitImage(string image)
    {
        var at = image.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            return (image[..at], image[(at + 1)..]);
        }

        var colon = image.LastIndexOf(':');
        return colon > image.LastIndexOf('/') ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }

    private CreateContainerParameters CreateParameters(ContainerSpec spec, ContainerId id)
    {
        var labels = new Dictionary<string, string>(spec.Labels, StringComparer.Ordinal) { [NodeLabel] = _options.Node.Value.ToString(CultureInfo.InvariantCulture) };
        var exposed = new Dictionary<string, EmptyStruct>(StringComparer.Ordinal);
        var bindings = new Dictionary<string, IList<global::Docker.DotNet.Models.PortBinding>>(StringComparer.Ordinal);
        foreach (var port in spec.Ports)
        {
            var key = $"{port.ContainerPort.ToString(CultureInfo.InvariantCulture)}/{port.Protocol}";
            exposed[key] = default;
            bindings[key] = [new global::Docker.DotNet.Models.PortBinding { HostIP = _options.PublishAddress ?? string.Empty, HostPort = port.HostPort == 0 ? string.Empty : port.HostPort.ToString(CultureInfo.InvariantCulture) }];
        }

        return new CreateContainerParameters
        {
            Image = spec.Image,
            Name = ContainerName(spec, id),
            Cmd = spec.Command.Count > 0 ? [.. spec.Command] : null!,
            Env = [.. spec.Environment.Select(e => e.Key + "=" + e.Value)],
            Labels = labels,
            ExposedPorts = exposed,
            Healthcheck = spec.HealthCheck is { } health ? new HealthcheckConfig
            {
                Test = [.. health.Test],
                Interval = health.Interval,
                Timeout = health.Timeout,
                Retries = health.Retries,
                StartPeriod = health.StartPeriod,
            } : null,
            HostConfig = new HostConfig
            {
                Memory = spec.Limits.MemoryBytes,
                MemorySwap = spec.Limits.MemoryBytes, // no swap beyond the limit
                NanoCPUs = (long)Math.Round(spec.Limits.Cpus * 1e9),
                PidsLimit = _options.PidsLimit,
                PortBindings = bindings,
                Privileged = false,
                ReadonlyRootfs = spec.ReadOnlyRootFilesystem,
                CapDrop = ["ALL"],
                CapAdd = [.. DockerRuntimeOptions.Capabilities],
                SecurityOpt = ["no-new-privileges"],
                NetworkMode = "bridge",
                RestartPolicy = new RestartPolicy { Name = RestartPolicyKind.No }, // the stewards restart replicas, not the engine
            },
        };
    }

    private string ContainerName(ContainerSpec spec, ContainerId id)
    {
        var replica = spec.Labels.GetValueOrDefault("volunteercloud.replica", "replica");
        var name = new StringBuilder("vc-").Append(_options.Node.Value.ToString(CultureInfo.InvariantCulture)).Append('-');
        foreach (var c in replica)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '_');
        }

        return name.Append('-').Append(id.Value.ToString(CultureInfo.InvariantCulture)).ToString(); // the runtime's id: unique, and no second counter
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

    private async Task FollowEventsAsync(CancellationToken cancellationToken)
    {
        var parameters = new ContainerEventsParameters
        {
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["type"] = new Dictionary<string, bool> { ["container"] = true },
                ["event"] = new Dictionary<string, bool> { ["die"] = true, ["health_status"] = true },
                ["label"] = new Dictionary<string, bool> { [$"{NodeLabel}={_options.Node.Value}"] = true },
            },
        };

        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await _client.System.MonitorEventsAsync(parameters, new SyncProgress(OnEngineEvent), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException)
            {
                LogEventsLost(_logger, e.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void OnEngineEvent(Message message)
    {
        if (message.Actor?.ID is not { } dockerId)
        {
            return;
        }

        if (message.Action is "health_status: unhealthy")
        {
            ContainerId sick;
            lock (_lock)
            {
                if (!_byDockerId.TryGetValue(dockerId, out sick) || _entries[sick].Status != ContainerStatus.Running)
                {
                    return; // not ours, or still starting (WaitHealthyAsync decides)
                }

                _entries[sick].Status = ContainerStatus.Stopping;
            }

            // An unhealthy replica is stopped and reported exited: its steward starts a healthy one.
            _ = Task.Run(() => StopAsync(sick, dockerId, _stopping.Token, "unhealthy"));
            return;
        }

        if (message.Action != "die")
        {
            return;
        }

        ContainerId id;
        lock (_lock)
        {
            if (!_byDockerId.TryGetValue(dockerId, out id) || _entries[id].Status == ContainerStatus.Stopping)
            {
                return; // not ours, or being stopped by us (StopAsync reports it)
            }

            _entries[id].Status = ContainerStatus.Stopping;
        }

        var exitCode = message.Actor.Attributes is { } attributes && attributes.TryGetValue("exitCode", out var code) &&
                       int.TryParse(code, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : -1;
        _ = Task.Run(async () =>
        {
            await TryRemoveAsync(dockerId).ConfigureAwait(false);
            if (Forget(id, dockerId))
            {
                _post(new ContainerEvent(id, ContainerEventKind.Exited, exitCode, "exited"));
            }
        });
    }

    [LoggerMessage(1, LogLevel.Information, "Removing container {Container} (replica {Replica}) left by a previous run of this host")]
    private static partial void LogLeftover(ILogger logger, string container, string replica);

    [LoggerMessage(2, LogLevel.Warning, "Could not start a container of {Image}: {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string image, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Could not stop or remove container {Container}: {Reason}")]
    private static partial void LogStopFailed(ILogger logger, string container, string reason);

    [LoggerMessage(7, LogLevel.Information, "Removed image {Image}, unused, to stay within the volunteer's disk share")]
    private static partial void LogEvicted(ILogger logger, string image);

    [LoggerMessage(6, LogLevel.Information, "Starting {Replica} ({Image})")]
    private static partial void LogRunning(ILogger logger, string replica, string image);

    [LoggerMessage(5, LogLevel.Information, "Started {Replica}: image {ImageMs:F0} ms, create {CreateMs:F0} ms, start {StartMs:F0} ms")]
    private static partial void LogStarted(ILogger logger, string replica, double imageMs, double createMs, double startMs);

    [LoggerMessage(20, LogLevel.Warning, "Could not write {File}, the images this daemon pulled; after a restart it leaves the newest on disk")]
    private static partial void LogPulledNotSaved(ILogger logger, string file, Exception exception);

    [LoggerMessage(4, LogLevel.Warning, "Lost the engine's event stream ({Reason}); following it again")]
    private static partial void LogEventsLost(ILogger logger, string reason);

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
