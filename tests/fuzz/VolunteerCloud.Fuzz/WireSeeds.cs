using VolunteerCloud.Apps;
using VolunteerCloud.Containers;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Heartbeat;
using VolunteerCloud.Membership.Registry;
using VolunteerCloud.Membership.Swim;
using VolunteerCloud.Placement;
using VolunteerCloud.Simulator;
using VolunteerCloud.Simulator.Containers;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Fuzz;

/// <summary>
/// Seeds for the wire target: real datagrams, recorded from a simulated cluster (SWIM and the control plane) that
/// joins, deploys, scales, loses a node and removes an app, and from two small clusters that only run the other
/// membership protocols (heartbeat gossip, the central registry) — up to three of each message type.
/// </summary>
public static class WireSeeds
{
    // As the daemon runs it: a node opens anti-entropy with a digest query (type 71) until it has synced.
    private static readonly ControlPlaneOptions Options = new() { State = new ReplicatedStateOptions { ConfirmUntilSynced = true } };

    /// <summary>Writes the seeds to <paramref name="directory"/>; returns how many.</summary>
    public static int Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var recorded = new Dictionary<ushort, List<byte[]>>();
        using var simulation = new Simulation(new SimulationOptions { Seed = 7 });
        simulation.EnableContainers(new ContainerSimulationOptions
        {
            Images = { ["web:1"] = new SimulatedImage(20_000_000) },
            Hosts = _ => new SimulatedHost(new ResourceAmount(2, 4L << 30), 10_000_000_000, 100e6),
        });
        var factory = new SwimMembershipFactory(new SwimOptions());
        for (var i = 0; i < 6; i++)
        {
            var id = new NodeId(i);
            simulation.AddNode(Recording(id, factory, recorded));
        }

        ControlPlaneNode Node(int i) => ((Recorder)simulation.GetNode(new NodeId(i))!).Inner;
        simulation.RunFor(TimeSpan.FromSeconds(20));
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(1), c => Node(1).Deploy(c, new AppSpec("web", "web:1") { Replicas = 3, Environment = System.Collections.Immutable.ImmutableSortedDictionary<string, string>.Empty.Add("MODE", "production") }));
        simulation.RunFor(TimeSpan.FromSeconds(40));
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(2), c => Node(2).Scale(c, "web", 5));
        simulation.RunFor(TimeSpan.FromSeconds(20));
        simulation.Crash(new NodeId(5));
        simulation.RunFor(TimeSpan.FromSeconds(60));
        simulation.ScheduleOnNode(TimeSpan.Zero, new NodeId(3), c => Node(3).Remove(c, "web"));
        simulation.RunFor(TimeSpan.FromSeconds(40));

        // The other membership protocols: a cluster of each, joined and run for a while.
        IMembershipProtocolFactory[] others =
        [
            new HeartbeatGossipMembershipFactory(new HeartbeatGossipOptions()),
            new CentralRegistryMembershipFactory(new CentralRegistryOptions { Registry = new NodeId(0) }),
        ];
        foreach (var other in others)
        {
            using var small = new Simulation(new SimulationOptions { Seed = 7 });
            for (var i = 0; i < 4; i++)
            {
                var id = new NodeId(i);
                small.AddNode(Recording(id, other, recorded));
            }

            small.RunFor(TimeSpan.FromSeconds(30));
        }

        var count = 0;
        foreach (var (type, datagrams) in recorded.OrderBy(r => r.Key))
        {
            for (var i = 0; i < datagrams.Count; i++)
            {
                File.WriteAllBytes(Path.Combine(directory, $"type{type:D3}-{i}.bin"), datagrams[i]);
                count++;
            }
        }

        return count;
    }

    private static Recorder Recording(NodeId id, IMembershipProtocolFactory membership, Dictionary<ushort, List<byte[]>> recorded) =>
        new(new ControlPlaneNode(id, membership.Create(new MembershipSetup(id, new MemberMetadata(0, 2000, 4096), [new NodeId(0)])), new PowerOfChoicesPlacement(2), new ReactiveChurnHandler(TimeSpan.FromSeconds(5)), Options), recorded);

    private sealed class Recorder(ControlPlaneNode inner, Dictionary<ushort, List<byte[]>> recorded) : INode
    {
        public ControlPlaneNode Inner => inner;

        public void OnStart(NodeContext context) => inner.OnStart(context);

        public void OnTimer(NodeContext context, TimerTag tag) => inner.OnTimer(context, tag);

        public void OnContainerEvent(NodeContext context, ContainerEvent containerEvent) => inner.OnContainerEvent(context, containerEvent);

        public void OnMessage(NodeContext context, NodeId from, InboundMessage message)
        {
            var list = recorded.TryGetValue(message.Type.Value, out var l) ? l : recorded[message.Type.Value] = [];
            if (list.Count < 3)
            {
                // The envelope: the format version, the type as a VarUInt32, then the body.
                var envelope = new List<byte> { WireFormat.Version };
                for (var type = (uint)message.Type.Value; ; type >>= 7)
                {
                    if (type < 0x80)
                    {
                        envelope.Add((byte)type);
                        break;
                    }

                    envelope.Add((byte)(type | 0x80));
                }

                list.Add([.. envelope, .. message.Body]);
            }

            inner.OnMessage(context, from, message);
        }
    }
}
