using VolunteerCloud.Containers;
using VolunteerCloud.Randomness;

namespace VolunteerCloud.Simulator.Containers;

/// <summary>
/// A simulated container engine on every host of a <see cref="Simulation"/>: image pulls that take the image's size
/// over the host's bandwidth (one pull at a time; cached afterwards, least recently used unused images evicted when
/// the disk cap is reached), a start-time distribution, admission against the owner's caps, optional crashes and
/// batch exits, and the loss of every container when the host leaves. Completed pulls survive a host's restart (the
/// image is on disk); containers and pulls in progress do not. Results reach the node as
/// <see cref="INode.OnContainerEvent"/> inputs, and only the incarnation that started the container sees them.
/// </summary>
public sealed class SimulatedContainers
{
    private readonly Simulation _simulation;
    private readonly ContainerSimulationOptions _options;
    private readonly ulong _seed;
    private HostEngine?[] _hosts = new HostEngine?[16];

    internal SimulatedContainers(Simulation simulation, ContainerSimulationOptions options)
    {
        options.Validate();
        _simulation = simulation;
        _options = options;
        _seed = SplitMix64.Mix64(simulation.Seed ^ SplitMix64.StreamIndexFor("containers"));
    }

    /// <summary>Counts over the whole run.</summary>
    public ContainerStatistics Statistics { get; } = new();

    /// <summary>The engine of <paramref name="node"/>, as the node sees it (also for inspection from tests).</summary>
    public IContainerRuntime RuntimeOf(NodeId node) => RuntimeOf(node.Value);

    /// <summary>Containers admitted on <paramref name="node"/> and not yet gone.</summary>
    public int CountOn(NodeId node) => Engine(node.Value).Containers.Count;

    /// <summary>Containers running on <paramref name="node"/> (started, not stopping).</summary>
    public int RunningOn(NodeId node) => Engine(node.Value).Containers.Values.Count(c => c.Status == ContainerStatus.Running);

    /// <summary>Containers on <paramref name="node"/> that have started and not exited yet (running, or stopping after a stop request).</summary>
    public int StartedOn(NodeId node) => Engine(node.Value).Containers.Values.Count(c => c.Status is ContainerStatus.Running || (c.Status == ContainerStatus.Stopping && c.WasRunning));

    /// <summary>Whether <paramref name="node"/> has <paramref name="image"/> on disk (pull completed).</summary>
    public bool HasImage(NodeId node, string image) =>
        Engine(node.Value).Images.TryGetValue(image, out var cached) && cached.AvailableAtTicks <= _simulation.Now.Ticks;

    /// <summary>Containers on <paramref name="node"/> counted as users of <paramref name="image"/> (−1 when the image is not cached).</summary>
    internal int ImageUsersOn(NodeId node, string image) => Engine(node.Value).Images.TryGetValue(image, out var cached) ? cached.Users : -1;

    /// <summary>Bytes of images on <paramref name="node"/>'s disk, including pulls in progress.</summary>
    public long DiskUsedOn(NodeId node) => Engine(node.Value).DiskUsed;

    internal IContainerRuntime RuntimeOf(int node) => Engine(node);

    internal void OnHostDown(int node)
    {
        if ((uint)node >= (uint)_hosts.Length || _hosts[node] is not { } engine)
        {
            return;
        }

        Statistics.LostToHostDeparture += engine.Containers.Count;
        var now = _simulation.Now.Ticks;
        foreach (var container in engine.Containers.Values)
        {
            if (container.HoldsImage)
            {
                var cached = engine.Images[container.Spec.Image];
                cached.Users--;
                cached.LastUsedTicks = now;
            }
        }

        engine.Containers.Clear();
        engine.Allocated = ResourceAmount.Zero;

        // A pull in progress dies with the engine; a completed one is on disk.
        foreach (var (name, cached) in engine.Images.ToArray())
        {
            if (cached.AvailableAtTicks > now)
            {
                engine.Images.Remove(name);
                engine.DiskUsed -= cached.SizeBytes;
            }
        }

        engine.DownloadFreeAtTicks = now;
    }

    private HostEngine Engine(int node)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(node);
        if (node >= _hosts.Length)
        {
            Array.Resize(ref _hosts, Math.Max(node + 1, _hosts.Length * 2));
        }

        return _hosts[node] ??= new HostEngine(this, node, _options.Hosts?.Invoke(new NodeId(node)) ?? SimulatedHost.Default);
    }

    private sealed class CachedImage(long sizeBytes, long availableAtTicks)
    {
        public long SizeBytes { get; } = sizeBytes;

        public long AvailableAtTicks { get; } = availableAtTicks;

        public long LastUsedTicks { get; set; } = availableAtTicks;

        public int Users { get; set; }
    }

    private sealed class Container(ContainerSpec spec)
    {
        public ContainerSpec Spec { get; } = spec;

        public ContainerStatus Status { get; set; } = ContainerStatus.Starting;

        /// <summary>Whether it reached running (it may be stopping now).</summary>
        public bool WasRunning { get; set; }

        /// <summary>Whether the container counts as a user of its cached image (not for containers that failed before a pull).</summary>
        public bool HoldsImage { get; set; }
    }

    private sealed class HostEngine : IContainerRuntime
    {
        private readonly SimulatedContainers _owner;
        private readonly int _node;
        private readonly SimulatedHost _host;
        private readonly SplittableRandom _random;
        private long _nextId = 1;

        public HostEngine(SimulatedContainers owner, int node, SimulatedHost host)
        {
            if (!(host.Capacity.Cpus >= 0) || host.Capacity.MemoryBytes < 0 || host.DiskBytes < 0 || !(host.DownloadBitsPerSecond > 0))
            {
                throw new ArgumentOutOfRangeException(nameof(host), host, $"Host {node}: capacity and disk must not be negative and the bandwidth must be positive.");
            }

            _owner = owner;
            _node = node;
            _host = host;
            _random = SplittableRandom.ForStream(owner._seed, (ulong)node);
        }

        public Dictionary<string, CachedImage> Images { get; } = new(StringComparer.Ordinal);

        public Dictionary<long, Container> Containers { get; } = [];

        public long DiskUsed { get; set; }

        public long DownloadFreeAtTicks { get; set; }

        public ResourceAmount Allocated { get; set; }

        public ResourceAmount Capacity => _host.Capacity;

        public int Count => Containers.Count;

        public ResourceAmount Available => Capacity - Allocated;

        private long Now => _owner._simulation.Now.Ticks;

        public bool TryRun(ContainerSpec spec, out ContainerId container)
        {
            ArgumentNullException.ThrowIfNull(spec);
            container = default;
            if (!_owner._simulation.IsUp(new NodeId(_node)))
            {
                throw new InvalidOperationException($"Node {_node} is down; its container engine cannot run anything.");
            }

            if (!(Allocated + spec.Limits).FitsWithin(Capacity))
            {
                _owner.Statistics.Refused++;
                return false;
            }

            container = new ContainerId(_nextId++);
            var id = container;
            Allocated += spec.Limits;
            Containers.Add(id.Value, new Container(spec));
            _owner.Statistics.Admitted++;
            var options = _owner._options;

            if (!options.Images.TryGetValue(spec.Image, out var image))
            {
                ScheduleFailure(id, Now + options.FailureTime.Ticks, "image not found");
                return true;
            }

            if (!Images.TryGetValue(spec.Image, out var cached))
            {
                if (!MakeRoom(image.SizeBytes))
                {
                    ScheduleFailure(id, Now + options.FailureTime.Ticks, "no space left on device");
                    return true;
                }

                var transfer = TimeSpan.FromSeconds(image.SizeBytes * 8 / _host.DownloadBitsPerSecond);
                var begin = Math.Max(Now, DownloadFreeAtTicks);
                var done = begin + options.PullOverhead.Ticks + transfer.Ticks;
                DownloadFreeAtTicks = done;
                cached = new CachedImage(image.SizeBytes, done);
                Images.Add(spec.Image, cached);
                DiskUsed += image.SizeBytes;
                _owner.Statistics.Pulls++;
                _owner.Statistics.BytesPulled += image.SizeBytes;
            }
            else
            {
                _owner.Statistics.CacheHits++;
            }

            cached.Users++;
            Containers[id.Value].HoldsImage = true;
            var start = (image.StartSeconds ?? options.StartSeconds).Sample(_random);
            var runningAt = Math.Max(Now, cached.AvailableAtTicks) + TimeSpan.FromSeconds(start).Ticks;
            _owner._simulation.ScheduleNodeInput(runningAt, _node, (node, context) => OnStarted(node, context, id, image));
            return true;
        }

        public bool Stop(ContainerId container)
        {
            if (!Containers.TryGetValue(container.Value, out var state) || state.Status == ContainerStatus.Stopping)
            {
                return false;
            }

            state.Status = ContainerStatus.Stopping;
            _owner._simulation.ScheduleNodeInput(
                Now + _owner._options.StopTime.Ticks,
                _node,
                (node, context) =>
                {
                    if (Remove(container))
                    {
                        _owner.Statistics.Stopped++;
                        node.OnContainerEvent(context, new ContainerEvent(container, ContainerEventKind.Exited, 143, "stopped"));
                    }
                });
            return true;
        }

        public ContainerStatus GetStatus(ContainerId container) =>
            Containers.TryGetValue(container.Value, out var state) ? state.Status : ContainerStatus.Unknown;

        private void OnStarted(INode node, NodeContext context, ContainerId id, SimulatedImage image)
        {
            if (!Containers.TryGetValue(id.Value, out var state) || state.Status != ContainerStatus.Starting)
            {
                return; // stopped while starting: the stop reports its exit
            }

            state.Status = ContainerStatus.Running;
            state.WasRunning = true;
            _owner.Statistics.Started++;
            var crashAfter = double.IsPositiveInfinity(image.MeanSecondsToCrash) ? double.PositiveInfinity : _random.NextExponential(image.MeanSecondsToCrash);
            var exitAfter = image.RunTime?.TotalSeconds ?? double.PositiveInfinity;
            if (crashAfter < exitAfter)
            {
                ScheduleExit(id, Now + TimeSpan.FromSeconds(crashAfter).Ticks, 1, "crashed");
            }
            else if (!double.IsPositiveInfinity(exitAfter))
            {
                ScheduleExit(id, Now + image.RunTime!.Value.Ticks, 0, "completed");
            }

            node.OnContainerEvent(context, new ContainerEvent(id, ContainerEventKind.Started));
        }

        private void ScheduleExit(ContainerId id, long atTicks, int exitCode, string reason) =>
            _owner._simulation.ScheduleNodeInput(atTicks, _node, (node, context) =>
            {
                if (Containers.TryGetValue(id.Value, out var state) && state.Status == ContainerStatus.Running && Remove(id))
                {
                    _owner.Statistics.ExitedByThemselves++;
                    node.OnContainerEvent(context, new ContainerEvent(id, ContainerEventKind.Exited, exitCode, reason));
                }
            });

        private void ScheduleFailure(ContainerId id, long atTicks, string reason) =>
            _owner._simulation.ScheduleNodeInput(atTicks, _node, (node, context) =>
            {
                if (Containers.TryGetValue(id.Value, out var state) && state.Status == ContainerStatus.Starting)
                {
                    Containers.Remove(id.Value);
                    Allocated -= state.Spec.Limits;
                    _owner.Statistics.Failed++;
                    node.OnContainerEvent(context, new ContainerEvent(id, ContainerEventKind.Failed, 0, reason));
                }
            });

        private bool Remove(ContainerId id)
        {
            if (!Containers.Remove(id.Value, out var state))
            {
                return false;
            }

            Allocated -= state.Spec.Limits;
            if (state.HoldsImage)
            {
                var cached = Images[state.Spec.Image];
                cached.Users--;
                cached.LastUsedTicks = Now;
            }

            return true;
        }

        /// <summary>Frees disk for a new image by removing least recently used images no container uses (as <c>docker image prune</c> would).</summary>
        private bool MakeRoom(long bytes)
        {
            if (bytes > _host.DiskBytes)
            {
                return false;
            }

            // Evict only when evicting every unused image would make enough room: a failed attempt removes nothing.
            var evictable = 0L;
            foreach (var cached in Images.Values)
            {
                evictable += cached.Users == 0 && cached.AvailableAtTicks <= Now ? cached.SizeBytes : 0;
            }

            if (DiskUsed - evictable + bytes > _host.DiskBytes)
            {
                return false;
            }

            while (DiskUsed + bytes > _host.DiskBytes)
            {
                string? victim = null;
                CachedImage? oldest = null;
                foreach (var (name, cached) in Images)
                {
                    if (cached.Users == 0 && cached.AvailableAtTicks <= Now &&
                        (oldest is null || cached.LastUsedTicks < oldest.LastUsedTicks ||
                         (cached.LastUsedTicks == oldest.LastUsedTicks && string.CompareOrdinal(name, victim) < 0)))
                    {
                        victim = name;
                        oldest = cached;
                    }
                }

                if (victim is null)
                {
                    return false;
                }

                Images.Remove(victim);
                DiskUsed -= oldest!.SizeBytes;
                _owner.Statistics.Evictions++;
            }

            return true;
        }
    }
}

/// <summary>Counts kept by <see cref="SimulatedContainers"/>.</summary>
public sealed class ContainerStatistics
{
    /// <summary>Containers admitted by <see cref="IContainerRuntime.TryRun"/>.</summary>
    public long Admitted { get; internal set; }

    /// <summary>Requests refused because the limits did not fit the host's caps.</summary>
    public long Refused { get; internal set; }

    /// <summary>Containers that reached running.</summary>
    public long Started { get; internal set; }

    /// <summary>Containers that never ran (unknown image, no disk space).</summary>
    public long Failed { get; internal set; }

    /// <summary>Containers that exited after a stop request.</summary>
    public long Stopped { get; internal set; }

    /// <summary>Containers that exited by themselves (crashed, or a batch job completed).</summary>
    public long ExitedByThemselves { get; internal set; }

    /// <summary>Containers lost because their host left (crashed or departed).</summary>
    public long LostToHostDeparture { get; internal set; }

    /// <summary>Image pulls started.</summary>
    public long Pulls { get; internal set; }

    /// <summary>Containers whose image was already on the host (or being pulled).</summary>
    public long CacheHits { get; internal set; }

    /// <summary>Bytes transferred by pulls.</summary>
    public long BytesPulled { get; internal set; }

    /// <summary>Images removed to make room on a host's disk.</summary>
    public long Evictions { get; internal set; }
}
