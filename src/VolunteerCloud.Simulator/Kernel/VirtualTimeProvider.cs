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
    /// then every <paramref name="period"/> (a zero or infinite period means once). A timer created while a node
    /// handles an input belongs to that node: its callback runs as that node's input, and never after the node
    /// crashes.
    /// </summary>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new VirtualTimer(_simulation, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }
}

/// <summary>
/// A timer on virtual time. Created inside a node's input, it belongs to that node: its callback runs as an
/// input of that node and never after the node crashes. Created outside, it runs as a control action.
/// </summary>
internal sealed class VirtualTimer : ITimer
{
    private readonly Simulation _simulation;
    private readonly TimerCallback _callback;
    private readonly object? _state;
    private readonly int _owner;
    private readonly int _ownerEpoch;
    private long _period = Timeout.InfiniteTimeSpan.Ticks;
    private int _slot = -1;
    private long _scheduledSeq = -1;
    private long _version;
    private bool _disposed;

    public VirtualTimer(Simulation simulation, TimerCallback callback, object? state)
    {
        _simulation = simulation;
        _callback = callback;
        _state = state;
        (_owner, _ownerEpoch) = simulation.CurrentNodeAndEpoch;
    }

    /// <summary>The node the timer belongs to, or -1.</summary>
    public int Owner => _owner;

    /// <summary>The owner's epoch when the timer was created: a crash since then silences the timer.</summary>
    public int OwnerEpoch => _ownerEpoch;

    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        if (_disposed)
        {
            return false;
        }

        ValidateInterval(dueTime, nameof(dueTime));
        ValidateInterval(period, nameof(period));
        _version++;
        _period = period.Ticks;
        _scheduledSeq = -1;
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            Schedule(dueTime.Ticks);
        }
        else
        {
            Unregister();
        }

        return true;
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _version++;
            _scheduledSeq = -1;
            Unregister();
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Whether the queued event <paramref name="seq"/> is this timer's current schedule (not superseded by Change or Dispose).</summary>
    internal bool IsScheduledAs(long seq) => !_disposed && seq == _scheduledSeq;

    /// <summary>
    /// Runs the callback; then, unless the callback changed or disposed the timer, schedules the next run of
    /// a periodic timer, or gives a one-shot timer's slot back (<see cref="Change"/> takes a new one).
    /// </summary>
    internal void Fire()
    {
        _scheduledSeq = -1;
        var version = _version;
        _callback(_state);
        if (_version != version)
        {
            return;
        }

        if (_period > 0 && _period != Timeout.InfiniteTimeSpan.Ticks)
        {
            Schedule(_period);
        }
        else
        {
            Unregister();
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

    private void Unregister()
    {
        if (_slot >= 0)
        {
            _simulation.ReleaseProviderTimer(_slot);
            _slot = -1;
        }
    }

    private static void ValidateInterval(TimeSpan value, string name)
    {
        if (value < TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(name, value, "Must be zero or more, or Timeout.InfiniteTimeSpan.");
        }
    }
}
