using System.Diagnostics.Metrics;
using System.Globalization;
using System.IO.Hashing;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Docker.DotNet;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VolunteerCloud.Containers;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Host.Docker;
using VolunteerCloud.Host.Transport;
using VolunteerCloud.Membership;
using VolunteerCloud.Randomness;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Host.Runtime;

/// <summary>
/// Runs one <see cref="ControlPlaneNode"/> on this machine: a single loop takes its inputs one at a time from a
/// bounded channel — datagrams from peers, timers on the system clock, container events from Docker Engine, and
/// commands from the HTTP API — and the node's effects go out through the context (the peer transport, timers, the
/// engine). The same node code runs in the simulator; only this loop and the context differ.
/// </summary>
internal sealed partial class NodeRuntime : BackgroundService
{
    private readonly Channel<Input> _inputs = Channel.CreateBounded<Input>(new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly VolunteerOptions _options;
    private readonly IMembershipProtocolFactory _membership;
    private readonly IPlacementStrategyFactory _placement;
    private readonly TimeProvider _clock;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly Meter _meter;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DockerClient? _docker;
    private DockerContainerRuntime? _containers;
    private PeerTransport? _transport;
    private HostNodeContext? _context;
    private ControlPlaneNode? _node;
    private long _viewVersion = -1;
    private long _droppedInputs;
    private volatile bool _drained;
    private bool _clusterMember; // this node has synced with a peer, in this life or an earlier one (the marker file)
    private KeptDesiredState? _keptState; // the desired state, kept between lives
    private KeptPeers? _keptPeers; // members seen alive, kept between lives to rejoin through
    private long _started; // the clock's timestamp at start (the kept state's delays)
    private readonly IHostApplicationLifetime? _lifetime;
    private Api.Metrics.Snapshot _snapshot = Api.Metrics.Snapshot.Empty;

    public NodeRuntime(IOptions<VolunteerOptions> options, IMembershipProtocolFactory membership, IPlacementStrategyFactory placement, TimeProvider clock, ILoggerFactory loggers, IMeterFactory meters, IHostApplicationLifetime? lifetime = null)
    {
        _lifetime = lifetime;
        _options = options.Value;
        _membership = membership;
        _placement = placement;
        _clock = clock;
        _loggers = loggers;
        _logger = loggers.CreateLogger<NodeRuntime>();
        _meter = meters.Create(Api.Metrics.MeterName);
        Api.Metrics.CreateInstruments(_meter, () => _snapshot);
    }

    /// <summary>The meter of the daemon's instruments.</summary>
    public Meter Meter => _meter;

    /// <summary>The HTTP API's port.</summary>
    public int ApiPort => _options.ApiPort;

    /// <summary>Reads the node's counters on its loop for the next scrape.</summary>
    public async Task RefreshSnapshotAsync(CancellationToken cancellationToken)
    {
        var transport = Transport;
        _snapshot = await InvokeAsync((node, context) => new Api.Metrics.Snapshot(
            Api.Metrics.Snapshot.Alive(node.Membership.View),
            node.Apps.Count(),
            node.LocalReplicas.Count(),
            node.Stewarded.Count,
            context.Containers.Allocated.Cpus,
            context.Containers.Capacity.Cpus,
            context.Containers.Allocated.MemoryBytes,
            context.Containers.Capacity.MemoryBytes,
            Interlocked.Read(ref transport.Sent),
            Interlocked.Read(ref transport.Received),
            Interlocked.Read(ref transport.DroppedUnknownPeer) + Interlocked.Read(ref transport.DroppedSendError) + Interlocked.Read(ref transport.DroppedMalformed) + DroppedInputs + Interlocked.Read(ref transport.DroppedConnections),
            Interlocked.Read(ref transport.DroppedForged) + Interlocked.Read(ref transport.DroppedUnknownKey) + Interlocked.Read(ref transport.DroppedPlaintext) + Interlocked.Read(ref transport.DroppedReplayed) + Interlocked.Read(ref transport.DroppedStale),
            node.Counters.CommandsSent,
            node.Counters.ContainersStarted,
            node.Counters.Reconciles)
        {
            DropsByReason =
            [
                ("unknown_peer", Interlocked.Read(ref transport.DroppedUnknownPeer)),
                ("send_error", Interlocked.Read(ref transport.DroppedSendError)),
                ("malformed", Interlocked.Read(ref transport.DroppedMalformed)),
                ("queue_full", DroppedInputs),
                ("tcp_connection_limit", Interlocked.Read(ref transport.DroppedConnections)),
                ("forged", Interlocked.Read(ref transport.DroppedForged)),
                ("unknown_key", Interlocked.Read(ref transport.DroppedUnknownKey)),
                ("plaintext", Interlocked.Read(ref transport.DroppedPlaintext)),
                ("replayed", Interlocked.Read(ref transport.DroppedReplayed)),
                ("stale", Interlocked.Read(ref transport.DroppedStale)),
            ],
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Completes when the node has started (the API waits for it).</summary>
    public Task Ready => _ready.Task;

    /// <summary>This node's id.</summary>
    public NodeId Self => _transport?.Self ?? default;

    /// <summary>The address others reach this node's gossip at.</summary>
    public IPEndPoint? Advertised { get; private set; }

    public PeerTransport Transport => _transport ?? throw new InvalidOperationException("The node has not started.");

    public DockerContainerRuntime Containers => _containers ?? throw new InvalidOperationException("The node has not started.");

    /// <summary>Inputs dropped because the queue was full (datagrams only; commands wait).</summary>
    public long DroppedInputs => Interlocked.Read(ref _droppedInputs);

    /// <summary>Whether the node is leaving (a graceful leave or an owner reclaim has begun).</summary>
    public bool Leaving { get; private set; }

    /// <summary>
    /// Whether the node began a cluster of its own, so the desired state it holds is all there is: it was given no
    /// seed but itself, and it had never synced with a peer before (the <c>cluster-member</c> file in
    /// <see cref="VolunteerOptions.DataDirectory"/>, written once it has). Any other node — a joiner whose seeds are
    /// silent for now, a member restarted during a partition or with its seeds restarting too — holds none of the
    /// desired state until it has synced with a peer, and says so rather than report apps as nonexistent.
    /// </summary>
    public bool StartedAlone { get; private set; }

    /// <summary>
    /// Whether the node can tell an app that does not exist from one it has not heard of yet: it started alone, or
    /// anti-entropy has compared its desired state with a peer's (a restarted node starts empty; call on the loop).
    /// </summary>
    public bool KnowsDesiredState(ControlPlaneNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return StartedAlone || node.State.Synced;
    }

    /// <summary>Runs <paramref name="action"/> on the node's loop, between two inputs, and returns its result.</summary>
    public async Task<T> InvokeAsync<T>(Func<ControlPlaneNode, NodeContext, T> action, CancellationToken cancellationToken = default)
    {
        await _ready.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        var command = new CommandInput((node, context) => action(node, context));
        await _inputs.Writer.WriteAsync(command, cancellationToken).ConfigureAwait(false);
        return (T)(await command.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _options.Validate();
        var wait = _options.UntilAllowed(_clock.GetLocalNow());
        if (wait > TimeSpan.Zero)
        {
            LogOutsideHours(_logger, wait);
            await Task.Delay(wait, _clock, cancellationToken).ConfigureAwait(false);
        }

        var bind = new IPEndPoint(IPAddress.Parse(_options.BindAddress), _options.GossipPort);
        var advertiseAddress = _options.AdvertiseAddress is { } configured ? IPAddress.Parse(configured) : GuessAdvertiseAddress(bind.Address);
        Advertised = new IPEndPoint(advertiseAddress, _options.GossipPort);
        var self = new NodeId(_options.NodeId != 0 ? _options.NodeId : DeriveNodeId(Advertised));
        var keyring = new Keyring(_options.KeyBytes);
        if (!keyring.Enabled)
        {
            LogInTheClear(_logger);
        }

        _transport = new PeerTransport(self, bind, _options.MaxUdpPayload, _loggers.CreateLogger<PeerTransport>(), keyring, _clock, _options.ReplayWindow);
        _transport.Start(OnDatagram);

        _docker = new DockerClientBuilder().WithEndpoint(new Uri(_options.DockerEndpoint)).Build();
        _containers = new DockerContainerRuntime(
            _docker,
            new DockerRuntimeOptions(self, _options.Capacity, _options.PidsLimit, _options.StopGrace, _options.PublishAddress, _options.DiskMegabytes << 20, PulledImagesFile()),
            OnContainerEvent,
            _loggers.CreateLogger<DockerContainerRuntime>());
        try
        {
            await _containers.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or SocketException or DockerApiException or TimeoutException)
        {
            throw new InvalidOperationException($"Docker Engine does not answer at {_options.DockerEndpoint} ({e.Message}). Start it, or set Volunteer:DockerEndpoint.", e);
        }

        _started = _clock.GetTimestamp();
        _clusterMember = File.Exists(ClusterMemberFile);
        _keptState = new KeptDesiredState(_options.DataDirectory, _loggers.CreateLogger<KeptDesiredState>());
        _keptState.Load();
        _keptPeers = new KeptPeers(_options.DataDirectory, _logger, Random.Shared, _options.Seeds);
        if (_clusterMember)
        {
            _keptPeers.Load(); // without the marker (deleted to found a new cluster) the old members are not looked up
        }

        var (seeds, selfSeeds) = await ResolveSeedsOrKeptPeersAsync(cancellationToken).ConfigureAwait(false);

        var onlySelf = _options.Seeds.Count == selfSeeds;
        StartedAlone = onlySelf && !_clusterMember;
        if (onlySelf && _clusterMember)
        {
            LogWasMember(_logger, ClusterMemberFile);
        }

        var capacity = _options.Capacity;
        var metadata = new MemberMetadata((ushort)_options.Region, (int)(capacity.Cpus * 1000), (int)(capacity.MemoryBytes >> 20))
        {
            Address = Advertised.ToString(),
            ApiPort = (ushort)_options.ApiPort,
        };
        var membership = _membership.Create(new MembershipSetup(self, metadata, seeds));
        var churn = new ProactiveChurnHandler(_options.RescheduleGrace, residualThresholdHours: 0); // moves replicas off hosts that announce they leave
        // A real node acts on a change within milliseconds (the simulator's 200 ms batches many nodes' changes).
        _node = new ControlPlaneNode(self, membership, _placement.Create(), churn, new ControlPlaneOptions
        {
            ReconcileDelay = TimeSpan.FromMilliseconds(2),
            State = new ReplicatedStateOptions { ConfirmUntilSynced = true }, // the API tells "no such app" only once synced
        });
        var seed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        _context = new HostNodeContext(self, _clock, new SplittableRandom(seed), _containers, _transport, _loggers.CreateLogger("VolunteerCloud.Node"), _meter, OnTimer);
        LogStarting(_logger, self.Value, Advertised, seeds.Count, capacity.ToString());
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Graceful leave (SIGTERM, Ctrl+C, or <c>vchost leave</c>): announce the departure, let the stewards start
    /// replacements elsewhere and stop the copies here (up to <see cref="VolunteerOptions.LeaveDrainTimeout"/>), leave
    /// the membership, then stop whatever still runs.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_node is not null && _ready.Task.IsCompletedSuccessfully && ExecuteTask is { IsCompleted: false } && !_drained)
        {
            try
            {
                await DrainAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _inputs.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_node is not null && ExecuteTask is { IsCompleted: true })
        {
            _keptState?.Flush(_node.DesiredVersion, _node.DesiredEntries); // the last change, if the save interval held it back
        }
        _context?.CancelAll();
        if (_containers is not null)
        {
            using var stopAll = new CancellationTokenSource(_options.StopGrace + TimeSpan.FromSeconds(10));
            await _containers.StopAllAsync(stopAll.Token).ConfigureAwait(false);
            await _containers.DisposeAsync().ConfigureAwait(false);
        }

        if (_transport is not null)
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
        }

        _docker?.Dispose();
        LogStopped(_logger);
    }

    /// <summary>Announces that this host leaves (now or after <paramref name="delay"/>), then drains and leaves: the owner reclaims the machine.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken, TimeSpan? delay = null)
    {
        // Announced at once, so the stewards start replacements during any delay the owner gave.
        await InvokeAsync((node, context) => { node.AnnounceLeaving(context); Leaving = true; return true; }, cancellationToken).ConfigureAwait(false);
        if (delay is { } wait && wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _clock, cancellationToken).ConfigureAwait(false);
        }

        LogLeaving(_logger, _options.LeaveDrainTimeout);
        var deadline = _clock.GetUtcNow() + _options.LeaveDrainTimeout;
        while (_clock.GetUtcNow() < deadline)
        {
            var left = await InvokeAsync((node, _) => node.LocalReplicas.Count(), cancellationToken).ConfigureAwait(false);
            if (left == 0)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), _clock, cancellationToken).ConfigureAwait(false);
        }

        await InvokeAsync((node, context) => { node.Membership.Leave(context); return true; }, cancellationToken).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromMilliseconds(500), _clock, cancellationToken).ConfigureAwait(false); // let the leave gossip go out
        _drained = true; // StopAsync (which `vchost leave` ends in) does not drain again
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var node = _node!;
        var context = _context!;
        node.OnStart(context);
        Keep(node, context); // a founder restores its own kept state at once
        _ready.TrySetResult();
        LearnAddresses(node);
        if (_options.AllowedHours.Count > 0)
        {
            _ = Task.Run(() => WatchHoursAsync(stoppingToken), CancellationToken.None);
        }

        _ = Task.Run(() => RetryJoinAsync(stoppingToken), CancellationToken.None);

        try
        {
            await foreach (var input in _inputs.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    Handle(node, context, input);
                }
                catch (Exception e) when (input is CommandInput command)
                {
                    command.Result.TrySetException(e);
                }
                catch (Exception e) when (e is WireFormatException or InvalidOperationException or ArgumentException or KeyNotFoundException)
                {
                    LogInputFailed(_logger, input.GetType().Name, e);
                }

                LearnAddresses(node);
                if (!_clusterMember && node.State.Synced)
                {
                    MarkClusterMember(node.Self);
                }

                Keep(node, context);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Keep(ControlPlaneNode node, NodeContext context)
    {
        _keptState!.AfterInput(_clock.GetElapsedTime(_started), StartedAlone, node.State.Synced, () => node.DesiredVersion, kept => node.RestoreDesired(context, kept), () => node.DesiredEntries, () => node.ClusterId, _keptPeers!.SeedsChanged);
        if (StartedAlone && _keptState.Restored && node.ClusterId is null)
        {
            LogFounded(_logger, node.FoundCluster(context)); // after the restore: a founder's own kept state names its cluster already
        }
    }

    private static void Handle(ControlPlaneNode node, HostNodeContext context, Input input)
    {
        switch (input)
        {
            case DatagramInput datagram:
                node.OnMessage(context, datagram.From, WireFormat.Decode(datagram.Bytes));
                break;
            case TimerInput timer:
                if (context.TakeFired(timer.Id))
                {
                    node.OnTimer(context, timer.Tag);
                }

                break;
            case ContainerInput container:
                node.OnContainerEvent(context, container.Event);
                break;
            case CommandInput command:
                command.Result.TrySetResult(command.Action(node, context));
                break;
        }
    }

    /// <summary>At the end of the allowed hours: leave gracefully and stop the daemon (a service manager starts it again; it waits for the next allowed hour).</summary>
    private async Task WatchHoursAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (_options.IsAllowed(_clock.GetLocalNow()))
            {
                await Task.Delay(TimeSpan.FromSeconds(30), _clock, stoppingToken).ConfigureAwait(false);
            }

            LogHoursOver(_logger);
            _lifetime?.StopApplication(); // StopAsync drains and leaves
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Retry-join (as Consul's and Nomad's): while this node knows no other live member, ask the seeds again every few
    /// seconds and join through whichever answers — a seed that was down, or not yet admitting this node (keys), when it started.
    /// </summary>
    private async Task RetryJoinAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(5), _clock, stoppingToken).ConfigureAwait(false);
                var alone = await InvokeAsync((node, _) => !node.Membership.View.Members.Any(m => m.Id != node.Self && m.State is MemberState.Alive or MemberState.Suspect), stoppingToken).ConfigureAwait(false);
                if (!alone || Leaving)
                {
                    continue;
                }

                foreach (var seed in (await ResolveSeedsOrKeptPeersAsync(stoppingToken, TimeSpan.FromSeconds(2)).ConfigureAwait(false)).Others)
                {
                    await InvokeAsync((node, context) => { node.Membership.JoinThrough(context, seed); return true; }, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private string ClusterMemberFile => Path.Combine(_options.DataDirectory, "cluster-member");

    private void MarkClusterMember(NodeId self)
    {
        _clusterMember = true; // tried once per life: a read-only directory costs this knowledge, not the node
        try
        {
            Directory.CreateDirectory(_options.DataDirectory);
            File.WriteAllText(ClusterMemberFile, $"{self}: synced the desired state with a peer; after a restart this node waits to sync again rather than start a cluster of its own (to start a new cluster, delete this file, desired-state and peers)\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogMarkerFailed(_logger, ClusterMemberFile, e);
        }
    }

    private string? PulledImagesFile()
    {
        try
        {
            Directory.CreateDirectory(_options.DataDirectory);
            return Path.Combine(_options.DataDirectory, "pulled-images.txt");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Cannot write to Volunteer:DataDirectory '{_options.DataDirectory}' ({e.Message}); set it to a directory the daemon may write to.", e);
        }
    }

    private void LearnAddresses(ControlPlaneNode node)
    {
        var view = node.Membership.View;
        var cluster = node.ClusterId;
        if (view.Version == _viewVersion && (cluster is null || cluster == _keptPeers!.Cluster))
        {
            return;
        }

        _viewVersion = view.Version;
        foreach (var member in view.Members)
        {
            if (member.Metadata.Address.Length > 0 && IPEndPoint.TryParse(member.Metadata.Address, out var endpoint))
            {
                _transport!.Learn(member.Id, endpoint);
            }
        }

        _keptPeers!.Update([.. view.Members.Where(m => m.Id != view.Self && m.State == MemberState.Alive).Select(m => m.Metadata.Address)], cluster);
    }

    private void OnDatagram(NodeId from, byte[] bytes)
    {
        if (!_inputs.Writer.TryWrite(new DatagramInput(from, bytes)))
        {
            Interlocked.Increment(ref _droppedInputs); // a full queue drops datagrams, as a full socket buffer would
        }
    }

    private void OnTimer(TimerId id, TimerTag tag)
    {
        if (!_inputs.Writer.TryWrite(new TimerInput(id, tag)))
        {
            _ = _inputs.Writer.WriteAsync(new TimerInput(id, tag)).AsTask(); // timers are never dropped
        }
    }

    private void OnContainerEvent(ContainerEvent containerEvent)
    {
        if (!_inputs.Writer.TryWrite(new ContainerInput(containerEvent)))
        {
            _ = _inputs.Writer.WriteAsync(new ContainerInput(containerEvent)).AsTask(); // nor container events
        }
    }

    /// <summary>
    /// The seeds (<see cref="ResolveSeedsAsync"/>); when no other node answers among them (or none was given: a founder
    /// restarted after the others declared it dead), the members the last life kept, for 2 s, so the node rejoins the
    /// cluster rather than wait for someone to reach it.
    /// </summary>
    private async Task<(List<NodeId> Others, int Self)> ResolveSeedsOrKeptPeersAsync(CancellationToken cancellationToken, TimeSpan? patience = null)
    {
        var (others, self) = await ResolveSeedsAsync(cancellationToken, patience).ConfigureAwait(false);
        if (others.Count == 0 && _keptPeers!.Current.Count > 0)
        {
            others = (await ResolveSeedsAsync(cancellationToken, TimeSpan.FromSeconds(2), _keptPeers.Endpoints(Advertised)).ConfigureAwait(false)).Others;
        }

        return (others, self);
    }

    /// <summary>
    /// Says hello to every seed: the ids of those that answered and are other nodes, and how many seeds are this node
    /// itself (its advertised address, or another address of it — loopback, a NAT's — that answered with its own id).
    /// </summary>
    private async Task<(List<NodeId> Others, int Self)> ResolveSeedsAsync(CancellationToken cancellationToken, TimeSpan? patience = null, List<IPEndPoint>? kept = null)
    {
        var seeds = new List<NodeId>();
        var endpoints = kept ?? [.. _options.Seeds.Select(IPEndPoint.Parse)];
        if (endpoints.Count == 0)
        {
            return (seeds, 0);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(patience ?? TimeSpan.FromSeconds(10));
        var self = endpoints.Count(e => e.Equals(Advertised));
        var hellos = endpoints.Where(e => !e.Equals(Advertised)).Select(async endpoint =>
        {
            try
            {
                return (NodeId?)await _transport!.HelloAsync(endpoint, TimeSpan.FromMilliseconds(500), timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                if (kept is null)
                {
                    LogSeedSilent(_logger, endpoint); // kept members may have left for good: not a warning each time
                }

                return null;
            }
        }).ToList();
        foreach (var id in await Task.WhenAll(hellos).ConfigureAwait(false))
        {
            if (id == _transport!.Self)
            {
                self++;
            }
            else if (id is { } seed)
            {
                seeds.Add(seed);
            }
        }

        return (seeds, self);
    }

    /// <summary>A node id from the advertised address (FNV-free: xxHash32 of "ip:port", 31 bits, never 0).</summary>
    internal static int DeriveNodeId(IPEndPoint advertised)
    {
        var hash = XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(advertised.ToString())) & 0x7FFF_FFFF;
        return hash == 0 ? 1 : (int)hash;
    }

    private static IPAddress GuessAdvertiseAddress(IPAddress bind)
    {
        if (!bind.Equals(IPAddress.Any) && !bind.Equals(IPAddress.IPv6Any))
        {
            return bind;
        }

        return NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? IPAddress.Loopback;
    }

    [LoggerMessage(1, LogLevel.Information, "Node {Node} starting: gossip at {Address}, {Seeds} seed(s) answered, caps {Caps}")]
    private static partial void LogStarting(ILogger logger, int node, IPEndPoint address, int seeds, string caps);

    [LoggerMessage(2, LogLevel.Warning, "Seed {Seed} did not answer")]
    private static partial void LogSeedSilent(ILogger logger, IPEndPoint seed);

    [LoggerMessage(3, LogLevel.Information, "Leaving: stewards move this host's replicas elsewhere (waiting up to {Timeout})")]
    private static partial void LogLeaving(ILogger logger, TimeSpan timeout);

    [LoggerMessage(4, LogLevel.Information, "Node stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(8, LogLevel.Warning, "No cluster keys (Volunteer:Keys): gossip goes in the clear; use this only on a network you trust")]
    private static partial void LogInTheClear(ILogger logger);

    [LoggerMessage(6, LogLevel.Information, "Outside the allowed hours: joining in {Wait}")]
    private static partial void LogOutsideHours(ILogger logger, TimeSpan wait);

    [LoggerMessage(7, LogLevel.Information, "The allowed hours are over: leaving")]
    private static partial void LogHoursOver(ILogger logger);

    [LoggerMessage(9, LogLevel.Warning, "Could not write {File}: after a restart this node will take its empty desired state for the whole")]
    private static partial void LogMarkerFailed(ILogger logger, string file, Exception exception);

    [LoggerMessage(10, LogLevel.Warning, "This node has been in a cluster ({File}) and has no seed: it rejoins through the members it kept (peers) or waits for a member to reach it, and answers 503 for apps it does not know until it has synced; give it a seed (Volunteer:Seeds), or delete cluster-member, desired-state and peers in its data directory to start a new cluster")]
    private static partial void LogWasMember(ILogger logger, string file);

    [LoggerMessage(21, LogLevel.Information, "Founded cluster {Cluster}: the desired state this node and every member keep is marked with it, and is not merged into another cluster after a restart")]
    private static partial void LogFounded(ILogger logger, string cluster);

    [LoggerMessage(5, LogLevel.Warning, "An input ({Input}) could not be handled")]
    private static partial void LogInputFailed(ILogger logger, string input, Exception exception);

    private abstract record Input;

    private sealed record DatagramInput(NodeId From, byte[] Bytes) : Input;

    private sealed record TimerInput(TimerId Id, TimerTag Tag) : Input;

    private sealed record ContainerInput(ContainerEvent Event) : Input;

    private sealed record CommandInput(Func<ControlPlaneNode, NodeContext, object?> Action) : Input
    {
        public TaskCompletionSource<object?> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
