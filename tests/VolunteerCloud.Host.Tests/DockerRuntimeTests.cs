using System.Collections.Concurrent;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging.Abstractions;
using VolunteerCloud.Containers;
using VolunteerCloud.Host.Docker;
using ContainerSpec = VolunteerCloud.Containers.ContainerSpec;
using ContainerStatus = VolunteerCloud.Containers.ContainerStatus;
using PortBinding = VolunteerCloud.Containers.PortBinding;

namespace VolunteerCloud.Host.Tests;

/// <summary>The Docker runtime against a real engine (the testbed's host 1), through the Sdk's interface.</summary>
[Collection("testbed-b")]
public sealed class DockerRuntimeTests(Testbed testbed) : IAsyncLifetime
{
    private static readonly ResourceAmount Caps = new(1.0, 256L << 20);
    private readonly BlockingCollection<ContainerEvent> _events = [];
    private DockerClient? _client;

    public async Task InitializeAsync()
    {
        if (Testbed.WhyUnavailable is null)
        {
            await testbed.ResetAsync();
            _client = new DockerClientBuilder().WithEndpoint(new Uri(testbed.Engine(1))).Build();
        }
    }

    public Task DisposeAsync()
    {
        _client?.Dispose();
        return Task.CompletedTask;
    }

    [TestbedFact]
    public async Task A_container_runs_pulled_from_the_registry_with_the_apps_limits_the_volunteers_caps_labels_and_no_privileges()
    {
        Testbed.Require();
        await using var runtime = await Start(new NodeId(5));
        var spec = new ContainerSpec(testbed.Image, new ResourceAmount(0.5, 64L << 20))
        {
            Command = ["httpd", "-f", "-p", "8080", "-h", "/www"],
            Environment = new Dictionary<string, string> { ["GREETING"] = "hi" },
            Ports = [new PortBinding(8080, 18081)],
            App = "web",
            Replica = "web/0.1",
        };

        Assert.True(runtime.TryRun(spec, out var id));
        Assert.Equal(new ResourceAmount(0.5, 64L << 20), runtime.Allocated);
        Assert.Equal(ContainerEventKind.Started, Next().Kind);
        Assert.Equal(ContainerStatus.Running, runtime.GetStatus(id));

        var container = (await _client!.Containers.ListContainersAsync(new ContainersListParameters { All = true })).Single();
        var inspect = await _client.Containers.InspectContainerAsync(container.ID);
        Assert.NotNull(inspect.HostConfig);
        Assert.NotNull(inspect.Config);
        Assert.Equal(64L << 20, inspect.HostConfig!.Memory);
        Assert.Equal(500_000_000, inspect.HostConfig.NanoCPUs);
        Assert.Equal(256, inspect.HostConfig.PidsLimit);
        Assert.False(inspect.HostConfig.Privileged);
        Assert.Equal(["ALL"], inspect.HostConfig.CapDrop);
        Assert.Equal(DockerRuntimeOptions.Capabilities.Order(), inspect.HostConfig.CapAdd.Select(c => c.Replace("CAP_", "", StringComparison.Ordinal)).Order());
        Assert.Contains("no-new-privileges", inspect.HostConfig.SecurityOpt);
        Assert.Equal("bridge", inspect.HostConfig.NetworkMode);
        Assert.Empty(inspect.HostConfig.Binds ?? []);
        Assert.Equal("web", inspect.Config!.Labels[DockerContainerRuntime.AppLabel]);
        Assert.Equal("web/0.1", inspect.Config.Labels[DockerContainerRuntime.ReplicaLabel]);
        Assert.Equal("5", inspect.Config.Labels[DockerContainerRuntime.NodeLabel]);
        Assert.Contains("GREETING=hi", inspect.Config.Env);
        Assert.True(await testbed.Answers(1, 18081));

        Assert.True(runtime.Stop(id));
        Assert.False(runtime.Stop(id)); // already stopping
        var exited = Next();
        Assert.Equal((id, ContainerEventKind.Exited), (exited.Container, exited.Kind));
        Assert.Equal(ResourceAmount.Zero, runtime.Allocated);
        Assert.Empty(await _client.Containers.ListContainersAsync(new ContainersListParameters { All = true }));
    }

    [TestbedFact]
    public async Task Containers_beyond_the_volunteers_caps_are_refused()
    {
        Testbed.Require();
        await using var runtime = await Start(new NodeId(6));
        var big = new ContainerSpec(testbed.Image, new ResourceAmount(0.5, 200L << 20)) { Command = ["sleep", "60"] };
        Assert.True(runtime.TryRun(big, out _));
        Assert.False(runtime.TryRun(big, out _)); // 400 MiB > 256 MiB
        Assert.False(runtime.TryRun(new ContainerSpec(testbed.Image, new ResourceAmount(0.6, 1L << 20)), out _)); // 1.1 CPUs > 1
        Assert.Equal(1, runtime.Count);
        Assert.Equal(ContainerEventKind.Started, Next().Kind);
    }

    [TestbedFact]
    public async Task A_container_that_exits_on_its_own_is_reported_with_its_exit_code_and_removed()
    {
        Testbed.Require();
        await using var runtime = await Start(new NodeId(7));
        Assert.True(runtime.TryRun(new ContainerSpec(testbed.Image, new ResourceAmount(0.1, 16L << 20)) { Command = ["sh", "-c", "sleep 1; exit 7"] }, out var id));
        Assert.Equal(ContainerEventKind.Started, Next().Kind);
        var exited = Next();
        Assert.Equal((id, ContainerEventKind.Exited, 7), (exited.Container, exited.Kind, exited.ExitCode));
        await Testbed.Eventually(TimeSpan.FromSeconds(10), async () => (await _client!.Containers.ListContainersAsync(new ContainersListParameters { All = true })).Count == 0, "the exited container is removed");
    }

    [TestbedFact]
    public async Task An_image_that_cannot_be_pulled_fails_the_start()
    {
        Testbed.Require();
        await using var runtime = await Start(new NodeId(8));
        Assert.True(runtime.TryRun(new ContainerSpec($"{testbed.Registry}/vc/nothing:1", new ResourceAmount(0.1, 16L << 20)), out var id));
        var failed = Next();
        Assert.Equal((id, ContainerEventKind.Failed), (failed.Container, failed.Kind));
        Assert.Equal(ResourceAmount.Zero, runtime.Allocated);
    }

    [TestbedFact]
    public async Task Containers_left_by_a_previous_run_of_the_node_are_removed_at_start_and_others_are_left_alone()
    {
        Testbed.Require();
        await using (var first = await Start(new NodeId(9)))
        {
            Assert.True(first.TryRun(new ContainerSpec(testbed.Image, new ResourceAmount(0.1, 16L << 20)) { Command = ["sleep", "600"] }, out _));
            Assert.Equal(ContainerEventKind.Started, Next().Kind);
        } // disposed without stopping: as if the daemon had been killed

        var other = await _client!.Containers.CreateContainerAsync(new CreateContainerParameters { Image = testbed.Image, Cmd = ["sleep", "600"], Labels = new Dictionary<string, string> { [DockerContainerRuntime.NodeLabel] = "10" } });
        await using var second = await Start(new NodeId(9));
        var left = await _client.Containers.ListContainersAsync(new ContainersListParameters { All = true });
        Assert.Equal([other.ID], left.Select(c => c.ID));
    }

    [TestbedFact]
    public async Task With_a_health_check_a_container_counts_as_started_once_healthy_and_is_stopped_when_it_turns_unhealthy()
    {
        Testbed.Require();
        await using var runtime = await Start(new NodeId(11));
        var check = new VolunteerCloud.Apps.HealthCheckSpec(["CMD-SHELL", "test -f /www/ok"]) { Interval = TimeSpan.FromMilliseconds(500), Timeout = TimeSpan.FromSeconds(2), Retries = 1, StartPeriod = TimeSpan.FromSeconds(5) };
        var spec = new ContainerSpec(testbed.Image, new ResourceAmount(0.1, 16L << 20))
        {
            // healthy after 2 s, unhealthy 4 s later
            Command = ["sh", "-c", "sleep 2; busybox touch /www/ok; sleep 4; busybox rm /www/ok; sleep 600"],
            HealthCheck = check,
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(runtime.TryRun(spec, out var id));
        var started = Next();
        Assert.Equal((id, ContainerEventKind.Started), (started.Container, started.Kind));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"started after {clock.Elapsed}, before its check could pass");
        var exited = Next();
        Assert.Equal((id, ContainerEventKind.Exited, "unhealthy"), (exited.Container, exited.Kind, exited.Reason));
        Assert.Equal(ResourceAmount.Zero, runtime.Allocated);
    }

    [TestbedFact]
    public async Task A_container_whose_health_check_never_passes_fails_to_start()
    {
        Testbed.Require();
        await using var runtime = await Start(new NodeId(12));
        var spec = new ContainerSpec(testbed.Image, new ResourceAmount(0.1, 16L << 20))
        {
            Command = ["sleep", "600"],
            HealthCheck = new VolunteerCloud.Apps.HealthCheckSpec(["CMD-SHELL", "exit 1"]) { Interval = TimeSpan.FromMilliseconds(500), Timeout = TimeSpan.FromSeconds(1), Retries = 1 },
        };
        Assert.True(runtime.TryRun(spec, out var id));
        var failed = Next();
        Assert.Equal((id, ContainerEventKind.Failed), (failed.Container, failed.Kind));
        Assert.Contains("unhealthy", failed.Reason, StringComparison.Ordinal);
        await Testbed.Eventually(TimeSpan.FromSeconds(10), async () => (await _client!.Containers.ListContainersAsync(new ContainersListParameters { All = true })).Count == 0, "the failed container is removed");
    }

    [TestbedFact]
    public async Task An_image_larger_than_the_volunteers_disk_share_is_removed_and_the_start_fails()
    {
        Testbed.Require();
        try
        {
            await _client!.Images.DeleteImageAsync(testbed.Image, new ImageDeleteParameters { Force = true });
        }
        catch (DockerImageNotFoundException)
        {
        }

        var file = Path.Combine(testbed.State, "pulled-images-13.txt");
        await using var runtime = await Start(new NodeId(13), diskBytes: 1L << 20, stateFile: file); // the image is about 2 MB
        Assert.True(runtime.TryRun(new ContainerSpec(testbed.Image, new ResourceAmount(0.1, 16L << 20)) { Command = ["sleep", "600"] }, out var id));
        var failed = Next();
        Assert.Equal((id, ContainerEventKind.Failed), (failed.Container, failed.Kind));
        Assert.Contains("disk share", failed.Reason, StringComparison.Ordinal);
        await Assert.ThrowsAsync<DockerImageNotFoundException>(() => _client!.Images.InspectImageAsync(testbed.Image));
        Assert.Empty(await File.ReadAllLinesAsync(file));

        await using var roomy = await Start(new NodeId(14), diskBytes: 64L << 20, stateFile: file);
        Assert.True(roomy.TryRun(new ContainerSpec(testbed.Image, new ResourceAmount(0.1, 16L << 20)) { Command = ["sleep", "600"] }, out _));
        Assert.Equal(ContainerEventKind.Started, Next().Kind);
        Assert.Equal([testbed.Image], await File.ReadAllLinesAsync(file)); // remembered as pulled by the daemon
    }

    [TestbedFact]
    public async Task A_read_only_root_file_system_is_enforced_by_the_engine()
    {
        Testbed.Require();
        await using var runtime = await Start(new NodeId(15));
        Assert.True(runtime.TryRun(new ContainerSpec(testbed.Image, new ResourceAmount(0.1, 16L << 20))
        {
            Command = ["sh", "-c", "sleep 1; if echo x > /www/x; then exit 0; else exit 3; fi"],
            ReadOnlyRootFilesystem = true,
        }, out var id));
        Assert.Equal(ContainerEventKind.Started, Next().Kind);
        var inspect = await _client!.Containers.InspectContainerAsync((await _client.Containers.ListContainersAsync(new ContainersListParameters { All = true })).Single().ID);
        Assert.True(inspect.HostConfig!.ReadonlyRootfs);
        var exited = Next();
        Assert.Equal((id, ContainerEventKind.Exited, 3), (exited.Container, exited.Kind, exited.ExitCode)); // the write failed
    }

    private async Task<DockerContainerRuntime> Start(NodeId node, long diskBytes = long.MaxValue, string? stateFile = null)
    {
        var runtime = new DockerContainerRuntime(_client!, new DockerRuntimeOptions(node, Caps, 256, TimeSpan.FromSeconds(1), null, diskBytes, stateFile), _events.Add, NullLogger.Instance);
        await runtime.StartAsync(CancellationToken.None);
        return runtime;
    }

    private ContainerEvent Next() =>
        _events.TryTake(out var e, TimeSpan.FromSeconds(60)) ? e : throw new TimeoutException("no container event within 60 s");
}
