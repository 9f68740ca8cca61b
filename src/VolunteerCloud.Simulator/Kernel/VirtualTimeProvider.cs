namespace VolunteerCloud.Simulator.Kernel;

/// <summary>
/// A <see cref="TimeProvider"/> whose clock is the simulation's virtual time. Timers created from it do not
/// run on threads: they become queued events and their callbacks run in the simulation loop, in time order.
/// </summary>
public sealed class VirtualTimeProvider : TimeProvider
{
    private readonly Simulation _simulation;

    internal VirtualTimeProvider(Simulation simulation)
    {
        _simulation = simulation;
    }

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>Ticks of 100 ns, like <see cref="TimeSpan"/>.</summary>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>The start instant plus the virtual time elapsed.</summary>
    public override DateTimeOffset GetUtcNow() => _simulation.StartTime + _simulation.Now;

    /// <summary>The virtual time elapsed, in ticks.</summary>
    public override long GetTimestamp() => _simulation.Now.Ticks;

    /// <summary>
    /// Creates a timer whose callback runs in the simulation loop at virtual time now + <paramref name="dueTime"/>,
    /// then every <paramref name="period"/> (a zero or infinite period means once).
    /// </summary>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new VirtualTimer(_simulation, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }
}

internal sealed class VirtualTimer : ITimer
{
    private readonly Simulation _simulation;
    private readonly TimerCallback _callback;
    private readonly object? _state;
    private long _period = Timeout.InfiniteTimeSpan.Ticks;
    private int _slot = -1;
    private long _scheduledSeq = -1;
    private bool _disposed;

    public VirtualTimer(Simulation simulation, TimerCallback callback, object? state)
    {
        _simulation = simulation;
        _callback = callback;
        _state = state;
    }

    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        if (_disposed)
        {
            return false;
        }

        ValidateInterval(dueTime, nameof(dueTime));
        ValidateInterval(period, nameof(period));
        _period = period.Ticks;
        _scheduledSeq = -1;
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            Schedule(dueTime.Ticks);
        }

        return true;
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _scheduledSeq = -1;
            if (_slot >= 0)
            {
                _simulation.ReleaseProviderTimer(_slot);
                _slot = -1;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Whether the queued event <paramref name="seq"/> is this timer's current schedule (not superseded by Change or Dispose).</summary>
    internal bool IsScheduledAs(long seq) => !_disposed && seq == _scheduledSeq;

    /// <summary>Runs the callback and, for a periodic timer, schedules the next run.</summary>
    internal void Fire()
    {
        _scheduledSeq = -1;
        var period = _period;
        _callback(_state);
        if (!_disposed && _scheduledSeq == -1 && period > 0 && period != Timeout.InfiniteTimeSpan.Ticks)
        {
            Schedule(period);
        }
    }

    private void Schedule(long delayTicks)
    {
        if (_slot < 0)
        {
            _slot = _simulation.RegisterProviderTimer(this);
        }

        _scheduledSeq = _simulation.ScheduleProviderTimer(_slot, delayTicks);
    }

    private static void ValidateInterval(TimeSpan value, string name)
    {
        if (value < TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(name, value, "Must be zero or more, or Timeout.InfiniteTimeSpan.");
        }
    }
}
