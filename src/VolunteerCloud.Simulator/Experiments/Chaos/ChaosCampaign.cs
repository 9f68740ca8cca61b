using System.Globalization;
using VolunteerCloud.Apps;
using VolunteerCloud.Containers;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Swim;
using VolunteerCloud.Placement;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Containers;
using VolunteerCloud.Simulator.Network;

namespace VolunteerCloud.Simulator.Experiments.Chaos;

/// <summary>
/// A seeded fault campaign (issue 8; in the spirit of Jepsen and FoundationDB's simulation): a small cluster of
/// volunteers with real SWIM membership, the leaderless control plane and simulated engines, under a random mix of
/// partitions, loss, duplication, reordering, crashes, a 50% mass crash, slow nodes and clock skew, while apps are
/// deployed, scaled and removed through random live nodes. The control plane's invariants are checked every second
/// throughout; when the faults stop, the cluster must converge. Everything comes from the seed, so a failure
/// replays exactly.
/// </summary>
/// <remarks>
/// Safety, checked at every <see cref="ChaosOptions.CheckInterval"/>:
/// <list type="bullet">
/// <item>never two copies of one app on one host;</item>
/// <item>a host never reports more running copies than its engine runs (no copy on a dead host counted as running);</item>
/// <item>a live node's replicated state never goes back: an entry's stamp (version, writer) only grows, and an entry
/// never disappears (so an acknowledged deploy, scale or remove is never lost while a node that knew it is alive).</item>
/// </list>
/// Liveness, checked once after <see cref="ChaosOptions.QuietPhase"/>:
/// <list type="bullet">
/// <item>every node's membership view holds every node alive;</item>
/// <item>every node holds the same desired state;</item>
/// <item>every app runs exactly its replicas, on distinct hosts, and a removed app runs nowhere.</item>
/// </list>
/// </remarks>
public static class ChaosCampaign
{
    private const string Image = "app:1";
    private const string AppPrefix = "app/";
    private const int MaxExamples = 10;

    /// <summary>Runs one seeded chaos run.</summary>
    public static ChaosRunResult Run(ulong seed, ChaosOptions? options = null)
    {
        options ??= new ChaosOptions();
        options.Validate();
        using var campaign = new Campaign(seed, options);
        return campaign.Execute();
    }

    private sealed class Campaign : IDisposable
    {
        private readonly ulong _seed;
        private readonly ChaosOptions _options;
        private readonly Simulation _simulation;
        private readonly SplittableRandom _plan;
        private readonly SwimMembershipFactory _membership;
        private readonly NodeId[] _seeds;
        private readonly Dictionary<ChaosFault, int> _faults = Enum.GetValues<ChaosFault>().ToDictionary(f => f, _ => 0);
        private readonly List<string> _examples = [];

        // What each live node instance has held: the stamp per key (safety: stamps only grow, keys never vanish).
        private readonly Dictionary<ControlPlaneNode, Dictionary<string, (long Version, int Writer)>> _held = new(ReferenceEqualityComparer.Instance);

        // Acknowledged writes and the node instances that have held them (or something newer).
        private readonly List<Acknowledged> _acknowledged = [];
        private int _acked;
        private int _refused;
        private long _checks;
        private long _violations;
        private readonly int[] _epochs = new int[Enum.GetValues<ChaosFault>().Length]; // per kind: the latest fault's number

        public Campaign(ulong seed, ChaosOptions options)
        {
            _seed = seed;
            _options = options;
            _simulation = new Simulation(new SimulationOptions
            {
                Seed = seed,
                ExpectedNodes = options.Nodes,
                Network = { Latency = LatencyModel.Uniform(TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(40)), ReorderDelayMax = TimeSpan.FromMilliseconds(500) },
            });
            _plan = SplittableRandom.ForStream(seed, "chaos");
            _membership = new SwimMembershipFactory(options.Swim);
            _seeds = [new NodeId(0), new NodeId(1), new NodeId(2)];
        }

        public ChaosRunResult Execute()
        {
            var simulation = _simulation;
            simulation.EnableContainers(new ContainerSimulationOptions
            {
                Images = { [Image] = new SimulatedImage(20_000_000) },
                Hosts = _ => new SimulatedHost(new ResourceAmount(4, 8L << 30), 20_000_000_000, 100e6),
            });
            for (var i = 0; i < _options.Nodes; i++)
            {
                simulation.AddNode(Create(new NodeId(i)));
            }

            // Faults and operations are planned from the seed now, as times; what each does is drawn when it happens.
            var warmUp = TimeSpan.FromSeconds(30);
            var end = warmUp + _options.FaultPhase;
            for (var t = warmUp + Exponential(_options.MeanTimeBetweenFaults); t < end; t += Exponential(_options.MeanTimeBetweenFaults))
            {
                var fault = (ChaosFault)_plan.NextInt32(Enum.GetValues<ChaosFault>().Length);
                var at = t;
                simulation.ScheduleAt(at, () => Inject(fault, end));
            }

            for (var t = warmUp + TimeSpan.FromSeconds(1); t < end; t += Exponential(_options.MeanTimeBetweenOperations))
            {
                simulation.ScheduleAt(t, Operate);
            }

            simulation.ScheduleAt(end, Quiet);

            var stop = end + _options.QuietPhase;
            for (var t = _options.CheckInterval; t <= stop; t += _options.CheckInterval)
            {
                simulation.RunUntil(t);
                CheckSafety();
            }

            CheckConvergence();
            var lostWithHolders = _acknowledged.Count(a => !a.HeldByLiveNode);
            return new ChaosRunResult(_seed, _faults, _acked, _refused, _checks, _violations, _examples, lostWithHolders, simulation.TraceHash, simulation.Statistics.EventsProcessed, simulation.Statistics.MessagesLost + simulation.Statistics.MessagesBlocked);
        }

        public void Dispose() => _simulation.Dispose();

        private ControlPlaneNode Create(NodeId id) =>
            new(id, _membership.Create(new MembershipSetup(id, new MemberMetadata(0, 4000, 8192), _seeds)), new PowerOfChoicesPlacement(2), new ReactiveChurnHandler(), new ControlPlaneOptions());

        private TimeSpan Exponential(TimeSpan mean) => TimeSpan.FromSeconds(Math.Max(0.001, _plan.NextExponential(mean.TotalSeconds)));

        private TimeSpan Between(double minSeconds, double maxSeconds) => TimeSpan.FromSeconds(minSeconds + (_plan.NextDouble() * (maxSeconds - minSeconds)));

        private List<NodeId> Up() => [.. Enumerable.Range(0, _options.Nodes).Select(i => new NodeId(i)).Where(_simulation.IsUp)];

        private ControlPlaneNode? NodeAt(NodeId id) => _simulation.GetNode(id) as ControlPlaneNode;

        // ---- Faults --------------------------------------------------------------------------------------------

        private void Inject(ChaosFault fault, TimeSpan end)
        {
            var network = _simulation.Network;
            var n = _options.Nodes;
            _faults[fault]++;
            switch (fault)
            {
                case ChaosFault.Partition:
                {
                    var sides = new List<NodeId>();
                    if (_plan.NextBoolean(0.3))
                    {
                        sides.Add(new NodeId(_plan.NextInt32(n))); // one node cut off
                    }
                    else
                    {
                        var size = _plan.NextInt32(1, n); // a random split
                        var order = Enumerable.Range(0, n).ToArray();
                        _plan.Shuffle(order.AsSpan());
                        sides.AddRange(order.Take(size).Select(i => new NodeId(i)));
                    }

                    network.Partition(sides);
                    UndoIfLatest(fault, Between(20, 240), end, network.Heal);
                    break;
                }

                case ChaosFault.Loss:
                    RateFault(fault, 0.3, rate => network.LossRate = rate, end);
                    break;

                case ChaosFault.Duplication:
                    RateFault(fault, 0.2, rate => network.DuplicationRate = rate, end);
                    break;

                case ChaosFault.Reordering:
                    RateFault(fault, 0.3, rate => network.ReorderRate = rate, end);
                    break;

                case ChaosFault.Crash:
                {
                    var up = Up();
                    if (up.Count > 1)
                    {
                        var victim = up[_plan.NextInt32(up.Count)];
                        _simulation.Crash(victim);
                        Until(Between(10, 300), end, () => RestartIfDown(victim));
                    }

                    break;
                }

                case ChaosFault.MassCrash:
                {
                    var up = Up();
                    var victims = up.Where(_ => _plan.NextBoolean(0.5)).ToList();
                    if (victims.Count == up.Count)
                    {
                        victims.RemoveAt(0);
                    }

                    var back = Between(60, 300);
                    foreach (var victim in victims)
                    {
                        _simulation.Crash(victim);
                        Until(back, end, () => RestartIfDown(victim));
                    }

                    break;
                }

                case ChaosFault.SlowNode:
                {
                    var node = new NodeId(_plan.NextInt32(n));
                    network.SlowDown(node, Between(0.2, 2));
                    Until(Between(60, 300), end, () => network.SlowDown(node, TimeSpan.Zero));
                    break;
                }

                case ChaosFault.ClockSkew:
                    _simulation.SetClockOffset(new NodeId(_plan.NextInt32(n)), Between(-7200, 7200));
                    break;
            }
        }

        /// <summary>A network-wide rate in [0, <paramref name="max"/>) for 1 to 5 min.</summary>
        private void RateFault(ChaosFault fault, double max, Action<double> set, TimeSpan end)
        {
            set(_plan.NextDouble() * max);
            UndoIfLatest(fault, Between(60, 300), end, () => set(0));
        }

        /// <summary>Undoes a fault later, unless a fault of the same kind came after it (or the quiet phase undid it).</summary>
        private void UndoIfLatest(ChaosFault fault, TimeSpan delay, TimeSpan end, Action undo)
        {
            var epoch = ++_epochs[(int)fault];
            Until(delay, end, () =>
            {
                if (epoch == _epochs[(int)fault])
                {
                    undo();
                }
            });
        }

        /// <summary>Undoes a fault after <paramref name="delay"/>, or when the fault phase ends if that is sooner.</summary>
        private void Until(TimeSpan delay, TimeSpan end, Action undo) =>
            _simulation.ScheduleAt(_simulation.Now + delay < end ? _simulation.Now + delay : end, undo);

        private void RestartIfDown(NodeId node)
        {
            if (!_simulation.IsUp(node))
            {
                _simulation.Restart(node, Create(node));
            }
        }

        /// <summary>The faults end: the network heals and is clean again, and every crashed node restarts (clocks stay wrong).</summary>
        private void Quiet()
        {
            var network = _simulation.Network;
            network.Heal();
            network.LossRate = 0;
            network.DuplicationRate = 0;
            network.ReorderRate = 0;
            for (var kind = 0; kind < _epochs.Length; kind++)
            {
                _epochs[kind]++; // undos still pending are stale
            }
            for (var i = 0; i < _options.Nodes; i++)
            {
                network.SlowDown(new NodeId(i), TimeSpan.Zero);
                RestartIfDown(new NodeId(i));
            }
        }

        // ---- Operations ----------------------------------------------------------------------------------------

        private void Operate()
        {
            var up = Up();
            if (up.Count == 0)
            {
                return;
            }

            var via = up[_plan.NextInt32(up.Count)];
            var app = string.Create(CultureInfo.InvariantCulture, $"app{_plan.NextInt32(_options.Apps)}");
            var kind = _plan.NextDouble();
            var replicas = _plan.NextInt32(1, 6);
            _simulation.ScheduleOnNode(TimeSpan.Zero, via, context =>
            {
                var node = NodeAt(via)!;
                var known = node.State.TryGet(AppPrefix + app, out var before) && !before.Deleted;
                if (kind < 0.45 || !known)
                {
                    if (kind >= 0.45)
                    {
                        _refused++; // a scale or remove of an app this node does not know: the API answers 404
                        return;
                    }

                    node.Deploy(context, new AppSpec(app, Image) { Replicas = replicas, Limits = new ResourceAmount(0.25, 64L << 20) });
                }
                else if (kind < 0.85)
                {
                    node.Scale(context, app, replicas);
                }
                else
                {
                    node.Remove(context, app);
                }

                node.State.TryGet(AppPrefix + app, out var written);
                _acked++;
                _acknowledged.Add(new Acknowledged(AppPrefix + app, written.Version, written.Writer.Value, _simulation.Now));
            });
        }

        // ---- Checks --------------------------------------------------------------------------------------------

        private void CheckSafety()
        {
            _checks++;
            var containers = _simulation.Containers!;
            var live = new HashSet<ControlPlaneNode>(ReferenceEqualityComparer.Instance);
            for (var i = 0; i < _options.Nodes; i++)
            {
                var id = new NodeId(i);
                if (NodeAt(id) is not { } node)
                {
                    continue;
                }

                live.Add(node);
                var apps = new HashSet<string>(StringComparer.Ordinal);
                var running = 0;
                foreach (var record in node.LocalReplicas)
                {
                    if (!apps.Add(record.Replica.App))
                    {
                        Violate($"host {id} runs two copies of {record.Replica.App}");
                    }

                    running += record.Running ? 1 : 0;
                }

                if (running > containers.StartedOn(id))
                {
                    Violate($"host {id} reports {running} running copies but its engine runs {containers.StartedOn(id)}");
                }

                // The replicated state never goes back.
                if (!_held.TryGetValue(node, out var held))
                {
                    _held[node] = held = new Dictionary<string, (long, int)>(StringComparer.Ordinal);
                }

                foreach (var (key, stamp) in held)
                {
                    if (!node.State.TryGet(key, out var now))
                    {
                        Violate($"node {id} forgot {key} (held version {stamp.Version} by {stamp.Writer})");
                    }
                    else if (now.Version < stamp.Version || (now.Version == stamp.Version && now.Writer.Value < stamp.Writer))
                    {
                        Violate($"node {id}'s {key} went back from version {stamp.Version} by {stamp.Writer} to {now.Version} by {now.Writer.Value}");
                    }
                }

                foreach (var entry in node.State.Entries)
                {
                    held[entry.Key] = (entry.Version, entry.Writer.Value);
                }
            }

            // Crashed incarnations are gone for good (a restart makes a new node).
            foreach (var gone in _held.Keys.Where(k => !live.Contains(k)).ToList())
            {
                _held.Remove(gone);
            }

            // An acknowledged write is held (or overwritten by something newer) by a live node while one that held it lives.
            foreach (var ack in _acknowledged)
            {
                var heldNow = false;
                foreach (var node in live)
                {
                    if (node.State.TryGet(ack.Key, out var entry) && (entry.Version > ack.Version || (entry.Version == ack.Version && entry.Writer.Value >= ack.Writer)))
                    {
                        heldNow = true;
                        ack.Holders.Add(node);
                    }
                }

                if (!heldNow && ack.Holders.Any(live.Contains))
                {
                    Violate($"the acknowledged write of {ack.Key} (version {ack.Version} by {ack.Writer} at {ack.At}) is lost though a node that held it is alive");
                }

                ack.HeldByLiveNode = heldNow;
                ack.Holders.RemoveWhere(h => !live.Contains(h));
            }
        }

        private void CheckConvergence()
        {
            var nodes = Enumerable.Range(0, _options.Nodes).Select(i => NodeAt(new NodeId(i))).ToList();
            if (nodes.Any(n => n is null))
            {
                Violate("a node is down after the quiet phase");
                return;
            }

            // Membership: every view holds every node alive.
            foreach (var node in nodes)
            {
                var alive = node!.Membership.View.Members.Count(m => m.State == MemberState.Alive);
                if (alive != _options.Nodes)
                {
                    Violate($"node {node.Self}'s view holds {alive} of {_options.Nodes} nodes alive after the quiet phase: {string.Join(", ", node.Membership.View.Members.Where(m => m.State != MemberState.Alive).Select(m => $"{m.Id} {m.State}"))}");
                }
            }

            // Desired state: the same everywhere.
            var reference = nodes[0]!.State.Entries.Where(e => e.Key.StartsWith(AppPrefix, StringComparison.Ordinal)).ToDictionary(e => e.Key, StringComparer.Ordinal);
            foreach (var node in nodes.Skip(1))
            {
                var mine = node!.State.Entries.Where(e => e.Key.StartsWith(AppPrefix, StringComparison.Ordinal)).ToList();
                if (mine.Count != reference.Count || mine.Any(e => !reference.TryGetValue(e.Key, out var r) || r.Version != e.Version || r.Writer != e.Writer))
                {
                    Violate($"node {node.Self}'s desired state differs from node 0's after the quiet phase");
                }
            }

            // Every app runs exactly its replicas on distinct hosts; removed apps run nowhere.
            var copies = nodes.SelectMany(n => n!.LocalReplicas.Where(r => r.Running).Select(r => (Host: n.Self, r.Replica))).ToList();
            foreach (var (key, entry) in reference)
            {
                var app = key[AppPrefix.Length..];
                var running = copies.Where(c => c.Replica.App == app).ToList();
                var desired = entry.Deleted ? 0 : AppSpecCodec.Decode(entry.Value.Span).Replicas;
                if (running.Count != desired || running.Select(c => c.Host).Distinct().Count() != running.Count)
                {
                    var steward = nodes[0]!.StewardOf(app);
                    var seen = nodes[steward.Value]!.Reports.SelectMany(r => r.Value.Replicas.Where(x => x.Replica.App == app).Select(x => $"{r.Key}:{x.Replica.Slot}{(x.Running ? string.Empty : "(starting)")}"));
                    Violate($"{app} runs {running.Count} copies on {running.Select(c => c.Host).Distinct().Count()} hosts after the quiet phase; desired {desired}; running {string.Join(" ", running.Select(c => $"{c.Host}:{c.Replica.Slot}"))}; steward {steward} sees {string.Join(" ", seen)}, stewards it: {nodes[steward.Value]!.Stewarded.Contains(app)}");
                }
            }
        }

        private void Violate(string what)
        {
            _violations++;
            if (_examples.Count < MaxExamples)
            {
                _examples.Add(string.Create(CultureInfo.InvariantCulture, $"{_simulation.Now}: {what} (seed {_seed})"));
            }
        }
    }

    private sealed class Acknowledged(string key, long version, int writer, TimeSpan at)
    {
        public string Key { get; } = key;

        public long Version { get; } = version;

        public int Writer { get; } = writer;

        public TimeSpan At { get; } = at;

        public HashSet<ControlPlaneNode> Holders { get; } = new(ReferenceEqualityComparer.Instance);

        public bool HeldByLiveNode { get; set; } = true;
    }
}
