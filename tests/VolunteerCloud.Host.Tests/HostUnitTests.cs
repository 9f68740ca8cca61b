using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Host.Api;
using VolunteerCloud.Host.Docker;
using VolunteerCloud.Host.Runtime;
using VolunteerCloud.Host.Transport;
using VolunteerCloud.Membership;
using VolunteerCloud.Placement;

namespace VolunteerCloud.Host.Tests;

public sealed class HostUnitTests
{
    [Fact]
    public void Bad_configuration_is_refused_with_every_problem_named()
    {
        var options = new VolunteerOptions { CpuShare = 1.5, Seeds = ["nohost"], GossipPort = 7947, ApiPort = 7947, MemoryMegabytes = 1 };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("Volunteer:CpuShare", error.Message, StringComparison.Ordinal);
        Assert.Contains("Volunteer:Seeds entry 'nohost'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Volunteer:GossipPort", error.Message, StringComparison.Ordinal);
        Assert.Contains("Volunteer:MemoryMegabytes", error.Message, StringComparison.Ordinal);
        new VolunteerOptions().Validate(); // the defaults are valid
    }

    [Fact]
    public void Strategies_are_chosen_by_name_and_an_unknown_name_is_refused_listing_the_known_ones()
    {
        var options = new VolunteerOptions { Membership = "gossip", Placement = "best", ChurnHandler = "lazy", MigrateBelowResidualHours = -1 };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("Volunteer:Membership 'gossip' is not a membership protocol; choose one of: swim, swim-no-lifeguard, heartbeat, heartbeat-phi.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Volunteer:Placement 'best' is not a placement strategy; choose one of: random, round-robin, least-loaded, power-of-2", error.Message, StringComparison.Ordinal);
        Assert.Contains("Volunteer:ChurnHandler 'lazy' is not a churn handler; choose one of: reactive, replication, proactive.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Volunteer:MigrateBelowResidualHours", error.Message, StringComparison.Ordinal);

        // What the daemon builds from the names: the strategies its node runs.
        using var app = VolunteerHost.Build(["--Volunteer:Membership", "heartbeat-phi", "--Volunteer:Placement", "bin-pack", "--Volunteer:ChurnHandler", "replication", "--Volunteer:RescheduleGrace", "00:00:07", "--Volunteer:AdminTokens:0", new string('a', 32)]);
        Assert.Equal("heartbeat-phi", app.Services.GetRequiredService<IMembershipProtocolFactory>().Name);
        Assert.Equal("bin-pack", app.Services.GetRequiredService<IPlacementStrategyFactory>().Create().Name);
        var churn = app.Services.GetRequiredService<IChurnHandlerFactory>().Create();
        Assert.Equal(("replication", TimeSpan.FromSeconds(7)), (churn.Name, churn.GracePeriod));
    }

    [Fact]
    public void By_default_the_daemon_runs_swim_power_of_two_and_moves_replicas_only_off_hosts_that_announce_they_leave()
    {
        using var app = VolunteerHost.Build(["--Volunteer:AdminTokens:0", new string('a', 32)]);
        Assert.Equal("swim", app.Services.GetRequiredService<IMembershipProtocolFactory>().Name);
        Assert.Equal("power-of-2", app.Services.GetRequiredService<IPlacementStrategyFactory>().Create().Name);
        var churn = Assert.IsType<ProactiveChurnHandler>(app.Services.GetRequiredService<IChurnHandlerFactory>().Create());
        Assert.Equal((0.0, TimeSpan.FromSeconds(30)), (churn.ResidualThresholdHours, churn.GracePeriod));
        Assert.True(churn.ShouldMigrate(leaving: true, predictedResidualHours: 100));
        Assert.False(churn.ShouldMigrate(leaving: false, predictedResidualHours: 0.01));
    }

    [Theory]
    [InlineData(1, 0, "catching up")] // two 503s with Retry-After: 1, then the list
    [InlineData(120, 1, "has not yet compared")] // a longer wait than vc's 30 s goes back to the user
    public async Task Vc_waits_out_a_restarted_nodes_503_when_Retry_After_is_short(int retryAfter, int expectedCode, string expectedError)
    {
        using var listener = new HttpListener();
        var port = Random.Shared.Next(20_000, 40_000);
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var served = Task.Run(async () =>
        {
            for (var request = 0; request < 3; request++)
            {
                var context = await listener.GetContextAsync();
                var unavailable = request < 2;
                context.Response.StatusCode = unavailable ? 503 : 200;
                context.Response.ContentType = "application/json";
                if (unavailable)
                {
                    context.Response.Headers["Retry-After"] = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                var body = System.Text.Encoding.UTF8.GetBytes(unavailable ? """{"error":"This node has not yet compared its desired state with another node's."}""" : "[]");
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
                if (unavailable && retryAfter > 30)
                {
                    return request + 1;
                }
            }

            return 3;
        });

        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await VolunteerCloud.Cli.VcCommands.RunAsync(["ps", "--node", $"http://127.0.0.1:{port}"], output, error);
        Assert.Equal(expectedCode, code);
        Assert.Contains(expectedError, error.ToString(), StringComparison.Ordinal);
        Assert.Equal(retryAfter > 30 ? 1 : 3, await served.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData(new[] { "logs", "web", "--tail", "abc" }, "vc: --tail: 'abc' is not a whole number (e.g. 5).", "See 'vc logs --help'.")]
    [InlineData(new[] { "scale" }, "vc: Required argument 'app=replicas' missing for command: 'scale'.", "See 'vc scale --help'.")]
    public async Task A_command_line_mistake_is_said_in_a_line_with_where_to_read_on_not_the_whole_help(string[] args, string said, string readOn)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(2, await VolunteerCloud.Cli.VcCommands.RunAsync(args, output, error));
        Assert.Equal([said, readOn], error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
        Assert.DoesNotContain("Usage", output.ToString() + error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vc_help_names_the_environment_variables_and_prints_no_secret()
    {
        Environment.SetEnvironmentVariable("VC_TOKEN", "secret-token-from-the-environment");
        try
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            Assert.Equal(0, await VolunteerCloud.Cli.VcCommands.RunAsync(["--help"], output, error));
            Assert.Contains("VC_NODE", output.ToString(), StringComparison.Ordinal);
            Assert.Contains("VC_TOKEN", output.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("secret-token-from-the-environment", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("VC_TOKEN", null);
        }
    }

    [Fact]
    public void Allowed_hours_say_when_the_machine_is_lent_and_how_long_until_it_is()
    {
        var nights = new VolunteerOptions { AllowedHours = [22, 23, 0, 1, 2, 3, 4, 5, 6] };
        var at = (int hour, int minute) => new DateTimeOffset(2026, 11, 28, hour, minute, 0, TimeSpan.FromHours(1));
        Assert.True(nights.IsAllowed(at(23, 30)));
        Assert.True(nights.IsAllowed(at(0, 0)));
        Assert.False(nights.IsAllowed(at(7, 0)));
        Assert.Equal(TimeSpan.Zero, nights.UntilAllowed(at(3, 10)));
        Assert.Equal(TimeSpan.FromMinutes(30), nights.UntilAllowed(at(21, 30)));
        Assert.Equal(TimeSpan.FromHours(15), nights.UntilAllowed(at(7, 0)));
        Assert.True(new VolunteerOptions().IsAllowed(at(12, 0))); // no hours given: always
    }

    [Theory]
    [InlineData("60s", 60)]
    [InlineData("90", 90)]
    [InlineData("5m", 300)]
    [InlineData("1h", 3600)]
    [InlineData("250ms", 0.25)]
    public void Durations_parse(string text, double seconds)
    {
        Assert.True(HttpApi.TryParseDuration(text, out var duration));
        Assert.Equal(seconds, duration.TotalSeconds, 6);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-5s")]
    [InlineData("")]
    public void Bad_durations_are_refused(string text) => Assert.False(HttpApi.TryParseDuration(text, out _));

    [Theory]
    [InlineData("busybox", "busybox", "latest")]
    [InlineData("vc/busybox:1", "vc/busybox", "1")]
    [InlineData("10.201.0.1:5000/vc/busybox", "10.201.0.1:5000/vc/busybox", "latest")]
    [InlineData("10.201.0.1:5000/vc/busybox:1", "10.201.0.1:5000/vc/busybox", "1")]
    public void Image_references_split_into_repository_and_tag(string image, string name, string tag) =>
        Assert.Equal((name, tag), ImageCache.SplitImage(image));

    [Fact]
    public void Node_ids_derived_from_addresses_are_positive_and_stable()
    {
        var a = SeedResolver.DeriveNodeId(IPEndPoint.Parse("10.201.1.2:7946"));
        Assert.InRange(a, 1, int.MaxValue);
        Assert.Equal(a, SeedResolver.DeriveNodeId(IPEndPoint.Parse("10.201.1.2:7946")));
        Assert.NotEqual(a, SeedResolver.DeriveNodeId(IPEndPoint.Parse("10.201.2.2:7946")));
    }

    [Fact]
    public async Task Peers_learn_each_other_by_hello_and_carry_small_datagrams_by_UDP_and_large_ones_by_TCP()
    {
        await using var a = new PeerTransport(new NodeId(11), new IPEndPoint(IPAddress.Loopback, 0), 1_400, NullLogger.Instance);
        var bPort = Loopback.FreePort();
        await using var b = new PeerTransport(new NodeId(22), new IPEndPoint(IPAddress.Loopback, bPort), 1_400, NullLogger.Instance);
        var atB = new BlockingCollection<(NodeId, byte[])>();
        var atA = new BlockingCollection<(NodeId, byte[])>();
        a.Start((from, bytes) => atA.Add((from, bytes)));
        b.Start((from, bytes) => atB.Add((from, bytes)));

        var id = await a.HelloAsync(new IPEndPoint(IPAddress.Loopback, bPort), TimeSpan.FromMilliseconds(200), new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        Assert.Equal(new NodeId(22), id);
        Assert.NotNull(b.Lookup(new NodeId(11))); // b learnt a from the hello

        var small = new byte[100];
        var large = new byte[50_000];
        Random.Shared.NextBytes(large);
        a.Send(new NodeId(22), small);
        a.Send(new NodeId(22), large);
        b.Send(new NodeId(11), small);
        var received = new[] { Take(atB), Take(atB) }.OrderBy(r => r.Item2.Length).ToArray();
        Assert.Equal(new NodeId(11), received[0].Item1);
        Assert.Equal(small, received[0].Item2);
        Assert.Equal(large, received[1].Item2);
        Assert.Equal(small, Take(atA).Item2);

        a.Send(new NodeId(99), small); // nobody knows node 99
        Assert.Equal(1, Interlocked.Read(ref a.DroppedUnknownPeer));
    }

    [Fact]
    public async Task Frames_without_the_header_are_dropped_and_counted()
    {
        var port = Loopback.FreePort();
        await using var b = new PeerTransport(new NodeId(22), new IPEndPoint(IPAddress.Loopback, port), 1_400, NullLogger.Instance);
        var delivered = 0;
        b.Start((_, _) => Interlocked.Increment(ref delivered));
        using var udp = new System.Net.Sockets.UdpClient();
        await udp.SendAsync(new byte[] { 1, 2, 3 }, new IPEndPoint(IPAddress.Loopback, port));
        await udp.SendAsync(new byte[] { (byte)'V', (byte)'C', 1, 0, 0, 0, 0, 9 }, new IPEndPoint(IPAddress.Loopback, port)); // sender 0
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (Interlocked.Read(ref b.DroppedMalformed) < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(2, Interlocked.Read(ref b.DroppedMalformed));
        Assert.Equal(0, delivered);
    }

    [Fact]
    public async Task Inbound_TCP_connections_beyond_the_limit_are_closed_at_once_and_counted_and_the_rest_still_carry_frames()
    {
        var port = Loopback.FreePort();
        await using var b = new PeerTransport(new NodeId(22), new IPEndPoint(IPAddress.Loopback, port), 1_400, NullLogger.Instance);
        var atB = new BlockingCollection<(NodeId, byte[])>();
        b.Start((from, bytes) => atB.Add((from, bytes)));
        var idle = new List<System.Net.Sockets.TcpClient>();
        try
        {
            for (var i = 0; i < PeerTransport.MaxInboundConnections + 50; i++)
            {
                var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                idle.Add(client);
            }

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (Interlocked.Read(ref b.DroppedConnections) < 50 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.Equal(50, Interlocked.Read(ref b.DroppedConnections));

            // Closing idle connections frees their places: a peer's frame gets through again.
            foreach (var client in idle)
            {
                client.Dispose();
            }

            await using var a = new PeerTransport(new NodeId(11), new IPEndPoint(IPAddress.Loopback, 0), 1_400, NullLogger.Instance);
            a.Start((_, _) => { });
            Assert.Equal(new NodeId(22), await a.HelloAsync(new IPEndPoint(IPAddress.Loopback, port), TimeSpan.FromMilliseconds(200), new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token));
            a.Send(new NodeId(22), new byte[5_000]); // above the UDP payload: by TCP
            Assert.Equal(5_000, Take(atB).Item2.Length);
        }
        finally
        {
            foreach (var client in idle)
            {
                client.Dispose();
            }
        }
    }

    private static (NodeId, byte[]) Take(BlockingCollection<(NodeId, byte[])> queue) =>
        queue.TryTake(out var item, TimeSpan.FromSeconds(10)) ? item : throw new TimeoutException("nothing arrived");
}
