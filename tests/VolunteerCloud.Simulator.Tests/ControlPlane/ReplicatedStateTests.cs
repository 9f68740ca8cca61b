using FsCheck.Xunit;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Network;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Simulator.Tests.ControlPlane;

/// <summary>A node that only runs a replicated state; every other node is its peer.</summary>
internal sealed class StateNode : INode
{
    public StateNode(NodeId self, Func<int> nodes, ReplicatedStateOptions? options = null)
    {
        State = new ReplicatedState(
            self,
            options ?? new ReplicatedStateOptions(),
            random =>
            {
                var n = nodes();
                if (n < 2)
                {
                    return null;
                }

                var pick = random.NextInt32(n - 1);
                return new NodeId(pick >= self.Value ? pick + 1 : pick);
            },
            nodes);
    }

    public ReplicatedState State { get; }

    public void OnStart(NodeContext context) => State.Start(context);

    public void OnMessage(NodeContext context, NodeId from, InboundMessage message) => State.TryHandleMessage(context, from, message);

    public void OnTimer(NodeContext context, TimerTag tag) => State.TryHandleTimer(context, tag);
}

public sealed class ReplicatedStateTests
{
    private static (Simulation Simulation, List<StateNode> Nodes) Cluster(int n, ulong seed, double loss = 0)
    {
        var simulation = new Simulation(new SimulationOptions
        {
            Seed = seed,
            Network = { Latency = LatencyModel.Uniform(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(40)), LossRate = loss },
        });
        var nodes = new List<StateNode>();
        for (var i = 0; i < n; i++)
        {
            var node = new StateNode(new NodeId(i), () => n);
            nodes.Add(node);
            simulation.AddNode(node);
        }

        return (simulation, nodes);
    }

    private static StateNode Live(Simulation simulation, int i) => (StateNode)simulation.GetNode(new NodeId(i))!;

    [Property(MaxTest = 40)]
    public void After_writes_deletes_crashes_and_loss_stop_every_node_holds_the_winning_entries(ulong seed, byte[] script)
    {
        const int n = 12;
        var (simulation, _) = Cluster(n, seed, loss: 0.05);
        using (simulation)
        {
            // Every write made, by whom, and whether its writer has kept its copy since (a crash loses it).
            var writes = new List<(StateEntry Entry, int Writer, bool Kept)>();
            foreach (var step in script.Take(60))
            {
                var node = step % n;
                var key = $"k{step / n % 5}";
                if (!simulation.IsUp(new NodeId(node)))
                {
                    simulation.Restart(new NodeId(node), new StateNode(new NodeId(node), () => n));
                    simulation.RunFor(TimeSpan.FromMilliseconds(100));
                    continue;
                }

                var deleting = step % 7 == 0;
                simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(node), c =>
                {
                    var state = Live(simulation, node).State;
                    writes.Add((deleting ? state.Delete(key, context: c) : state.Write(key, new[] { step }, context: c), node, true));
                });
                simulation.RunFor(TimeSpan.FromMilliseconds(step * 10));

                var victim = new NodeId((node + 1) % n == 0 ? 1 : (node + 1) % n);
                if (step % 11 == 0 && simulation.IsUp(victim))
                {
                    simulation.Crash(victim); // a crash loses that node's copy
                    for (var w = 0; w < writes.Count; w++)
                    {
                        writes[w] = writes[w].Writer == victim.Value ? writes[w] with { Kept = false } : writes[w];
                    }
                }
            }

            for (var i = 0; i < n; i++)
            {
                if (!simulation.IsUp(new NodeId(i)))
                {
                    simulation.Restart(new NodeId(i), new StateNode(new NodeId(i), () => n));
                }
            }

            simulation.RunFor(TimeSpan.FromMinutes(3)); // quiet time: gossip dies down, anti-entropy repairs the rest

            // A crash may have lost a write that no survivor had heard of yet; what survived must be everywhere and
            // identical, every entry held must be one that was written, and a write whose writer never crashed after it
            // must be held or beaten by a later one (node 0 never crashes, so such writes exist whenever it wrote).
            var reference = Live(simulation, 0).State;
            for (var i = 0; i < n; i++)
            {
                var state = Live(simulation, i).State;
                Assert.True(state.Hash == reference.Hash && state.Count == reference.Count, $"node {i} differs from node 0 (seed {seed})");
                foreach (var entry in reference.Entries)
                {
                    Assert.True(state.TryGet(entry.Key, out var mine) && mine.Equals(entry), $"node {i}: {entry.Key} differs (seed {seed})");
                }
            }

            foreach (var entry in reference.Entries)
            {
                Assert.True(writes.Any(w => w.Entry.Equals(entry)), $"{entry.Key}: an entry nobody wrote (seed {seed})");
            }

            foreach (var (entry, writer, _) in writes.Where(w => w.Kept))
            {
                Assert.True(reference.TryGet(entry.Key, out var held) && !entry.Supersedes(held), $"{entry.Key}: node {writer}'s write v{entry.Version} was lost though node {writer} never crashed after it (seed {seed})");
            }
        }
    }

    [Fact]
    public void Without_crashes_the_last_writer_wins_everywhere_and_gossip_alone_spreads_an_update_within_seconds()
    {
        const int n = 200;
        var (simulation, nodes) = Cluster(n, 7);
        using (simulation)
        {
            simulation.RunFor(TimeSpan.FromSeconds(1));
            simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(3), c => nodes[3].State.Write("app/web", new byte[] { 1 }, context: c));
            simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(9), c => nodes[9].State.Write("app/web", new byte[] { 2 }, context: c));
            simulation.RunFor(TimeSpan.FromSeconds(8)); // less than one anti-entropy round for most nodes
            var knowing = nodes.Count(x => x.State.TryGet("app/web", out var e) && e.Writer == new NodeId(9));
            Assert.True(knowing >= n * 0.99, $"{knowing} of {n} nodes know the update after 8 s");

            simulation.RunFor(TimeSpan.FromSeconds(60));
            Assert.All(nodes, x =>
            {
                Assert.True(x.State.TryGet("app/web", out var e));
                Assert.Equal((1L, new NodeId(9)), (e.Version, e.Writer)); // equal versions: the higher writer id wins
                Assert.Equal([2], e.Value.ToArray());
            });
        }
    }

    [Fact]
    public void A_partition_heals_by_anti_entropy()
    {
        const int n = 20;
        var (simulation, nodes) = Cluster(n, 3);
        using (simulation)
        {
            simulation.Network.Partition([.. Enumerable.Range(0, 10).Select(i => new NodeId(i))], [.. Enumerable.Range(10, 10).Select(i => new NodeId(i))]);
            simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(1), c => nodes[1].State.Write("left", new byte[] { 1 }, context: c));
            simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(15), c => nodes[15].State.Write("right", new byte[] { 2 }, context: c));
            simulation.RunFor(TimeSpan.FromSeconds(60)); // the rumours die out inside each side
            Assert.False(nodes[15].State.TryGet("left", out _));
            simulation.Network.Heal();
            simulation.RunFor(TimeSpan.FromSeconds(120));
            Assert.All(nodes, x => Assert.Equal((2, nodes[0].State.Hash), (x.State.Count, x.State.Hash)));
        }
    }

    [Fact]
    public void Each_node_sends_an_update_the_retransmit_limit_times_in_all_not_that_many_times_per_peer()
    {
        // memberlist's transmit-limited queue: 4 × ⌈log10(200 + 1)⌉ = 12 datagrams carry the update, across rounds of 3 peers.
        const int n = 200;
        var options = new ReplicatedStateOptions { AntiEntropyInterval = TimeSpan.FromDays(1) };
        using var simulation = new Simulation(new SimulationOptions { Seed = 11 });
        var nodes = Enumerable.Range(0, n).Select(i => new StateNode(new NodeId(i), () => n, options)).ToList();
        nodes.ForEach(x => simulation.AddNode(x));
        simulation.RunFor(TimeSpan.FromSeconds(1));
        var before = nodes[5].State.MessagesSent;
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(5), c => nodes[5].State.Write("app/web", new byte[] { 1 }, context: c));
        simulation.RunFor(TimeSpan.FromSeconds(30));
        var sentByWriter = nodes[5].State.MessagesSent - before;
        Assert.True(sentByWriter is >= 12 and <= 13, $"the writer sent {sentByWriter} messages (12 gossip datagrams, maybe one digest)");
        Assert.True(nodes.Count(x => x.State.TryGet("app/web", out _)) >= n - 2, "gossip alone reaches (almost) everyone");
    }

    [Fact]
    public void Anti_entropy_compares_only_the_buckets_that_differ_and_repairs_both_sides_in_one_exchange()
    {
        // 2 000 shared entries; each side holds one key the other lacks and one newer version. Node 0 starts the only
        // exchange (node 1's anti-entropy is a day away): both must end equal, for far fewer bytes than 2 000 stamps.
        var fast = new ReplicatedStateOptions { AntiEntropyInterval = TimeSpan.FromSeconds(10) };
        var slow = new ReplicatedStateOptions { AntiEntropyInterval = TimeSpan.FromDays(1) };
        using var simulation = new Simulation(new SimulationOptions { Seed = 2 });
        var a = new StateNode(new NodeId(0), () => 2, fast);
        var b = new StateNode(new NodeId(1), () => 2, slow);
        simulation.AddNode(a);
        simulation.AddNode(b);
        for (var i = 0; i < 2_000; i++)
        {
            var entry = new StateEntry($"node/{i}", 3, new NodeId(i), false, new byte[] { 1, 2, 3, 4 });
            a.State.Merge(entry, spread: false);
            b.State.Merge(entry, spread: false);
        }

        a.State.Merge(new StateEntry("app/only-a", 1, new NodeId(0), false, new byte[] { 7 }), spread: false);
        b.State.Merge(new StateEntry("app/only-b", 1, new NodeId(1), false, new byte[] { 8 }), spread: false);
        a.State.Merge(new StateEntry("node/17", 4, new NodeId(17), false, new byte[] { 9 }), spread: false);
        b.State.Merge(new StateEntry("node/1234", 4, new NodeId(1234), false, new byte[] { 9 }), spread: false);
        Assert.NotEqual(a.State.Hash, b.State.Hash);

        simulation.RunFor(TimeSpan.FromSeconds(11));

        Assert.Equal((2_002, a.State.Hash), (b.State.Count, b.State.Hash));
        Assert.Equal(2_002, a.State.Count);
        var bytes = a.State.BytesSent + b.State.BytesSent;
        Assert.True(bytes < 6_000, $"{bytes} bytes exchanged (one bucket digest, the stamps of the 4 buckets that differ; all 2 000 stamps would be about 44 000)");
    }

    [Fact]
    public void A_node_is_synced_once_anti_entropy_has_compared_it_with_a_peer_and_not_by_gossip_alone()
    {
        // Node 1 stands for a restarted node: empty, then an update reaches it by gossip. Only anti-entropy (started by
        // hand here; the timers are a day away) tells it what else the cluster holds.
        var options = new ReplicatedStateOptions { AntiEntropyInterval = TimeSpan.FromDays(1) };
        using var simulation = new Simulation(new SimulationOptions { Seed = 5 });
        var full = new StateNode(new NodeId(0), () => 2, options);
        var restarted = new StateNode(new NodeId(1), () => 2, options);
        simulation.AddNode(full);
        simulation.AddNode(restarted);
        full.State.Merge(new StateEntry("app/old", 1, new NodeId(0), false, new byte[] { 1 }), spread: false);
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(0), c => full.State.Write("app/new", new byte[] { 2 }, context: c));
        simulation.RunFor(TimeSpan.FromSeconds(5));
        Assert.True(restarted.State.TryGet("app/new", out _));
        Assert.False(restarted.State.TryGet("app/old", out _));
        Assert.False(restarted.State.Synced, "an update heard by gossip says nothing of the rest of the state");
        Assert.False(full.State.Synced);

        var antiEntropy = new TimerTag(TimerKinds.StateAntiEntropy);
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(0), c => full.State.TryHandleTimer(c, antiEntropy)); // digests differ: repaired
        simulation.RunFor(TimeSpan.FromSeconds(1));
        Assert.True(restarted.State.TryGet("app/old", out _));
        Assert.True(restarted.State.Synced);
        Assert.False(full.State.Synced, "the node that started the exchange learned nothing of its own completeness");

        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(1), c => restarted.State.TryHandleTimer(c, antiEntropy)); // digests equal
        simulation.RunFor(TimeSpan.FromSeconds(1));
        Assert.True(full.State.Synced);
    }

    [Fact]
    public void With_ConfirmUntilSynced_a_node_whose_state_already_equals_its_peers_learns_it_at_its_first_exchange()
    {
        // Both nodes hold the same entries. A plain digest to an equal peer gets no answer, so the asker stays unsynced;
        // the query is answered with the peer's digest, and the asker then sends plain digests again.
        foreach (var confirm in new[] { false, true })
        {
            var options = new ReplicatedStateOptions { AntiEntropyInterval = TimeSpan.FromDays(1), GossipInterval = TimeSpan.FromDays(1), ConfirmUntilSynced = confirm };
            using var simulation = new Simulation(new SimulationOptions { Seed = 6 });
            var peer = new StateNode(new NodeId(0), () => 2, options);
            var asker = new StateNode(new NodeId(1), () => 2, options);
            simulation.AddNode(peer);
            simulation.AddNode(asker);
            foreach (var x in new[] { peer, asker })
            {
                x.State.Merge(new StateEntry("app/web", 1, new NodeId(0), false, new byte[] { 1 }), spread: false);
            }

            var antiEntropy = new TimerTag(TimerKinds.StateAntiEntropy);
            simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(1), c => asker.State.TryHandleTimer(c, antiEntropy));
            simulation.RunFor(TimeSpan.FromSeconds(1));
            Assert.True(peer.State.Synced);
            Assert.Equal(confirm, asker.State.Synced);
            Assert.Equal(confirm ? 1 : 0, peer.State.MessagesSent);

            simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(1), c => asker.State.TryHandleTimer(c, antiEntropy));
            simulation.RunFor(TimeSpan.FromSeconds(1));
            Assert.Equal(confirm ? 1 : 0, peer.State.MessagesSent); // once synced, an equal digest is not answered
        }
    }

    [Fact]
    public void With_ConfirmUntilSynced_a_node_exchanges_every_gossip_interval_until_synced_then_every_anti_entropy_interval()
    {
        foreach (var confirm in new[] { false, true })
        {
            var options = new ReplicatedStateOptions { ConfirmUntilSynced = confirm }; // gossip 1 s, anti-entropy 10 s
            using var simulation = new Simulation(new SimulationOptions { Seed = 8 });
            var nodes = Enumerable.Range(0, 3).Select(i => new StateNode(new NodeId(i), () => 3, options)).ToList();
            nodes.ForEach(x => simulation.AddNode(x));
            foreach (var x in nodes)
            {
                x.State.Merge(new StateEntry("app/web", 1, new NodeId(0), false, new byte[] { 1 }), spread: false);
            }

            simulation.RunFor(TimeSpan.FromSeconds(1.5));
            Assert.Equal(confirm, nodes.All(x => x.State.Synced)); // without: anti-entropy's first round is spread over 10 s
            Assert.All(nodes, x => Assert.Equal(confirm ? TimeSpan.FromSeconds(10) : options.AntiEntropyInterval, x.State.ExchangeInterval));
            var sent = nodes.Sum(x => x.State.MessagesSent);
            simulation.RunFor(TimeSpan.FromSeconds(8));
            Assert.True(nodes.Sum(x => x.State.MessagesSent) - sent <= 3, "synced nodes are back to one exchange per 10 s each");
        }
    }

    [Fact]
    public void Two_values_under_one_stamp_converge_on_one_of_them()
    {
        // Two lives of node 9 wrote different values as version 5 (a restart forgets what the last life wrote; a
        // clock stepped back gives the same wall-clock version again). Anti-entropy must still make them agree.
        var (simulation, nodes) = Cluster(4, 5);
        using (simulation)
        {
            var first = new StateEntry("node/9", 5, new NodeId(9), false, new byte[] { 1 });
            var second = first with { Value = new byte[] { 2 } };
            Assert.NotEqual(first.Supersedes(second), second.Supersedes(first));
            nodes[0].State.Merge(first, spread: false);
            nodes[1].State.Merge(first, spread: false);
            nodes[2].State.Merge(second, spread: false);
            nodes[3].State.Merge(second, spread: false);
            simulation.RunFor(TimeSpan.FromSeconds(60));

            var winner = first.Supersedes(second) ? first : second;
            Assert.All(nodes, x => Assert.True(x.State.TryGet("node/9", out var held) && held.Equals(winner)));
        }
    }

    [Fact]
    public void Bad_options_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplicatedState(new NodeId(0), new ReplicatedStateOptions { GossipFanout = 0 }, _ => null, () => 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplicatedState(new NodeId(0), new ReplicatedStateOptions { GossipInterval = TimeSpan.Zero }, _ => null, () => 1));
        var state = new ReplicatedState(new NodeId(0), new ReplicatedStateOptions(), _ => null, () => 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => state.Write("k", new byte[StateEntry.MaxValueBytes + 1]));
        Assert.Equal(5, state.Write("k", new byte[] { 1 }, minimumVersion: 5).Version);
        Assert.Equal(6, state.Delete("k").Version);
        Assert.False(state.Merge(new StateEntry("k", 6, new NodeId(0), false, new byte[] { 9 })));
        Assert.True(state.Merge(new StateEntry("k", 6, new NodeId(1), false, new byte[] { 9 })));
    }
}
