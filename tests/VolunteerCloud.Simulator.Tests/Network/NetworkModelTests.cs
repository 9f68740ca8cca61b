using FsCheck;
using FsCheck.Xunit;
using VolunteerCloud.Simulator.Network;
using VolunteerCloud.Simulator.Tests.Support;

namespace VolunteerCloud.Simulator.Tests.Network;

public sealed class NetworkModelTests
{
    /// <summary>Node 0 sends <paramref name="count"/> notes to node 1, one per millisecond; node 1 records them.</summary>
    private static (Simulation Simulation, ScriptedNode Receiver) Stream(ulong seed, int count, NetworkOptions network)
    {
        var simulation = new Simulation(new SimulationOptions { Seed = seed, Network = network });
        var receiver = new ScriptedNode();
        var to = simulation.AddNode(receiver);
        var sent = 0;
        simulation.AddNode(new ScriptedNode
        {
            Started = c => c.SetTimer(TimeSpan.Zero, default),
            Timer = (c, _) =>
            {
                ScriptedNode.SendNote(c, to, sent++);
                if (sent < count)
                {
                    c.SetTimer(TimeSpan.FromMilliseconds(1), default);
                }
            },
        });
        simulation.RunFor(TimeSpan.FromMilliseconds(count) + TimeSpan.FromMinutes(1));
        return (simulation, receiver);
    }

    [Property(MaxTest = 30)]
    public void Loss_rate_is_within_a_binomial_bound(ulong seed, byte lossPercent)
    {
        var loss = lossPercent % 91 / 100.0;
        const int n = 20_000;
        var (simulation, receiver) = Stream(seed, n, new NetworkOptions { LossRate = loss });
        using (simulation)
        {
            var delivered = receiver.Log.Count(s => s.What == "message");
            var expected = n * (1 - loss);
            var bound = 5 * Math.Sqrt(n * loss * (1 - loss)) + 1;

            Assert.InRange(delivered, expected - bound, expected + bound);
            Assert.Equal(n - delivered, simulation.Statistics.MessagesLost);
            Assert.Equal(n, simulation.Statistics.MessagesSent);
        }
    }

    [Property(MaxTest = 100)]
    public void A_partition_blocks_exactly_the_messages_that_cross_it(byte[] sideOfNode)
    {
        // Node i is on side sideOfNode[i] % 4; side 0 means "not named", which is a side of its own too.
        var n = Math.Clamp(sideOfNode.Length, 2, 12);
        var side = Enumerable.Range(0, n).Select(i => i < sideOfNode.Length ? sideOfNode[i] % 4 : 0).ToArray();
        using var simulation = new Simulation(new SimulationOptions { Network = { Latency = LatencyModel.Constant(TimeSpan.FromMilliseconds(1)) } });
        var nodes = new List<ScriptedNode>();
        for (var i = 0; i < n; i++)
        {
            var node = new ScriptedNode
            {
                Timer = (c, _) =>
                {
                    for (var j = 0; j < n; j++)
                    {
                        ScriptedNode.SendNote(c, new NodeId(j), c.Self.Value);
                    }
                },
                Started = c => c.SetTimer(TimeSpan.FromSeconds(1), default),
            };
            nodes.Add(node);
            simulation.AddNode(node);
        }

        simulation.Network.Partition(
            Enumerable.Range(1, 3).Select(s => (IReadOnlyCollection<NodeId>)Enumerable.Range(0, n).Where(i => side[i] == s).Select(i => new NodeId(i)).ToArray()).ToArray());
        simulation.RunFor(TimeSpan.FromSeconds(2));

        var received = nodes.SelectMany((node, to) => node.Log.Where(s => s.What == "message").Select(s => (From: s.Number, To: to))).ToHashSet();
        var expected = (from a in Enumerable.Range(0, n) from b in Enumerable.Range(0, n) where side[a] == side[b] select (a, b)).ToHashSet();
        Assert.Equal(expected.Order(), received.Order());
        Assert.Equal((n * n) - expected.Count, simulation.Statistics.MessagesBlocked);
        Assert.All(Enumerable.Range(0, n), a => Assert.Equal(side[a] == side[(a + 1) % n], simulation.Network.CanReach(new NodeId(a), new NodeId((a + 1) % n))));

        simulation.Network.Heal();
        simulation.RunFor(TimeSpan.FromSeconds(2)); // no new sends; healing does not resurrect dropped messages
        Assert.Equal(expected.Count, nodes.Sum(node => node.Log.Count(s => s.What == "message")));
        Assert.True(simulation.Network.CanReach(new NodeId(0), new NodeId(n - 1)));
    }

    public static TheoryData<string> Models => ["constant", "uniform", "lognormal"];

    private static LatencyModel Model(string name) => name switch
    {
        "constant" => LatencyModel.Constant(TimeSpan.FromMilliseconds(5)),
        "uniform" => LatencyModel.Uniform(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(20)),
        _ => LatencyModel.LogNormal(TimeSpan.FromMilliseconds(20), 0.5),
    };

    /// <summary>
    /// The Kolmogorov–Smirnov distance between observed delays and a model's distribution, exact for models
    /// with jumps too (constant, uniform at tick resolution): both sides of every observed value are compared.
    /// </summary>
    private static double KolmogorovSmirnov(IReadOnlyList<TimeSpan> observed, LatencyModel model)
    {
        var sorted = observed.Order().ToArray();
        double n = sorted.Length, distance = 0;
        for (var i = 0; i < sorted.Length;)
        {
            var value = sorted[i];
            var below = i / n;
            while (i < sorted.Length && sorted[i] == value)
            {
                i++;
            }

            var atOrBelow = i / n;
            distance = Math.Max(distance, Math.Abs(model.CumulativeProbability(value) - atOrBelow));
            distance = Math.Max(distance, Math.Abs(model.CumulativeProbability(value - TimeSpan.FromTicks(1)) - below));
        }

        return distance;
    }

    private static List<TimeSpan> ObservedDelays(ulong seed, LatencyModel model, int n)
    {
        var (simulation, receiver) = Stream(seed, n, new NetworkOptions { Latency = model });
        using (simulation)
        {
            // Note i was sent at i ms.
            return receiver.Log.Where(s => s.What == "message").Select(s => s.At - TimeSpan.FromMilliseconds(s.Number)).ToList();
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Delays_fit_the_configured_distribution(string name)
    {
        // Kolmogorov–Smirnov at significance 1e-6 (critical value 2.69 / sqrt(n)), over several seeds.
        const int n = 20_000;
        var model = Model(name);
        foreach (var seed in new ulong[] { 1, 2, 3, 4, 5 })
        {
            var delays = ObservedDelays(seed, model, n);
            Assert.Equal(n, delays.Count);
            Assert.True(KolmogorovSmirnov(delays, model) < 2.69 / Math.Sqrt(n), $"{name}, seed {seed}");
        }
    }

    [Fact]
    public void The_fit_test_rejects_a_distribution_that_is_a_little_off()
    {
        const int n = 20_000;
        var delays = ObservedDelays(1, LatencyModel.LogNormal(TimeSpan.FromMilliseconds(20), 0.5), n);

        Assert.True(KolmogorovSmirnov(delays, LatencyModel.LogNormal(TimeSpan.FromMilliseconds(22), 0.5)) > 2.69 / Math.Sqrt(n));
        Assert.True(KolmogorovSmirnov(delays, LatencyModel.LogNormal(TimeSpan.FromMilliseconds(20), 0.6)) > 2.69 / Math.Sqrt(n));
    }

    [Fact]
    public void Without_reordering_a_constant_delay_keeps_order_and_with_it_later_messages_overtake()
    {
        List<int> Arrivals(double reorderRate)
        {
            var (simulation, receiver) = Stream(9, 5_000, new NetworkOptions
            {
                Latency = LatencyModel.Constant(TimeSpan.FromMilliseconds(3)),
                ReorderRate = reorderRate,
                ReorderDelayMax = TimeSpan.FromMilliseconds(50),
            });
            using (simulation)
            {
                return receiver.Log.Where(s => s.What == "message").Select(s => s.Number).ToList();
            }
        }

        var inOrder = Arrivals(0);
        var reordered = Arrivals(0.2);

        Assert.Equal(Enumerable.Range(0, 5_000), inOrder);
        Assert.Equal(Enumerable.Range(0, 5_000), reordered.Order());
        var inversions = reordered.Zip(reordered.Skip(1)).Count(p => p.First > p.Second);
        Assert.InRange(inversions, 500, 2_000);
    }

    [Fact]
    public void Duplicated_messages_arrive_twice_at_the_configured_rate()
    {
        const int n = 20_000;
        var (simulation, receiver) = Stream(4, n, new NetworkOptions { DuplicationRate = 0.1, Latency = LatencyModel.Uniform(TimeSpan.Zero, TimeSpan.FromMilliseconds(10)) });
        using (simulation)
        {
            var counts = receiver.Log.Where(s => s.What == "message").GroupBy(s => s.Number).Select(g => g.Count()).ToList();

            Assert.Equal(n, counts.Count);
            Assert.All(counts, c => Assert.InRange(c, 1, 2));
            Assert.InRange(counts.Count(c => c == 2), 2_000 - 212, 2_000 + 212); // five binomial standard deviations
            Assert.Equal(counts.Count(c => c == 2), simulation.Statistics.MessagesDuplicated);
        }
    }

    [Fact]
    public void A_region_matrix_sets_the_delay_between_regions()
    {
        using var simulation = new Simulation(new SimulationOptions
        {
            Network = { RegionLatency = new RegionLatencyMatrix(2, LatencyModel.Constant(TimeSpan.FromMilliseconds(1)), LatencyModel.Constant(TimeSpan.FromMilliseconds(80))) },
        });
        var near = new ScriptedNode();
        var far = new ScriptedNode();
        var nearId = simulation.AddNode(near, region: 0);
        var farId = simulation.AddNode(far, region: 1);
        simulation.AddNode(new ScriptedNode
        {
            Started = c =>
            {
                ScriptedNode.SendNote(c, nearId, 1);
                ScriptedNode.SendNote(c, farId, 2);
            },
        }, region: 0);

        simulation.RunFor(TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.FromMilliseconds(1), near.Log.Single(s => s.What == "message").At);
        Assert.Equal(TimeSpan.FromMilliseconds(80), far.Log.Single(s => s.What == "message").At);
        Assert.Throws<ArgumentOutOfRangeException>(() => simulation.AddNode(new ScriptedNode(), region: 2));
    }

    [Fact]
    public void Nodes_added_during_a_partition_join_the_unnamed_side()
    {
        using var simulation = new Simulation(new SimulationOptions());
        var a = simulation.AddNode(new ScriptedNode());
        var b = simulation.AddNode(new ScriptedNode());
        simulation.Network.Partition([a]);
        var nodes = Enumerable.Range(0, 40).Select(_ => simulation.AddNode(new ScriptedNode())).ToList();

        Assert.All(nodes, n => Assert.True(simulation.Network.CanReach(b, n)));
        Assert.All(nodes, n => Assert.False(simulation.Network.CanReach(a, n)));
        simulation.Network.Partition([nodes[^1]], [a]);
        Assert.False(simulation.Network.CanReach(b, nodes[^1]));
        Assert.True(simulation.Network.CanReach(b, nodes[0]));
    }

    [Fact]
    public void Invalid_settings_are_refused_naming_the_setting()
    {
        Assert.Equal("LossRate", Assert.Throws<ArgumentOutOfRangeException>(() => new Simulation(new SimulationOptions { Network = { LossRate = 1.5 } })).ParamName);
        Assert.Equal("ReorderRate", Assert.Throws<ArgumentOutOfRangeException>(() => new Simulation(new SimulationOptions { Network = { ReorderRate = -0.1 } })).ParamName);
        using var simulation = new Simulation(new SimulationOptions());
        Assert.Throws<ArgumentOutOfRangeException>(() => simulation.Network.DuplicationRate = double.NaN);
        Assert.Throws<ArgumentOutOfRangeException>(() => LatencyModel.Uniform(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatencyModel.LogNormal(TimeSpan.Zero, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatencyModel.Constant(TimeSpan.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatencyModel.Uniform(TimeSpan.Zero, TimeSpan.FromDays(2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => simulation.Network.ReorderDelayMax = TimeSpan.MaxValue);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RegionLatencyMatrix(50_000, LatencyModel.Constant(TimeSpan.Zero), LatencyModel.Constant(TimeSpan.Zero)));
        Assert.Throws<ArgumentException>(() => simulation.Network.Partition([new NodeId(0)]));
    }
}
