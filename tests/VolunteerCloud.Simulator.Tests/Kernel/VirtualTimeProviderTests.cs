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
}
