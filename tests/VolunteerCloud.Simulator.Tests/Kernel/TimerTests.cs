using FsCheck;
using FsCheck.Xunit;
using VolunteerCloud.Simulator.Tests.Support;

namespace VolunteerCloud.Simulator.Tests.Kernel;

public sealed class TimerTests
{
    [Property(MaxTest = 200)]
    public void Timers_fire_at_their_due_time_in_time_then_setting_order(ulong seed, NonEmptyArray<byte> delays)
    {
        // Delays in milliseconds from a small set, so that many timers share a due time.
        var due = delays.Get.Select(d => TimeSpan.FromMilliseconds(d % 17)).ToArray();
        var node = new ScriptedNode
        {
            Started = context =>
            {
                for (var i = 0; i < due.Length; i++)
                {
                    context.SetTimer(due[i], new TimerTag(1, i));
                }
            },
        };
        using var simulation = new Simulation(new SimulationOptions { Seed = seed });
        simulation.AddNode(node);

        simulation.RunFor(TimeSpan.FromSeconds(1));

        var fired = node.Log.Where(s => s.What == "timer").ToList();
        var expected = due.Select((d, i) => (Due: d, Index: i)).OrderBy(t => t.Due).ThenBy(t => t.Index).ToList();
        Assert.Equal(expected.Select(e => e.Index), fired.Select(f => f.Tag.Argument));
        Assert.All(fired, f => Assert.Equal(due[f.Tag.Argument], f.At));
    }

    [Fact]
    public void A_zero_delay_timer_fires_after_the_call_that_set_it_and_after_earlier_events_of_the_same_instant()
    {
        var order = new List<string>();
        using var simulation = new Simulation(new SimulationOptions { Network = { Latency = VolunteerCloud.Simulator.Network.LatencyModel.Constant(TimeSpan.Zero) } });
        ScriptedNode node = null!;
        node = new ScriptedNode
        {
            Started = context =>
            {
                ScriptedNode.SendNote(context, context.Self, 7);
                context.SetTimer(TimeSpan.Zero, new TimerTag(9));
                order.Add("set");
            },
            Timer = (_, _) => order.Add("timer"),
            Received = (_, _, _) => order.Add("message"),
        };
        simulation.AddNode(node);

        simulation.RunFor(TimeSpan.Zero);

        Assert.Equal(["set", "message", "timer"], order);
        Assert.All(node.Log, s => Assert.Equal(TimeSpan.Zero, s.At));
    }

    [Fact]
    public void A_cancelled_timer_never_fires_and_cancelling_reports_whether_it_was_pending()
    {
        var results = new List<bool>();
        TimerId keep = default, cancel = default;
        var node = new ScriptedNode
        {
            Started = context =>
            {
                keep = context.SetTimer(TimeSpan.FromSeconds(1), new TimerTag(1));
                cancel = context.SetTimer(TimeSpan.FromSeconds(2), new TimerTag(2));
                context.SetTimer(TimeSpan.FromSeconds(3), new TimerTag(3));
            },
            Timer = (context, tag) =>
            {
                if (tag.Kind == 1)
                {
                    results.Add(context.CancelTimer(cancel)); // pending: true
                    results.Add(context.CancelTimer(cancel)); // already cancelled: false
                    results.Add(context.CancelTimer(keep));   // firing right now: false
                }
            },
        };
        using var simulation = new Simulation(new SimulationOptions());
        simulation.AddNode(node);

        simulation.RunFor(TimeSpan.FromSeconds(5));

        Assert.Equal([true, false, false], results);
        Assert.Equal([1, 3], node.Log.Where(s => s.What == "timer").Select(s => s.Tag.Kind));
        Assert.Equal(1, simulation.Statistics.TimersCancelled);
    }

    [Fact]
    public void A_negative_delay_is_refused_and_the_failure_names_the_seed()
    {
        var node = new ScriptedNode { Started = context => context.SetTimer(TimeSpan.FromTicks(-1), default) };
        using var simulation = new Simulation(new SimulationOptions { Seed = 77 });
        simulation.AddNode(node);

        var exception = Assert.Throws<SimulationException>(() => simulation.RunFor(TimeSpan.FromSeconds(1)));

        Assert.IsType<ArgumentOutOfRangeException>(exception.InnerException);
        Assert.Contains("seed 77", exception.Message, StringComparison.Ordinal);
        Assert.Equal(77UL, exception.Seed);
        Assert.Throws<InvalidOperationException>(() => simulation.RunFor(TimeSpan.FromSeconds(1)));
    }
}
