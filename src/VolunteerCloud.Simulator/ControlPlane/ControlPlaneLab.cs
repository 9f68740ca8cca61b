using VolunteerCloud.Availability;
using System.Globalization;
using VolunteerCloud.Apps;
using VolunteerCloud.Containers;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Membership;
using VolunteerCloud.Placement;
using VolunteerCloud.Simulator.Churn;
using VolunteerCloud.Simulator.Containers;
using VolunteerCloud.Simulator.Population;

namespace VolunteerCloud.Simulator.ControlPlane;

/// <summary>One availability-under-churn run: who, how many, which strategies, for how long.</summary>
public sealed record ControlPlaneScenario
{
    /// <summary>Volunteers. Default 2 000.</summary>
    public int Hosts { get; init; } = 2_000;

    /// <summary>
    /// Churn. Default SETI@home with owner-reclaim notices for half of the departures, 30 s to 2 min ahead (an
    /// assumption: the daemon sees its owner return and yields the machine shortly after).
    /// </summary>
    public IChurnModel Churn { get; init; } = new AvailabilityModel("seti", ChurnPresets.Seti.Up, ChurnPresets.Seti.Down)
    {
        Reclaim = new ReclaimNotices(0.5, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)),
    };

    /// <summary>Apps deployed. Default 200.</summary>
    public int Apps { get; init; } = 200;

    /// <summary>Replicas per app. Default 3.</summary>
    public int Replicas { get; init; } = 3;

    /// <summary>An availability target per app (the replication handler derives k from it), or null.</summary>
    public double? AvailabilityTarget { get; init; }

    /// <summary>Limits of each replica. Default 0.5 CPU, 256 MiB.</summary>
    public ResourceAmount Limits { get; init; } = new(0.5, 256L << 20);

    /// <summary>Makes each node's placement strategy. Default power of two choices.</summary>
    public Func<IPlacementStrategy> Placement { get; init; } = () => new PowerOfChoicesPlacement(2);

    /// <summary>Makes each node's churn handler. Default reactive.</summary>
    public Func<IChurnHandler> ChurnHandler { get; init; } = () => new ReactiveChurnHandler();

    /// <summary>How stewards predict a host's residual uptime (the proactive handler's migrations). Default SETI@home's population model.</summary>
    public ResidualUptimeEstimator Survival { get; init; } = new();

    /// <summary>The Deis-like baseline: one fixed controller (node 0, which never churns on its own) stewards every app.</summary>
    public bool PinnedController { get; init; }

    /// <summary>Crash the controller (node 0) at this time and keep it down, or null.</summary>
    public TimeSpan? CrashControllerAt { get; init; }

    /// <summary>Crash this share of the live hosts at <see cref="MassFailureAt"/> (they return with their churn later). Default 0.</summary>
    public double MassFailureShare { get; init; }

    /// <summary>When the mass failure happens.</summary>
    public TimeSpan MassFailureAt { get; init; } = TimeSpan.FromHours(12);

    /// <summary>Simulated time. Default 7 days.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromDays(7);

    /// <summary>How often app state is sampled. Default 1 min.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Membership detection delay (modelled). Default 15 s.</summary>
    public TimeSpan DetectionDelay { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The run's seed.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Called at every sample with the simulated time reached and the events processed so far (progress reporting; never changes the run).</summary>
    public Action<TimeSpan, long>? OnSample { get; init; }

    /// <summary>Messages between real control-plane nodes (default), or the modelled control plane for large populations.</summary>
    public ControlPlaneFidelity Fidelity { get; init; } = ControlPlaneFidelity.Protocol;

    /// <summary>Control-plane options.</summary>
    /// <remarks>Default: anti-entropy every 30 s and updates pushed 2 × ⌈log10(n + 1)⌉ times (anti-entropy repairs what gossip misses).</remarks>
    public ControlPlaneOptions Options { get; init; } = new() { State = new ReplicatedStateOptions { AntiEntropyInterval = TimeSpan.FromSeconds(30), RetransmitMultiplier = 2 } };
}

/// <summary>What one run measured.</summary>
public sealed record ControlPlaneResult(
    ControlPlaneScenario Scenario,
    double MeanAvailability,
    double P5Availability,
    double MeanAnyAvailability,
    double MeanRestoreSeconds,
    double P95RestoreSeconds,
    int Restores,
    long ReplicaStarts,
    double ControlMessagesPerNodeSecond,
    double ControlBytesPerNodeSecond,
    long InvariantViolations,
    IReadOnlyList<string> ViolationExamples,
    int AppsLost,
    double WholeAgainSecondsAfterMassFailure,
    long Events,
    double[] AvailabilityOverTime)
{
    /// <summary>Every restore's duration in seconds (from the first sample an app was short to the first it was whole), sorted.</summary>
    public double[] RestoreSeconds { get; init; } = [];
}

/// <summary>
/// Runs the control plane on simulated volunteers: churn from the model, modelled membership, simulated containers,
/// apps deployed through a live node, and invariant checkers at every sample.
/// </summary>
public static class ControlPlaneLab
{
    /// <summary>The image every app runs.</summary>
    internal const string Image = "app:1";

    /// <summary>The run's simulation: the seed's volunteer population on simulated engines, one app image (50 MB).</summary>
    internal static (Simulation Simulation, IReadOnlyList<VolunteerProfile> Profiles) NewSimulation(ControlPlaneScenario scenario)
    {
        var simulation = new Simulation(new SimulationOptions { Seed = scenario.Seed });
        var profiles = VolunteerPopulation.GenerateMany(scenario.Seed, scenario.Hosts);
        simulation.Network.RegionLatency = null;
        simulation.EnableContainers(new ContainerSimulationOptions
        {
            Images = { [Image] = new SimulatedImage(50_000_000) },
            Hosts = id => profiles[id.Value].ToSimulatedHost(),
        });
        return (simulation, profiles);
    }

    /// <summary>Runs one scenario.</summary>
    public static ControlPlaneResult Run(ControlPlaneScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (scenario.Fidelity == ControlPlaneFidelity.Modelled)
        {
            return ModelledControlPlane.Run(scenario);
        }

        var (created, profiles) = NewSimulation(scenario);
        using var simulation = created;
        var hub = new OracleMembershipHub(simulation, scenario.DetectionDelay);
        // Only each node's current incarnation is kept: a crashed one's counts are final, so they are added up when
        // its successor is created and its state (every host's report, some MB at 2 000 hosts) can go.
        var current = new ControlPlaneNode?[scenario.Hosts];
        long messages = 0, bytes = 0, starts = 0;
        void Count(ControlPlaneNode node)
        {
            messages += node.State.MessagesSent + node.Counters.CommandsSent;
            bytes += node.State.BytesSent + (node.Counters.CommandsSent * 64);
            starts += node.Counters.StartsRequested;
        }

        var options = scenario.Options;
        if (scenario.PinnedController)
        {
            options = options.Clone();
            options.PinnedController = new NodeId(0);
        }

        ControlPlaneNode Create(NodeId id)
        {
            if (current[id.Value] is { } previous)
            {
                Count(previous);
            }

            return current[id.Value] = new ControlPlaneNode(id, hub.Create(id), scenario.Placement(), scenario.ChurnHandler(), options, scenario.Survival);
        }

        for (var i = 0; i < scenario.Hosts; i++)
        {
            var p = profiles[i];
            hub.Register(new NodeId(i), new MemberMetadata((ushort)p.Region, (int)(p.Caps.Cpus * 1000), (int)(p.Caps.MemoryBytes >> 20)));
        }

        for (var i = 0; i < scenario.Hosts; i++)
        {
            simulation.AddNode(Create(new NodeId(i)), (ushort)profiles[i].Region);
        }

        var driver = new ChurnDriver(simulation, scenario.Churn, Create);
        driver.HostChanged += (id, up) =>
        {
            if (up)
            {
                hub.Up(id);
            }
            else
            {
                hub.Down(id);
            }
        };
        driver.ReclaimNoticed += (id, _) => simulation.ScheduleOnNode(TimeSpan.Zero, id, context =>
        {
            if (simulation.GetNode(id) is ControlPlaneNode node)
            {
                node.AnnounceLeaving(context);
            }
        });
        for (var i = 1; i < scenario.Hosts; i++)
        {
            driver.Attach(new NodeId(i)); // node 0 is the always-on entry point (and the baseline's controller)
        }

        // Deploy every app through node 0, a minute in: acknowledged once node 0 has written it.
        var apps = Enumerable.Range(0, scenario.Apps).Select(a => new AppSpec($"app{a:D4}", Image)
        {
            Replicas = scenario.Replicas,
            Limits = scenario.Limits,
            AvailabilityTarget = scenario.AvailabilityTarget,
        }).ToList();
        simulation.ScheduleOnNode(TimeSpan.FromMinutes(1), new NodeId(0), context =>
        {
            var entry = (ControlPlaneNode)simulation.GetNode(new NodeId(0))!;
            foreach (var app in apps)
            {
                entry.Deploy(context, app);
            }
        });

        if (scenario.CrashControllerAt is { } crashAt)
        {
            simulation.ScheduleAt(crashAt, () =>
            {
                if (simulation.IsUp(new NodeId(0)))
                {
                    simulation.Crash(new NodeId(0));
                    hub.Down(new NodeId(0));
                }
            });
        }

        var massFailureDone = TimeSpan.MinValue;
        if (scenario.MassFailureShare > 0)
        {
            simulation.ScheduleAt(scenario.MassFailureAt, () =>
            {
                var random = Randomness.SplittableRandom.ForStream(scenario.Seed, "mass-failure");
                for (var i = 1; i < scenario.Hosts; i++)
                {
                    var id = new NodeId(i);
                    if (simulation.IsUp(id) && random.NextBoolean(scenario.MassFailureShare))
                    {
                        simulation.Crash(id);
                        hub.Down(id);
                        simulation.Schedule(TimeSpan.FromMinutes(5), () =>
                        {
                            if (!simulation.IsUp(id))
                            {
                                simulation.Restart(id, Create(id));
                                hub.Up(id);
                            }
                        });
                    }
                }

                massFailureDone = simulation.Now;
            });
        }

        // Sampling: per app, slots with a running copy on an up host (the truth), and the invariants.
        var checker = new InvariantChecker(simulation, apps, scenario);
        var sampler = new AvailabilitySampler(apps.Count);
        var slots = new int[apps.Count];
        for (var t = AvailabilitySampler.Start; t <= scenario.Duration; t += scenario.SampleInterval)
        {
            simulation.RunUntil(t);
            scenario.OnSample?.Invoke(t, simulation.Statistics.EventsProcessed);
            var running = checker.Sample();
            for (var a = 0; a < apps.Count; a++)
            {
                slots[a] = running.GetValueOrDefault(apps[a].Name);
            }

            sampler.Record(t, slots, a => InvariantChecker.DesiredReplicas(apps[a]), massFailureDone);
        }

        foreach (var node in current)
        {
            if (node is not null)
            {
                Count(node);
            }
        }

        var nodeSeconds = scenario.Hosts * scenario.Duration.TotalSeconds;
        return sampler.Result(scenario, starts, messages / nodeSeconds, bytes / nodeSeconds, checker.Violations, checker.Examples, checker.AppsLost, simulation.Statistics.EventsProcessed);
    }

    /// <summary>Checks the control plane's invariants against the simulator's truth at every sample.</summary>
    private sealed class InvariantChecker(Simulation simulation, List<AppSpec> apps, ControlPlaneScenario scenario)
    {
        private long _samples;

        public long Violations { get; private set; }

        public List<string> Examples { get; } = [];

        public int AppsLost { get; private set; }

        /// <summary>An app is whole when its spec's replicas all run (with a target, the handler may keep more).</summary>
        public static int DesiredReplicas(AppSpec app) => app.Replicas;

        /// <summary>Slots with a running copy per app; records violations.</summary>
        public Dictionary<string, int> Sample()
        {
            var slots = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
            var containers = simulation.Containers!;
            var live = _samples % 10 == 0 ? new List<ControlPlaneNode>(simulation.NodeCount) : null; // every 10th sample: who holds each app
            for (var i = 0; i < simulation.NodeCount; i++)
            {
                var id = new NodeId(i);
                if (simulation.GetNode(id) is not ControlPlaneNode node)
                {
                    continue;
                }

                var appsHere = new HashSet<string>(StringComparer.Ordinal);
                foreach (var record in node.LocalReplicas)
                {
                    // Invariant: never more than one copy of an app per host.
                    if (!appsHere.Add(record.Replica.App))
                    {
                        Violate($"{simulation.Now}: host {id} runs two copies of {record.Replica.App}");
                    }

                    if (record.Running)
                    {
                        (slots.TryGetValue(record.Replica.App, out var set) ? set : slots[record.Replica.App] = []).Add(record.Replica.Slot);
                    }
                }

                // Invariant: what a host reports running is what its engine runs (no replica on a dead host counted as running).
                if (node.LocalReplicas.Count(r => r.Running) > containers.StartedOn(id))
                {
                    Violate($"{simulation.Now}: host {id} reports more running copies than its engine runs");
                }

                live?.Add(node);
            }

            // Invariant: an acknowledged deployment is never lost while a node that knew it is alive (node 0 wrote
            // them all; every live node learns them by gossip and anti-entropy).
            if (_samples++ % 10 == 0 && simulation.Now > TimeSpan.FromMinutes(30))
            {
                AppsLost = apps.Count(a => !live!.Exists(node => node.KnowsApp(a.Name)));
                if (AppsLost > 0)
                {
                    Violate($"{simulation.Now}: {AppsLost} acknowledged apps are known to no live node");
                }
            }

            return slots.ToDictionary(s => s.Key, s => s.Value.Count, StringComparer.Ordinal);
        }

        private void Violate(string what)
        {
            Violations++;
            if (Examples.Count < 10)
            {
                Examples.Add(what + string.Create(CultureInfo.InvariantCulture, $" (seed {scenario.Seed})"));
            }
        }
    }
}
