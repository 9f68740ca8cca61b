using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Docker.DotNet;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VolunteerCloud.Availability;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Host.Docker;
using VolunteerCloud.Host.Transport;
using VolunteerCloud.Membership;
using VolunteerCloud.Placement;
using VolunteerCloud.Randomness;

namespace VolunteerCloud.Host.Runtime;

/// <summary>
/// The volunteer daemon's node: wires one <see cref="ControlPlaneNode"/> — with the membership protocol, placement
/// strategy, churn handler and residual-uptime model chosen through the Sdk's dependency injection — to the peer
/// transport and Docker Engine, runs it on a <see cref="NodeLoop{TNode}"/>, keeps what it must between lives in its
/// <see cref="DataDirectory"/>, and leaves through its <see cref="VolunteerLifecycle"/>. The same node code runs in the
/// simulator; only the loop and the context differ.
/// </summary>
internal sealed partial class NodeRuntime : BackgroundService
{
    private readonly NodeLoop<ControlPlaneNode> _loop = new();
    private readonly VolunteerOptions _options;
    private readonly DataDirectory _data;
    private readonly IMembershipProtocolFactory _membership;
    private readonly IPlacementStrategyFactory _placement;
    private readonly IChurnHandlerFactory _churn;
    private readonly ResidualUptimeEstimator _survival;
    private readonly TimeProvider _clock;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly IHostApplicationLifetime? _lifetime;
    private DockerClient? _docker;
    private DockerContainerRuntime? _containers;
    private PeerTransport? _transport;
    private HostNodeContext? _context;
    private ControlPlaneNode? _node;
    private VolunteerLifecycle? _lifecycle;
    private long _viewVersion = -1;
    private bool _clusterMember; // this node has synced with a peer, in this life or an earlier one (the marker file)
    private KeptDesiredState? _keptState; // the desired state, kept between lives
    private KeptPeers? _keptPeers; // members seen alive, kept between lives to rejoin through
    private long _started; // the clock's timestamp at start (the kept state's delays)
    private Api.Metrics.Snapshot _snapshot = Api.Metrics.Snapshot.Empty;

    public NodeRuntime(
        IOptions<VolunteerOptions> options,
        IMembershipProtocolFactory membership,
        IPlacementStrategyFactory placement,
        IChurnHandlerFactory churn,
        ResidualUptimeEstimator survival,
        TimeProvider clock,
        ILoggerFactory loggers,
        IMeterFactory meters,
        IHostApplicationLifetime? lifetime = null)
    {
        _lifetime = lifetime;
        _options = options.Value;
        _data = new DataDirectory(_options.DataDirectory);
        _membership = membership;
        _placement = placement;
        _churn = churn;
        _survival = survival;
        _clock = clock;
        _loggers = loggers;
        _logger = loggers.CreateLogger<NodeRuntime>();
        Meter = meters.Create(Api.Metrics.MeterName);
        Api.Metrics.CreateInstruments(Meter, () => _snapshot);
    }

    /// <summary>The meter of the daemon's instruments.</summary>
    public Meter Meter { get; }

    /// <summary>The HTTP API's port.</summary>
    public int ApiPort => _options.ApiPort;

    /// <summary>Completes when the node has started (the API waits for it).</summary>
    public Task Ready => _loop.Running;

    /// <summary>This node's id.</summary>
    public NodeId Self => _transport?.Self ?? default;

    /// <summary>The address others reach this node's gossip at.</summary>
    public IPEndPoint? Advertised { get; private set; }

    public PeerTransport Transport => _transport ?? throw new InvalidOperationException("The node has not started.");

    public DockerContainerRuntime Containers => _containers ?? throw new InvalidOperationException("The node has not started.");

    /// <summary>Whether the node is leaving (a graceful leave or an owner reclaim has begun).</summary>
    public bool Leaving => _lifecycle?.Leaving ?? false;

    /// <summary>
    /// Whether the node began a cluster of its own, so the desired state it holds is all there is: it was given no
    /// seed but itself, and it had never synced with a peer before (<see cref="DataDirectory.IsClusterMember"/>). Any
    /// other node — a joiner whose seeds are silent for now, a member restarted during a partition or with its seeds
    /// restarting too — holds none of the desired state until it has synced with a peer, and says so rather than
    /// report apps as nonexistent.
    /// </summary>
    public bool StartedAlone { get; private set; }

    /// <summary>
    /// Whether the node can tell an app that does not exist from one it has not heard of yet: it started alone, or
    /// anti-entropy has compared its desired state with a peer's (a restarted node starts empty; call on the loop).
    /// </summary>
    public bool KnowsDesiredState(ControlPlaneNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return StartedAlone || node.Synced;
    }

    /// <summary>Runs <paramref name="action"/> on the node's loop, between two inputs, and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<ControlPlaneNode, NodeContext, T> action, CancellationToken cancellationToken = default) =>
        _loop.InvokeAsync(action, cancellationToken);

    /// <summary>Announces that this host leaves (now or after <paramref name="delay"/>), then drains and leaves: the owner reclaims the machine.</summary>
    public Task DrainAsync(CancellationToken cancellationToken, TimeSpan? delay = null) =>
        (_lifecycle ?? throw new InvalidOperationException("The node has not started.")).DrainAsync(cancellationToken, delay);

    /// <summary>Reads the node's counters on its loop for the next scrape.</summary>
    public async Task RefreshSnapshotAsync(CancellationToken cancellationToken)
    {
        var transport = Transport;
        var dropped = _loop.DroppedInputs;
        _snapshot = await InvokeAsync((node, context) => Api.Metrics.Snapshot.Of(node, context, transport, dropped), cancellationToken).ConfigureAwait(false);
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
        var advertiseAddress = _options.AdvertiseAddress is { } configured ? IPAddress.Parse(configured) : SeedResolver.GuessAdvertiseAddress(bind.Address);
        Advertised = new IPEndPoint(advertiseAddress, _options.GossipPort);
        var self = new NodeId(_options.NodeId != 0 ? _options.NodeId : SeedResolver.DeriveNodeId(Advertised));
        var keyring = new Keyring(_options.KeyBytes);
        if (!keyring.Enabled)
        {
            LogInTheClear(_logger);
        }

        _transport = new PeerTransport(self, bind, _options.MaxUdpPayload, _loggers.CreateLogger<PeerTransport>(), keyring, _clock, _options.ReplayWindow);
        _transport.Start(_loop.PostDatagram);

        _data.Ensure();
        _docker = new DockerClientBuilder().WithEndpoint(new Uri(_options.DockerEndpoint)).Build();
        _containers = new DockerContainerRuntime(
            _docker,
            new DockerRuntimeOptions(self, _options.Capacity, _options.PidsLimit, _options.StopGrace, _options.PublishAddress, _options.DiskMegabytes << 20, _data.PulledImagesFile),
            _loop.PostContainerEvent,
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
        _clusterMember = _data.IsClusterMember;
        _keptState = new KeptDesiredState(_data, _loggers.CreateLogger<KeptDesiredState>());
        _keptState.Load();
        _keptPeers = new KeptPeers(_data, _logger, Random.Shared, _options.Seeds);
        if (_clusterMember)
        {
            _keptPeers.Load(); // without the marker (deleted to found a new cluster) the old members are not looked up
        }

        var resolver = new SeedResolver(_transport, Advertised, _options.Seeds, _keptPeers, _logger);
        _lifecycle = new VolunteerLifecycle(_loop, _options, _clock, resolver, _logger, _lifetime);
        var (seeds, selfSeeds) = await resolver.ResolveOrKeptAsync(cancellationToken).ConfigureAwait(false);

        var onlySelf = _options.Seeds.Count == selfSeeds;
        StartedAlone = onlySelf && !_clusterMember;
        if (onlySelf && _clusterMember)
        {
            LogWasMember(_logger, _data.ClusterMemberFile);
        }

        var capacity = _options.Capacity;
        var metadata = new MemberMetadata((ushort)_options.Region, (int)(capacity.Cpus * 1000), (int)(capacity.MemoryBytes >> 20))
        {
            Address = Advertised.ToString(),
            ApiPort = (ushort)_options.ApiPort,
        };
        var membership = _membership.Create(new MembershipSetup(self, metadata, seeds));
        var placement = _placement.Create();
        var churn = _churn.Create();
        // A real node acts on a change within milliseconds (the simulator's 200 ms batches many nodes' changes).
        _node = new ControlPlaneNode(self, membership, placement, churn, new ControlPlaneOptions
        {
            ReconcileDelay = TimeSpan.FromMilliseconds(2),
            State = new ReplicatedStateOptions { ConfirmUntilSynced = true }, // the API tells "no such app" only once synced
        }, _survival);
        var seed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        _context = new HostNodeContext(self, _clock, new SplittableRandom(seed), _containers, _transport, _loggers.CreateLogger("VolunteerCloud.Node"), Meter, _loop.PostTimer);
        LogStarting(_logger, self.Value, Advertised, seeds.Count, capacity.ToString(), _membership.Name, placement.Name, churn.Name);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Graceful leave (SIGTERM, Ctrl+C, or <c>vchost leave</c>): drain and leave (<see cref="VolunteerLifecycle.DrainAsync"/>),
    /// keep the last change of the desired state, then stop whatever still runs.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_node is not null && _loop.Running.IsCompletedSuccessfully && ExecuteTask is { IsCompleted: false } && _lifecycle is { Drained: false } lifecycle)
        {
            try
            {
                await lifecycle.DrainAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _loop.Complete();
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var node = _node!;
        var context = _context!;
        await _loop.RunAsync(
            node,
            context,
            started: () =>
            {
                Keep(node, context); // a founder restores its own kept state at once
                LearnAddresses(node);
                _lifecycle!.Start(stoppingToken);
            },
            afterInput: () =>
            {
                LearnAddresses(node);
                if (!_clusterMember && node.Synced)
                {
                    MarkClusterMember(node.Self);
                }

                Keep(node, context);
            },
            failed: (input, e) => LogInputFailed(_logger, input, e),
            stoppingToken).ConfigureAwait(false);
    }

    private void Keep(ControlPlaneNode node, NodeContext context)
    {
        _keptState!.AfterInput(_clock.GetElapsedTime(_started), StartedAlone, node.Synced, () => node.DesiredVersion, kept => node.RestoreDesired(context, kept), () => node.DesiredEntries, () => node.ClusterId, _keptPeers!.SeedsChanged);
        if (StartedAlone && _keptState.Restored && node.ClusterId is null)
        {
            LogFounded(_logger, node.FoundCluster(context)); // after the restore: a founder's own kept state names its cluster already
        }
    }

    private void MarkClusterMember(NodeId self)
    {
        _clusterMember = true; // tried once per life: a read-only directory costs this knowledge, not the node
        try
        {
            _data.MarkClusterMember(self);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogMarkerFailed(_logger, _data.ClusterMemberFile, e);
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

    [LoggerMessage(1, LogLevel.Information, "Node {Node} starting: gossip at {Address}, {Seeds} seed(s) answered, caps {Caps}; membership {Membership}, placement {Placement}, churn handler {ChurnHandler}")]
    private static partial void LogStarting(ILogger logger, int node, IPEndPoint address, int seeds, string caps, string membership, string placement, string churnHandler);

    [LoggerMessage(4, LogLevel.Information, "Node stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(8, LogLevel.Warning, "No cluster keys (Volunteer:Keys): gossip goes in the clear; use this only on a network you trust")]
    private static partial void LogInTheClear(ILogger logger);

    [LoggerMessage(6, LogLevel.Information, "Outside the allowed hours: joining in {Wait}")]
    private static partial void LogOutsideHours(ILogger logger, TimeSpan wait);

    [LoggerMessage(9, LogLevel.Warning, "Could not write {File}: after a restart this node will take its empty desired state for the whole")]
    private static partial void LogMarkerFailed(ILogger logger, string file, Exception exception);

    [LoggerMessage(10, LogLevel.Warning, "This node has been in a cluster ({File}) and has no seed: it rejoins through the members it kept (peers) or waits for a member to reach it, and answers 503 for apps it does not know until it has synced; give it a seed (Volunteer:Seeds), or delete cluster-member, desired-state and peers in its data directory to start a new cluster")]
    private static partial void LogWasMember(ILogger logger, string file);

    [LoggerMessage(21, LogLevel.Information, "Founded cluster {Cluster}: the desired state this node and every member keep is marked with it, and is not merged into another cluster after a restart")]
    private static partial void LogFounded(ILogger logger, string cluster);

    [LoggerMessage(5, LogLevel.Warning, "An input ({Input}) could not be handled")]
    private static partial void LogInputFailed(ILogger logger, string input, Exception exception);
}
