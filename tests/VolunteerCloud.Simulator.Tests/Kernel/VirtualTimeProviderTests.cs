namespace VolunteerCloud.Simulator.Tests.Kernel;

public sealed class VirtualTimeProviderTests
{
    private static readonly DateTimeOffset Start = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_clock_is_the_start_time_plus_virtual_time()
    {
        using var simulation = new Simulation(new SimulationOptions { StartTime = Start });
        var clock = simulation.TimeProvider;

        simulation.RunFor(TimeSpan.FromMinutes(90));

        Assert.Equal(Start.AddMinutes(90), clock.GetUtcNow());
        Assert.Equal(TimeSpan.FromMinutes(90), clock.GetElapsedTime(0));
        Assert.Equal(TimeZoneInfo.Utc, clock.LocalTimeZone);
    }

    [Fact]
    public void A_node_with_a_clock_offset_reads_a_wrong_wall_clock_but_true_elapsed_time_and_timers()
    {
        using var simulation = new Simulation(new SimulationOptions { StartTime = Start });
        var skewed = new ClockReader();
        var right = new ClockReader();
        simulation.AddNode(skewed);
        simulation.AddNode(right);
        simulation.SetClockOffset(new NodeId(0), TimeSpan.FromHours(-2));

        simulation.RunFor(TimeSpan.FromSeconds(10));
        simulation.SetClockOffset(new NodeId(0), TimeSpan.FromMinutes(30)); // an NTP step, while it runs
        simulation.RunFor(TimeSpan.FromSeconds(10));

        Assert.Equal(TimeSpan.FromMinutes(30), simulation.ClockOffsetOf(new NodeId(0)));
        Assert.Equal([Start.AddSeconds(1).AddHours(-2), Start.AddSeconds(11).AddMinutes(30)], [skewed.Readings[0].Wall, skewed.Readings[10].Wall]);
        Assert.Equal([Start.AddSeconds(1), Start.AddSeconds(11)], [right.Readings[0].Wall, right.Readings[10].Wall]);
        Assert.Equal(right.Readings.Select(r => r.Elapsed), skewed.Readings.Select(r => r.Elapsed)); // timers and elapsed time untouched
        Assert.Equal(Start.AddSeconds(20), simulation.TimeProvider.GetUtcNow()); // outside any node: the true time
    }

    private sealed class ClockReader : INode
    {
        public List<(DateTimeOffset Wall, TimeSpan Elapsed)> Readings { get; } = [];

        public void OnStart(NodeContext context) => context.SetTimer(TimeSpan.FromSeconds(1), new TimerTag(1));

        public void OnMessage(NodeContext context, NodeId from, VolunteerCloud.Wire.InboundMessage message)
        {
        }

        public void OnTimer(NodeContext context, TimerTag tag)
        {
            Readings.Add((context.TimeProvider.GetUtcNow(), context.TimeProvider.GetElapsedTime(0)));
            context.SetTimer(TimeSpan.FromSeconds(1), new TimerTag(1));
        }
    }

    [Fact]
    public void Timers_become_events_that_run_in_the_loop_at_virtual_times()
    {
        using var simulation = new Simulation(new SimulationOptions());
        var fired = new List<TimeSpan>();
        using var once = simulation.TimeProvider.CreateTimer(_ => fired.Add(simulation.Now), null, TimeSpan.FromSeconds(3), Timeout.InfiniteTimeSpan);
        using var periodic = simulation.TimeProvider.CreateTimer(_ => fired.Add(simulation.Now), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));

        Assert.Empty(fired); // never inline
        simulation.RunFor(TimeSpan.FromSeconds(6));

        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5)], fired);
    }

    [Fact]
    public void Change_and_Dispose_supersede_the_schedule()
    {
        using var simulation = new Simulation(new SimulationOptions());
        var fired = new List<TimeSpan>();
        var timer = simulation.TimeProvider.CreateTimer(_ => fired.Add(simulation.Now), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        Assert.True(timer.Change(TimeSpan.FromSeconds(4), Timeout.InfiniteTimeSpan));
        simulation.RunFor(TimeSpan.FromSeconds(5));
        timer.Change(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        simulation.RunFor(TimeSpan.FromSeconds(2.5));
        timer.Dispose();
        simulation.RunFor(TimeSpan.FromSeconds(10));

        Assert.Equal([TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(7)], fired);
        Assert.False(timer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public void A_cancellation_token_source_on_virtual_time_cancels_at_the_virtual_deadline()
    {
        using var simulation = new Simulation(new SimulationOptions());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(30), simulation.TimeProvider);

        simulation.RunFor(TimeSpan.FromSeconds(29));
        Assert.False(cancellation.IsCancellationRequested);
        simulation.RunFor(TimeSpan.FromSeconds(1));
        Assert.True(cancellation.IsCancellationRequested);
    }

    [Fact]
    public void A_periodic_timer_stopped_or_changed_from_its_own_callback_obeys()
    {
        using var simulation = new Simulation(new SimulationOptions());
        var stopped = new List<TimeSpan>();
        var slowed = new List<TimeSpan>();
        ITimer stopper = null!, slower = null!;
        stopper = simulation.TimeProvider.CreateTimer(_ =>
        {
            stopped.Add(simulation.Now);
            stopper.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        slower = simulation.TimeProvider.CreateTimer(_ =>
        {
            slowed.Add(simulation.Now);
            if (slowed.Count == 1)
            {
                slower.Change(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
            }
        }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        simulation.RunFor(TimeSpan.FromSeconds(12));

        Assert.Equal([TimeSpan.FromSeconds(1)], stopped);
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(11)], slowed);
        stopper.Dispose();
        slower.Dispose();
    }

    [Fact]
    public void A_timer_a_node_creates_runs_as_that_node_and_dies_with_it()
    {
        using var simulation = new Simulation(new SimulationOptions { Network = { Latency = VolunteerCloud.Simulator.Network.LatencyModel.Constant(TimeSpan.Zero) } });
        var receiver = new Support.ScriptedNode();
        var to = simulation.AddNode(receiver);
        var timers = new List<ITimer>();
        Support.ScriptedNode Sender() => new()
        {
            Started = c => timers.Add(c.TimeProvider.CreateTimer(_ => Support.ScriptedNode.SendNote(c, to, c.Self.Value), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1))),
        };
        var sender = simulation.AddNode(Sender());
        simulation.AddNode(new Support.ScriptedNode()); // another node, so that "the last node entered" is not the sender

        simulation.RunFor(TimeSpan.FromSeconds(2.5));
        simulation.Crash(sender);
        simulation.RunFor(TimeSpan.FromSeconds(5));

        var notes = receiver.Log.Where(s => s.What == "message").ToList();
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], notes.Select(n => n.At));
        Assert.All(notes, n => Assert.Equal(sender, n.From));
        Assert.All(notes, n => Assert.Equal(sender.Value, n.Number));
        timers.ForEach(t => t.Dispose());
    }

    [Fact]
    public void An_action_cannot_run_the_simulation_from_inside()
    {
        using var simulation = new Simulation(new SimulationOptions { Seed = 5 });
        simulation.Schedule(TimeSpan.FromSeconds(1), () => simulation.RunFor(TimeSpan.FromSeconds(1)));

        var exception = Assert.Throws<SimulationException>(() => simulation.RunFor(TimeSpan.FromSeconds(2)));
        Assert.IsType<InvalidOperationException>(exception.InnerException);
    }
}
