using VolunteerCloud.Availability;
using VolunteerCloud.Apps;
using VolunteerCloud.Containers;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Membership;
using VolunteerCloud.Placement;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Churn;
using VolunteerCloud.Simulator.Containers;
using VolunteerCloud.Simulator.Population;

namespace VolunteerCloud.Simulator.ControlPlane;

/// <summary>How faithfully a run simulates the control plane.</summary>
public enum ControlPlaneFidelity
{
    /// <summary>Every node runs the real <see cref="ControlPlaneNode"/>: gossip, anti-entropy and commands are messages. Control traffic is measured.</summary>
    Protocol,

    /// <summary>
    /// The replicated state is modelled, not exchanged: what a steward knows is the truth after fixed delays (departures
    /// after the detection delay, reports after <see cref="ModelledControlPlane.ReportDelay"/>). Stewards run the same
    /// planner (<see cref="StewardPlanner"/>), placement strategy and churn handler on one shared view; hosts run
    /// simulated engines under the same churn. No control traffic is measured. For 100 000 volunteers and more.
    /// </summary>
    Modelled,
}

/// <summary>
/// The modelled control plane (<see cref="ControlPlaneFidelity.Modelled"/>): the steward's knowledge as a delayed copy
/// of the truth instead of gossip on every node, so a run costs events per replica change, not per message per node.
/// What it keeps from the protocol run: the churn, the hosts' engines (pulls, starts, capacity), the membership delays,
/// the grace period, the start timeout, the steward's plan, the placement strategy and the churn handler, the
/// periodic reconcile. What it leaves out: gossip and anti-entropy (every steward sees a report
/// <see cref="ReportDelay"/> after it changes), the steward's own crashes (an app's steward is always reachable, but
/// for the pinned controller of the Deis-like baseline), control traffic.
/// </summary>
public static partial class ModelledControlPlane
{
    /// <summary>How long a host's report takes to reach the steward (gossip; the protocol run's median is about this). 2 s.</summary>
    public static readonly TimeSpan ReportDelay = TimeSpan.FromSeconds(2);

    /// <summary>How long a command takes to reach its host. 20 ms.</summary>
    public static readonly TimeSpan CommandDelay = TimeSpan.FromMilliseconds(20);

    /// <summary>Slices of the periodic reconcile pass.</summary>
    private const int Phases = 50;

    /// <summary>Runs one scenario with the modelled control plane.</summary>
    public static ControlPlaneResult Run(ControlPlaneScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var (created, profiles) = ControlPlaneLab.NewSimulation(scenario);
        using var simulation = created;
        var model = new Model(simulation, scenario, profiles);
        return model.Run();
    }

    /// <summary>A copy as the model tracks it: the steward's knowledge and the truth side by side.</summary>
    private sealed class Copy(ReplicaId replica, int host, int app)
    {
        public ReplicaId Replica { get; } = replica;

        public int Host { get; } = host;

        public int App { get; } = app;

        /// <summary>The steward tracks it (pending or reported); false once dropped or gone.</summary>
        public bool Known { get; set; } = true;

        /// <summary>The steward has seen it running in the host's report.</summary>
        public bool Reported { get; set; }

        /// <summary>A start the steward waits for, until this time.</summary>
        public TimeSpan Deadline { get; set; }

        /// <summary>The host's engine holds it (starting or running), by this id.</summary>
        public ContainerId? Container { get; set; }

        /// <summary>The engine runs it (the truth).</summary>
        public bool Running { get; set; }

        /// <summary>Counted in the shared view of the hosts' load (reported running; a pending start is counted only by its own steward).</summary>
        public bool Holding { get; set; }

        /// <summary>Its host went down with it: it is gone, though the steward learns so only from the host's next report.</summary>
        public bool Gone { get; set; }
    }

    /// <summary>A volunteer's daemon in the modelled run: it only runs the containers it is told to.</summary>
    private sealed class Host(Model model, NodeId id) : INode
    {
        public void OnStart(NodeContext context)
        {
            // A new life runs nothing; its (empty) report reaches the steward after the report delay.
        }

        public void OnMessage(NodeContext context, NodeId from, Wire.InboundMessage message)
        {
        }

        public void OnTimer(NodeContext context, TimerTag tag)
        {
        }

        public void OnContainerEvent(NodeContext context, ContainerEvent containerEvent) => model.ContainerChanged(id.Value, containerEvent);
    }

    private sealed partial class Model
    {
        private readonly Simulation _simulation;
        private readonly ControlPlaneScenario _scenario;
        private readonly ControlPlaneOptions _options;
        private readonly IPlacementStrategy?[] _placements;
        private readonly IChurnHandler _churn;
        private readonly ResidualUptimeEstimator _survival;
        private readonly RandomSource _random;
        private readonly ClusterState _cluster;
        private readonly List<AppSpec> _apps;
        private readonly List<Copy>[] _copies;
        private readonly List<Copy>?[] _onHost;
        private readonly bool[] _viewAlive;
        private readonly bool[] _leaving;
        private readonly TimeSpan[] _downSince;
        private readonly bool[] _armed;
        private readonly bool[] _flagged;
        private readonly List<int>[] _attention = [.. Enumerable.Range(0, Phases).Select(_ => new List<int>())];
        private List<int> _spare = [];
        private readonly Dictionary<(int Host, long Container), Copy> _byContainer = [];
        private readonly List<StewardCopy> _plan = [];
        private readonly List<Copy> _planCopies = [];
        private readonly List<StewardAction> _actions = [];
        private readonly List<NodeId> _used = [];
        private bool _deployed;
        private bool _controllerUp = true;
        private long _serial;
        private long _starts;
        private long _violations;
        private readonly List<string> _examples = [];

        public Model(Simulation simulation, ControlPlaneScenario scenario, IReadOnlyList<VolunteerProfile> profiles)
        {
            _simulation = simulation;
            _scenario = scenario;
            _options = scenario.Options;
            _placements = new IPlacementStrategy?[scenario.Apps];
            _churn = scenario.ChurnHandler();
            _survival = scenario.Survival;
            _random = SplittableRandom.ForStream(scenario.Seed, "modelled-steward");
            _cluster = new ClusterState(scenario.Hosts);
            for (var i = 0; i < scenario.Hosts; i++)
            {
                var caps = profiles[i].Caps;
                var index = _cluster.Add(new NodeId(i), new ResourceAmount(caps.Cpus, caps.MemoryBytes), (ushort)profiles[i].Region);
                _cluster.SetEligible(index, true);
                _cluster.HistoryOf(index).SessionStarted(TimeSpan.Zero);
            }

            _apps = [.. Enumerable.Range(0, scenario.Apps).Select(a => new AppSpec($"app{a:D4}", ControlPlaneLab.Image)
            {
                Replicas = scenario.Replicas,
                Limits = scenario.Limits,
                AvailabilityTarget = scenario.AvailabilityTarget,
            })];
            _copies = [.. _apps.Select(_ => new List<Copy>(scenario.Replicas))];
            _onHost = new List<Copy>?[scenario.Hosts];
            _viewAlive = Enumerable.Repeat(true, scenario.Hosts).ToArray();
            _leaving = new bool[scenario.Hosts];
            _downSince = new TimeSpan[scenario.Hosts];
            _armed = new bool[scenario.Apps];
            _flagged = new bool[scenario.Apps];
        }

        public ControlPlaneResult Run()
        {
            var scenario = _scenario;
            for (var i = 0; i < scenario.Hosts; i++)
            {
                _simulation.AddNode(new Host(this, new NodeId(i)), (ushort)_cluster.RegionOf(i));
            }

            var driver = new ChurnDriver(_simulation, scenario.Churn, id => new Host(this, id));
            driver.HostChanged += (id, up) => HostChanged(id.Value, up);
            driver.ReclaimNoticed += (id, _) => _simulation.Schedule(ReportDelay, () => Leaving(id.Value));
            for (var i = 1; i < scenario.Hosts; i++)
            {
                driver.Attach(new NodeId(i)); // node 0 is the always-on entry point (and the baseline's controller)
            }

            _simulation.ScheduleAt(TimeSpan.FromMinutes(1), () =>
            {
                _deployed = true;
                ReconcileAll();
            });
            _simulation.ScheduleAt(TimeSpan.FromMinutes(1) + _options.ReconcileInterval, () => Periodic(0));
            if (scenario.CrashControllerAt is { } crashAt)
            {
                _simulation.ScheduleAt(crashAt, () =>
                {
                    if (_simulation.IsUp(new NodeId(0)))
                    {
                        _simulation.Crash(new NodeId(0));
                        _controllerUp = false;
                        HostChanged(0, false);
                    }
                });
            }

            var massFailureDone = TimeSpan.MinValue;
            if (scenario.MassFailureShare > 0)
            {
                _simulation.ScheduleAt(scenario.MassFailureAt, () =>
                {
                    var random = SplittableRandom.ForStream(scenario.Seed, "mass-failure");
                    for (var i = 1; i < scenario.Hosts; i++)
                    {
                        var id = new NodeId(i);
                        if (_simulation.IsUp(id) && random.NextBoolean(scenario.MassFailureShare))
                        {
                            _simulation.Crash(id);
                            HostChanged(i, false);
                            _simulation.Schedule(TimeSpan.FromMinutes(5), () =>
                            {
                                if (!_simulation.IsUp(id))
                                {
                                    _simulation.Restart(id, new Host(this, id));
                                    HostChanged(id.Value, true);
                                }
                            });
                        }
                    }

                    massFailureDone = _simulation.Now;
                });
            }

            var sampler = new AvailabilitySampler(scenario.Apps);
            var slots = new int[scenario.Apps];
            for (var t = AvailabilitySampler.Start; t <= scenario.Duration; t += scenario.SampleInterval)
            {
                _simulation.RunUntil(t);
                scenario.OnSample?.Invoke(t, _simulation.Statistics.EventsProcessed);
                Sample(slots);
                sampler.Record(t, slots, a => _apps[a].Replicas, massFailureDone);
            }

            return sampler.Result(scenario, _starts, double.NaN, double.NaN, _violations, _examples, 0, _simulation.Statistics.EventsProcessed);
        }

        /// <summary>Slots with a running copy on an up host, per app (the truth), and the one-copy-per-host invariant.</summary>
        private void Sample(int[] slots)
        {
            for (var a = 0; a < _copies.Length; a++)
            {
                var running = 0UL;
                var copies = _copies[a];
                for (var i = 0; i < copies.Count; i++)
                {
                    var copy = copies[i];
                    if (copy.Container is not null)
                    {
                        for (var j = 0; j < i; j++)
                        {
                            if (copies[j].Container is not null && copies[j].Host == copy.Host)
                            {
                                Violate($"{_simulation.Now}: host {copy.Host} runs two copies of {_apps[a].Name}");
                            }
                        }
                    }

                    if (copy.Running && copy.Replica.Slot < 64)
                    {
                        running |= 1UL << copy.Replica.Slot;
                    }
                }

                slots[a] = System.Numerics.BitOperations.PopCount(running);
            }
        }

        private void Violate(string what)
        {
            _violations++;
            if (_examples.Count < 10)
            {
                _examples.Add(what + $" (seed {_scenario.Seed})");
            }
        }

        private void HostChanged(int host, bool up)
        {
            var now = _simulation.Now;
            if (!up)
            {
                // The truth: its engine and every copy on it are gone now.
                if (_onHost[host] is { } copies)
                {
                    foreach (var copy in copies)
                    {
                        if (copy.Container is { } container)
                        {
                            _byContainer.Remove((host, container.Value));
                        }

                        copy.Container = null;
                        copy.Running = false;
                        copy.Gone = true;
                    }
                }

                _simulation.Schedule(_scenario.DetectionDelay, () =>
                {
                    if (_simulation.IsUp(new NodeId(host)) || !_viewAlive[host])
                    {
                        return; // back before anyone noticed, or already seen down
                    }

                    _viewAlive[host] = false;
                    _downSince[host] = _simulation.Now;
                    _cluster.SetEligible(host, false);
                    _cluster.HistoryOf(host).SessionEnded(_simulation.Now);
                    TouchHost(host);
                    if (_onHost[host] is { Count: > 0 })
                    {
                        _simulation.Schedule(_churn.GracePeriod + TimeSpan.FromMilliseconds(1), () => TouchHost(host));
                    }
                });
                return;
            }

            _simulation.Schedule(TimeSpan.FromSeconds(1), () =>
            {
                if (!_simulation.IsUp(new NodeId(host)) || _viewAlive[host])
                {
                    return;
                }

                _viewAlive[host] = true;
                _cluster.HistoryOf(host).SessionStarted(_simulation.Now);
                _cluster.SetEligible(host, !_leaving[host]);
            });
            _simulation.Schedule(ReportDelay, () =>
            {
                // The new life's report: nothing runs there (what the last life ran is gone), not leaving.
                _leaving[host] = false;
                _cluster.SetEligible(host, _viewAlive[host]);
                if (_onHost[host] is { Count: > 0 } copies)
                {
                    foreach (var copy in copies.ToArray())
                    {
                        if (copy.Gone)
                        {
                            Forget(copy);
                        }
                    }
                }
            });
        }

        private void Leaving(int host)
        {
            if (!_simulation.IsUp(new NodeId(host)))
            {
                return;
            }

            _leaving[host] = true;
            _cluster.SetEligible(host, false);
            TouchHost(host);
        }

        private void TouchHost(int host)
        {
            if (_onHost[host] is { } copies)
            {
                foreach (var copy in copies)
                {
                    Arm(copy.App);
                }
            }
        }

        public void ContainerChanged(int host, ContainerEvent change)
        {
            if (!_byContainer.TryGetValue((host, change.Container.Value), out var copy))
            {
                return;
            }

            if (change.Kind == ContainerEventKind.Started)
            {
                copy.Running = true;
                _simulation.Schedule(ReportDelay, () =>
                {
                    if (copy.Running)
                    {
                        copy.Reported = true;
                        if (!copy.Known)
                        {
                            copy.Known = true; // a start the steward had given up on shows up after all: it is a copy again
                            _copies[copy.App].Add(copy);
                        }

                        Hold(copy);
                        Arm(copy.App);
                    }
                });
                return;
            }

            _byContainer.Remove((host, change.Container.Value));
            copy.Container = null;
            copy.Running = false;
            _simulation.Schedule(ReportDelay, () =>
            {
                if (copy.Container is null)
                {
                    Forget(copy);
                }
            });
        }

        private void Hold(Copy copy)
        {
            if (!copy.Holding)
            {
                _cluster.Place(copy.Host, _apps[copy.App].Limits);
                copy.Holding = true;
            }
        }

        /// <summary>The steward stops counting the copy (gone from the report, or a start it gave up on).</summary>
        private void Drop(Copy copy, bool arm = true)
        {
            if (copy.Known)
            {
                copy.Known = false;
                _copies[copy.App].Remove(copy);
            }

            if (copy.Holding)
            {
                _cluster.Release(copy.Host, _apps[copy.App].Limits);
                copy.Holding = false;
            }

            if (copy.Container is null)
            {
                _onHost[copy.Host]?.Remove(copy); // never started, or stopped: nothing of it is left on the host
            }

            if (arm)
            {
                Arm(copy.App);
            }
        }

        /// <summary>The copy is gone for good: from the steward's view and from its host.</summary>
        private void Forget(Copy copy)
        {
            Drop(copy);
            _onHost[copy.Host]?.Remove(copy);
            if (copy.Container is { } container)
            {
                _byContainer.Remove((copy.Host, container.Value));
            }
        }
    }
}
