using System.Globalization;
using System.Reflection;
using VolunteerCloud.Api;
using Xunit.Abstractions;

namespace VolunteerCloud.Host.Tests;

/// <summary>
/// vchost as a Docker application (deploy/docker/Dockerfile): the image is built here from a base this machine makes
/// (deploy/docker/make-base.sh, no registry on the internet), and a volunteer runs from it on host 4's engine, next to
/// daemons run as processes — with the engine's socket mounted (the replicas are the container's siblings) and
/// the host's network (gossip, API and the replicas' ports on the host's address), exactly as docs/volunteer.md tells
/// volunteers to run it.
/// </summary>
[Collection("testbed-b")]
public sealed class ContainerImageTests(Testbed testbed, ITestOutputHelper output) : IAsyncLifetime
{
    private const int Port = 18090;
    private const string Tag = "vc/vchost:test";

    public Task InitializeAsync() => Testbed.WhyUnavailable is null ? testbed.ResetAsync() : Task.CompletedTask;

    public Task DisposeAsync() => Task.CompletedTask;

    [TestbedFact]
    public async Task A_volunteer_runs_vchost_from_its_image_beside_its_own_engine_and_serves_a_replica()
    {
        Testbed.Require();
        const int host = 4;
        var engine = testbed.Engine(host);
        var root = Testbed.RepositoryRoot();

        // The image: a publish of the daemon on a base made from this machine's .NET runtimes.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var context = Path.Combine(testbed.State, "vchost-image");
        var configuration = typeof(ContainerImageTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        await Testbed.Run("dotnet", "publish", Path.Combine(root, "src", "VolunteerCloud.Host", "VolunteerCloud.Host.csproj"), "--no-build", "-c", configuration, "-o", context, "-nologo", "-v", "q");
        output.WriteLine(await Testbed.Run(Path.Combine(root, "deploy", "docker", "make-base.sh"), "vc/dotnet-aspnet:10.0", "-H", engine));
        await Testbed.Run("env", "DOCKER_BUILDKIT=0", "docker", "-H", engine, "build", "-q", "--build-arg", "BASE=vc/dotnet-aspnet:10.0",
            "-f", Path.Combine(root, "deploy", "docker", "Dockerfile"), "-t", Tag, context);
        output.WriteLine($"image built in {clock.Elapsed.TotalSeconds:F1} s");

        // Two volunteers as processes and one from the image, as the docs' one-liner runs it; a spare comes later.
        await testbed.StartDaemonAsync(1);
        await testbed.StartDaemonAsync(2);
        var data = Path.Combine(testbed.State, $"h{host}");
        Directory.CreateDirectory(data);
        var id = (await Testbed.Run("docker", "-H", engine, "run", "-d", "--name", "vchost", "--restart", "unless-stopped", "--stop-timeout", "90", "--network", "host",
            "-v", $"{testbed.State}/d{host}.sock:/var/run/docker.sock", "-v", $"{data}:/var/lib/vchost", Tag,
            "--Volunteer:BindAddress", testbed.Address(host), "--Volunteer:Seeds:0", $"{testbed.Address(1)}:7946",
            "--Volunteer:RescheduleGrace", "00:00:01", "--Volunteer:StopGrace", "00:00:02", "--Volunteer:LeaveDrainTimeout", "00:00:20",
            "--Volunteer:AdminTokens:0", Testbed.AdminToken)).Trim();
        try
        {
            await Testbed.Eventually(TimeSpan.FromSeconds(40), async () => (await testbed.Members(1)).Count(m => m.State == "alive") == 3, "host 1 sees the containerised volunteer alive");
            var node = await testbed.Node(host);
            output.WriteLine($"containerised vchost: node {node.Id} at {testbed.Address(host)}, joined {clock.Elapsed.TotalSeconds:F1} s after the build began");

            // Three replicas on three hosts: one of them on the containerised volunteer's engine, beside it.
            await testbed.DeployAsync(1, testbed.HttpApp("web", 3, Port));
            await Testbed.Eventually(TimeSpan.FromSeconds(60), async () => (await testbed.App(1, "web")) is { Running: 3 }, "web has 3 replicas running");
            var siblings = await Testbed.Run("docker", "-H", engine, "ps", "--format", "{{.Names}} {{.Image}}");
            Assert.Contains(testbed.Image, siblings, StringComparison.Ordinal); // the replica is a sibling on the engine, not nested
            await Testbed.Eventually(TimeSpan.FromSeconds(15), () => testbed.Answers(host, Port), $"the replica on host {host} answers HTTP on the host's address");

            // docker stop: SIGTERM to the daemon, which leaves gracefully: its replica moves to the spare, then stops.
            await testbed.StartDaemonAsync(3);
            await Testbed.Run("docker", "-H", engine, "stop", "vchost");
            await Testbed.Eventually(TimeSpan.FromSeconds(30), () => testbed.Answers(3, Port), "the replica moved to the spare host 3 answers HTTP");
            await Testbed.Eventually(TimeSpan.FromSeconds(30), async () => (await testbed.Members(1)).Any(m => m.Address.StartsWith(testbed.Address(host) + ":", StringComparison.Ordinal) && m.State == "left"), "host 1 sees the volunteer leave");
            var left = await Testbed.Run("docker", "-H", engine, "ps", "-q", "--filter", "label=volunteercloud.app");
            Assert.True(left.Trim().Length == 0, $"replicas left running on host {host} after vchost stopped: {left}");
            Assert.Equal(0, int.Parse((await Testbed.Run("docker", "-H", engine, "inspect", "-f", "{{.State.ExitCode}}", id)).Trim(), CultureInfo.InvariantCulture));
        }
        finally
        {
            output.WriteLine(await Testbed.Run("docker", "-H", engine, "logs", "--tail", "30", id));
            await Testbed.Run("docker", "-H", engine, "rm", "-f", id);
        }
    }
}
