using VolunteerCloud.Containers;
using VolunteerCloud.Simulator.Churn;
using VolunteerCloud.Simulator.Containers;
using VolunteerCloud.Wire;
using FsCheck.Xunit;

namespace VolunteerCloud.Simulator.Tests.Containers;

/// <summary>A node that runs what the test tells it to and records its container events with their times.</summary>
internal sealed class ContainerNode : INode
{
    public List<(TimeSpan At, ContainerEvent Event)> Events { get; } = [];

    public Action<ContainerEvent>? OnEvent { get; init; }

    public void OnStart(NodeContext context)
    {
    }

    public void OnMessage(NodeContext context, NodeId from, InboundMessage message)
    {
    }

    public void OnTimer(NodeContext context, TimerTag tag)
    {
    }

    public void OnContainerEvent(NodeContext context, ContainerEvent containerEvent)
    {
        Events.Add((context.TimeProvider.GetElapsedTime(0), containerEvent));
        OnEvent?.Invoke(containerEvent);
    }
}

public sealed class SimulatedContainersTests
{
    private const long Mb = 1_000_000;
    private static readonly ResourceAmount Small = new(0.5, 256L << 20);

    private static ContainerSimulationOptions Options(SimulatedHost? host = null) => new()
    {
        Images =
        {
            ["web:1"] = new SimulatedImage(100 * Mb) { StartSeconds = DurationDistribution.Empirical([1.0, 1.0]) },
            ["job:1"] = new SimulatedImage(10 * Mb) { StartSeconds = DurationDistribution.Empirical([2.0, 2.0]), RunTime = TimeSpan.FromMinutes(5) },
            ["flaky:1"] = new SimulatedImage(10 * Mb) { MeanSecondsToCrash = 60 },
            ["big:1"] = new SimulatedImage(600 * Mb),
        },
        Hosts = _ => host ?? new SimulatedHost(new ResourceAmount(2, 1L << 30), 1000 * Mb, 100e6),
    };

    private static (Simulation Simulation, SimulatedContainers Containers, NodeId Node, ContainerNode Probe) Setup(SimulatedHost? host = null, ulong seed = 1)
    {
        var simulation = new Simulation(new SimulationOptions { Seed = seed });
        var containers = simulation.EnableContainers(Options(host));
        var probe = new ContainerNode();
        var node = simulation.AddNode(probe);
        simulation.RunFor(TimeSpan.FromMilliseconds(1));
        return (simulation, containers, node, probe);
    }

    private static ContainerId Run(Simulation simulation, NodeId node, string image, ResourceAmount? limits = null)
    {
        ContainerId id = default;
        var admitted = false;
        simulation.ScheduleOnNode(TimeSpan.Zero, node, c => admitted = c.Containers.TryRun(new ContainerSpec(image, limits ?? Small), out id));
        simulation.RunFor(TimeSpan.Zero);
        Assert.True(admitted, $"{image} was not admitted");
        return id;
    }

    [Fact]
    public void The_first_start_pulls_the_image_over_the_hosts_bandwidth_and_later_starts_use_the_cache()
    {
        var (simulation, containers, node, probe) = Setup();
        using (simulation)
        {
            var t0 = simulation.Now;
            var first = Run(simulation, node, "web:1");
            Assert.Equal(ContainerStatus.Starting, containers.RuntimeOf(node).GetStatus(first));
            simulation.RunFor(TimeSpan.FromSeconds(30));

            // 100 MB at 100 Mbit/s = 8 s, + 0.5 s pull overhead, + 1 s start.
            var started = probe.Events.Single();
            Assert.Equal(ContainerEventKind.Started, started.Event.Kind);
            Assert.Equal(TimeSpan.FromSeconds(9.5), started.At - t0);
            Assert.True(containers.HasImage(node, "web:1"));

            var t1 = simulation.Now;
            var second = Run(simulation, node, "web:1");
            simulation.RunFor(TimeSpan.FromSeconds(30));
            Assert.Equal(TimeSpan.FromSeconds(1), probe.Events[^1].At - t1);
            Assert.Equal(1, containers.Statistics.Pulls);
            Assert.Equal(1, containers.Statistics.CacheHits);
            Assert.Equal(100 * Mb, containers.Statistics.BytesPulled);
            Assert.Equal(2, containers.RunningOn(node));
            Assert.NotEqual(first, second);
        }
    }

    [Fact]
    public void Pulls_on_one_host_are_serialised()
    {
        var (simulation, _, node, probe) = Setup();
        using (simulation)
        {
            var t0 = simulation.Now;
            Run(simulation, node, "web:1");
            Run(simulation, node, "job:1");
            simulation.RunFor(TimeSpan.FromSeconds(30));
            // job:1 waits for web:1's 8.5 s pull, then 0.8 s + 0.5 s of its own, then starts in 2 s.
            Assert.Equal([9.5, 11.8], probe.Events.Select(e => Math.Round((e.At - t0).TotalSeconds, 6)).Order());
        }
    }

    [Fact]
    public void Containers_exit_with_codes_for_stop_crash_and_completion()
    {
        var (simulation, containers, node, probe) = Setup();
        using (simulation)
        {
            var web = Run(simulation, node, "web:1");
            var job = Run(simulation, node, "job:1");
            var flaky = Run(simulation, node, "flaky:1");
            simulation.RunFor(TimeSpan.FromSeconds(20));
            var stopped = false;
            simulation.ScheduleOnNode(TimeSpan.Zero, node, c => stopped = c.Containers.Stop(web));
            simulation.RunFor(TimeSpan.FromMilliseconds(100));
            Assert.True(stopped);
            Assert.Equal(ContainerStatus.Stopping, containers.RuntimeOf(node).GetStatus(web));
            simulation.RunFor(TimeSpan.FromHours(1));

            ContainerEvent Exit(ContainerId id) => probe.Events.Single(e => e.Event.Container == id && e.Event.Kind == ContainerEventKind.Exited).Event;
            Assert.Equal((143, "stopped"), (Exit(web).ExitCode, Exit(web).Reason));
            Assert.Equal((0, "completed"), (Exit(job).ExitCode, Exit(job).Reason));
            Assert.Equal((1, "crashed"), (Exit(flaky).ExitCode, Exit(flaky).Reason)); // P(no crash in 1 h) = e^-60
            Assert.Equal(0, containers.CountOn(node));
            Assert.Equal(ResourceAmount.Zero, containers.RuntimeOf(node).Allocated);
        }
    }

    [Fact]
    public void Unknown_images_and_full_disks_fail_and_release_their_resources()
    {
        var (simulation, containers, node, probe) = Setup(new SimulatedHost(new ResourceAmount(4, 4L << 30), 650 * Mb, 1e9));
        using (simulation)
        {
            var missing = Run(simulation, node, "nope:latest");
            simulation.RunFor(TimeSpan.FromSeconds(5));
            Assert.Equal((ContainerEventKind.Failed, "image not found"), (probe.Events[^1].Event.Kind, probe.Events[^1].Event.Reason));
            Assert.Equal(missing, probe.Events[^1].Event.Container);

            var web = Run(simulation, node, "web:1");    // 100 MB on disk
            simulation.RunFor(TimeSpan.FromSeconds(5));
            Run(simulation, node, "big:1");              // 600 MB: does not fit next to web:1, which is in use
            simulation.RunFor(TimeSpan.FromSeconds(5));
            Assert.Equal("no space left on device", probe.Events[^1].Event.Reason);

            simulation.ScheduleOnNode(TimeSpan.Zero, node, c => c.Containers.Stop(web));
            simulation.RunFor(TimeSpan.FromSeconds(5));
            Run(simulation, node, "big:1");              // now web:1 is unused and evicted
            simulation.RunFor(TimeSpan.FromSeconds(30));
            Assert.Equal(ContainerEventKind.Started, probe.Events[^1].Event.Kind);
            Assert.False(containers.HasImage(node, "web:1"));
            Assert.Equal(1, containers.Statistics.Evictions);
            Assert.Equal(600 * Mb, containers.DiskUsedOn(node));
            Assert.Equal(Small, containers.RuntimeOf(node).Allocated);
        }
    }

    [Fact]
    public void A_host_that_leaves_loses_its_containers_and_its_next_life_hears_nothing_of_them_but_keeps_its_images()
    {
        var (simulation, containers, node, probe) = Setup();
        using (simulation)
        {
            Run(simulation, node, "web:1");
            Run(simulation, node, "job:1");
            simulation.RunFor(TimeSpan.FromSeconds(20));
            Run(simulation, node, "flaky:1"); // still pulling when the host goes
            simulation.Crash(node);
            Assert.Equal(0, containers.CountOn(node));
            Assert.Equal(3, containers.Statistics.LostToHostDeparture);

            var next = new ContainerNode();
            simulation.Restart(node, next);
            simulation.RunFor(TimeSpan.FromHours(1));
            Assert.Empty(next.Events);                                   // no exit of job:1, no start of flaky:1
            Assert.True(containers.HasImage(node, "web:1"));             // completed pulls survive
            Assert.False(containers.HasImage(node, "flaky:1"));          // the pull in progress did not
            Assert.Equal(ResourceAmount.Zero, containers.RuntimeOf(node).Allocated);

            var t = simulation.Now;
            Run(simulation, node, "web:1");
            simulation.RunFor(TimeSpan.FromSeconds(30));
            Assert.Equal(TimeSpan.FromSeconds(1), next.Events.Single().At - t); // cached: no pull
        }
    }

    [Property(MaxTest = 100, Replay = "(4242,17)")]
    public void Admitted_limits_never_exceed_the_caps_and_match_the_live_containers(ulong seed, byte[] script)
    {
        // A model of the live containers, kept from the runtime's answers and events: Allocated must always equal
        // the sum of their limits and fit the caps, and each image's user count must equal its live containers.
        var host = new SimulatedHost(new ResourceAmount(2, 2L << 30), 10_000 * Mb, 50e6);
        using var simulation = new Simulation(new SimulationOptions { Seed = seed });
        var containers = simulation.EnableContainers(Options(host));
        var live = new Dictionary<ContainerId, ContainerSpec>();
        ContainerNode NewNode() => new() { OnEvent = e => { if (e.Kind != ContainerEventKind.Started) { live.Remove(e.Container); } } };
        var node = simulation.AddNode(NewNode());
        simulation.RunFor(TimeSpan.FromMilliseconds(1));
        var images = new[] { "web:1", "job:1", "flaky:1", "missing" };
        foreach (var step in script)
        {
            var runtime = containers.RuntimeOf(node);
            switch (step % 8)
            {
                case < 5:
                    var spec = new ContainerSpec(images[step / 64], new ResourceAmount(0.25 * (1 + (step % 4)), (128L << 20) * (1 + (step / 8 % 8))));
                    var fits = (runtime.Allocated + spec.Limits).FitsWithin(runtime.Capacity);
                    var admitted = false;
                    simulation.ScheduleOnNode(TimeSpan.Zero, node, c =>
                    {
                        admitted = c.Containers.TryRun(spec, out var id);
                        if (admitted)
                        {
                            live.Add(id, spec);
                        }
                    });
                    simulation.RunFor(TimeSpan.Zero);
                    Assert.Equal(fits, admitted);
                    break;
                case 5:
                    // Stop any live container, starting or running.
                    if (live.Count > 0)
                    {
                        var victim = live.Keys.OrderBy(k => k.Value).ElementAt(step / 8 % live.Count);
                        simulation.ScheduleOnNode(TimeSpan.Zero, node, c => c.Containers.Stop(victim));
                        simulation.RunFor(TimeSpan.Zero);
                    }

                    break;
                case 6:
                    simulation.Crash(node);
                    live.Clear();
                    simulation.Restart(node, NewNode());
                    simulation.RunFor(TimeSpan.Zero);
                    break;
                default:
                    simulation.RunFor(TimeSpan.FromSeconds(step % 50));
                    break;
            }

            Check();
        }

        simulation.RunFor(TimeSpan.FromHours(2));
        Check();

        void Check()
        {
            var allocated = containers.RuntimeOf(node).Allocated;
            var expected = live.Values.Aggregate(ResourceAmount.Zero, (sum, s) => sum + s.Limits);
            Assert.True(allocated.FitsWithin(host.Capacity), $"allocated {allocated} exceeds {host.Capacity} (seed {seed})");
            Assert.Equal(expected.MemoryBytes, allocated.MemoryBytes);
            Assert.Equal(expected.Cpus, allocated.Cpus, 1e-9);
            Assert.Equal(live.Count, containers.CountOn(node));
            foreach (var image in images.Take(3))
            {
                var users = containers.ImageUsersOn(node, image);
                var holders = live.Values.Count(s => s.Image == image);
                Assert.True(users == holders || (users == -1 && holders == 0), $"{image}: {users} users, {holders} live containers (seed {seed})");
            }
        }
    }

    [Fact]
    public void A_container_that_fails_does_not_release_an_image_another_container_uses()
    {
        // A tiny disk: big:1 cannot be pulled. A stop of the failed container must not touch web:1's user count.
        var (simulation, containers, node, _) = Setup(new SimulatedHost(new ResourceAmount(4, 4L << 30), 200 * Mb, 1e9));
        using (simulation)
        {
            Run(simulation, node, "web:1");
            var failing = Run(simulation, node, "nope:1");
            simulation.ScheduleOnNode(TimeSpan.FromMilliseconds(50), node, c => c.Containers.Stop(failing));
            simulation.RunFor(TimeSpan.FromSeconds(30));
            Assert.Equal(1, containers.ImageUsersOn(node, "web:1"));
            Run(simulation, node, "big:1"); // 600 MB > 200 MB: refused without evicting anything
            simulation.RunFor(TimeSpan.FromSeconds(5));
            Assert.True(containers.HasImage(node, "web:1"));
            Assert.Equal(0, containers.Statistics.Evictions);
        }
    }

    [Fact]
    public void Bad_options_are_refused_with_clear_errors()
    {
        using var simulation = new Simulation(new SimulationOptions());
        var error = Assert.Throws<ArgumentException>(() => simulation.EnableContainers(new ContainerSimulationOptions
        {
            Images = { ["x"] = new SimulatedImage(-1) },
        }));
        Assert.Contains("negative size", error.Message);
        simulation.EnableContainers(new ContainerSimulationOptions());
        Assert.Throws<InvalidOperationException>(() => simulation.EnableContainers(new ContainerSimulationOptions()));
    }
}
