using VolunteerCloud.Simulator.Network;
using VolunteerCloud.Simulator.Tests.Support;

namespace VolunteerCloud.Simulator.Tests.Kernel;

public sealed class CrashRestartTests
{
    private static SimulationOptions Options() => new() { Network = { Latency = LatencyModel.Constant(TimeSpan.FromMilliseconds(10)) } };

    [Fact]
    public void A_crashed_node_gets_no_messages_and_its_timers_never_fire_even_after_a_restart()
    {
        using var simulation = new Simulation(Options());
        var before = new ScriptedNode { Started = c => c.SetTimer(TimeSpan.FromSeconds(2), new TimerTag(1)) };
        var after = new ScriptedNode();
        var target = simulation.AddNode(before);
        var sender = simulation.AddNode(new ScriptedNode
        {
            Started = c => c.SetTimer(TimeSpan.FromSeconds(1), new TimerTag(2)),
            Timer = (c, _) => ScriptedNode.SendNote(c, target, 1),
        });

        simulation.RunFor(TimeSpan.FromMilliseconds(500));
        simulation.Crash(target);
        Assert.False(simulation.IsUp(target));
        Assert.Null(simulation.GetNode(target));
        simulation.RunFor(TimeSpan.FromSeconds(1)); // the note arrives at 1.01 s: target is down
        simulation.Restart(target, after);
        simulation.RunFor(TimeSpan.FromSeconds(5));

        Assert.Equal(["start"], before.Log.Select(s => s.What));
        Assert.Equal(["start"], after.Log.Select(s => s.What));
        Assert.Equal(TimeSpan.FromSeconds(1.5), after.Log[0].At);
        Assert.Equal(1, simulation.Statistics.MessagesToDownNodes);
        Assert.True(simulation.IsUp(sender));
    }

    [Fact]
    public void A_message_for_a_node_that_does_not_exist_is_dropped_and_counted_not_a_crash()
    {
        // A node may send to any id it read from a message; a corrupt one used to end the whole run (#21).
        using var simulation = new Simulation(Options());
        var receiver = new ScriptedNode();
        var to = simulation.AddNode(receiver);
        simulation.AddNode(new ScriptedNode { Started = c => { ScriptedNode.SendNote(c, new NodeId(102), 1); ScriptedNode.SendNote(c, to, 2); } });

        simulation.RunFor(TimeSpan.FromSeconds(1));

        Assert.Equal(1, simulation.Statistics.MessagesToUnknownNodes);
        Assert.Equal(2, simulation.Statistics.MessagesSent);
        Assert.Equal(2, receiver.Log.Single(s => s.What == "message").Number);
    }

    [Fact]
    public void Messages_already_sent_by_a_node_that_crashes_still_arrive()
    {
        using var simulation = new Simulation(Options());
        var receiver = new ScriptedNode();
        var to = simulation.AddNode(receiver);
        var from = simulation.AddNode(new ScriptedNode { Started = c => ScriptedNode.SendNote(c, to, 5) });

        simulation.RunFor(TimeSpan.FromMilliseconds(1));
        simulation.Crash(from);
        simulation.RunFor(TimeSpan.FromSeconds(1));

        Assert.Equal(5, receiver.Log.Single(s => s.What == "message").Number);
    }

    [Fact]
    public void Crashing_a_down_node_or_restarting_an_up_one_is_refused()
    {
        using var simulation = new Simulation(Options());
        var node = simulation.AddNode(new ScriptedNode());

        Assert.Throws<InvalidOperationException>(() => simulation.Restart(node, new ScriptedNode()));
        simulation.Crash(node);
        Assert.Throws<InvalidOperationException>(() => simulation.Crash(node));
        Assert.Throws<ArgumentException>(() => simulation.Crash(new NodeId(5)));
    }
}
