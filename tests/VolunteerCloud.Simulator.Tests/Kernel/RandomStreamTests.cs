using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Tests.Support;

namespace VolunteerCloud.Simulator.Tests.Kernel;

public sealed class RandomStreamTests
{
    [Fact]
    public void Each_node_draws_from_its_own_stream_of_the_run_seed()
    {
        const ulong seed = 123;
        var draws = new Dictionary<NodeId, List<ulong>>();
        using var simulation = new Simulation(new SimulationOptions { Seed = seed });
        for (var i = 0; i < 10; i++)
        {
            simulation.AddNode(new ScriptedNode
            {
                Started = c =>
                {
                    draws[c.Self] = [c.Random.NextUInt64()];
                    c.SetTimer(TimeSpan.FromSeconds(c.Self.Value + 1), default);
                },
                Timer = (c, _) => draws[c.Self].Add(c.Random.NextUInt64()),
            });
        }

        simulation.RunFor(TimeSpan.FromSeconds(20));

        // Interleaving across nodes does not matter: node i's draws are exactly stream i of the seed.
        for (var i = 0; i < 10; i++)
        {
            var stream = SplittableRandom.ForStream(seed, (ulong)i);
            Assert.Equal([stream.NextUInt64(), stream.NextUInt64()], draws[new NodeId(i)]);
        }
    }
}
