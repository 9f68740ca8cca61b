using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using VolunteerCloud.Containers;
using VolunteerCloud.Host.Transport;
using VolunteerCloud.Randomness;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Host.Runtime;

/// <summary>
/// The node's context on a real host: the system clock, a random stream seeded from the operating system, the
/// Docker runtime, the peer transport, and timers that fire as inputs of their own on the runtime's loop.
/// </summary>
internal sealed class HostNodeContext : NodeContext
{
    private readonly byte[] _sendBuffer = new byte[WireFormat.MaxDatagramBytes];
    private readonly ConcurrentDictionary<TimerId, ITimer> _timers = new();
    private readonly PeerTransport _transport;
    private readonly Action<TimerId, TimerTag> _fire;
    private long _timerSequence;

    public HostNodeContext(NodeId self, TimeProvider clock, RandomSource random, IContainerRuntime containers, PeerTransport transport, ILogger logger, Meter meter, Action<TimerId, TimerTag> fire)
    {
        Self = self;
        TimeProvider = clock;
        Random = random;
        Containers = containers;
        _transport = transport;
        Logger = logger;
        Meter = meter;
        _fire = fire;
    }

    public override NodeId Self { get; }

    public override TimeProvider TimeProvider { get; }

    public override RandomSource Random { get; }

    public override IContainerRuntime Containers { get; }

    public override ILogger Logger { get; }

    public override Meter Meter { get; }

    /// <summary>Timers set and not yet fired or cancelled.</summary>
    public int PendingTimers => _timers.Count;

    protected override Span<byte> SendBuffer => _sendBuffer;

    public override TimerId SetTimer(TimeSpan delay, TimerTag tag)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        var id = new TimerId(Interlocked.Increment(ref _timerSequence), (TimeProvider.GetUtcNow() + delay).UtcTicks);
        var timer = TimeProvider.CreateTimer(_ => _fire(id, tag), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timers[id] = timer;
        timer.Change(delay, Timeout.InfiniteTimeSpan);
        return id;
    }

    public override bool CancelTimer(TimerId timer)
    {
        if (!_timers.TryRemove(timer, out var handle))
        {
            return false;
        }

        handle.Dispose();
        return true;
    }

    /// <summary>Called on the loop when a timer's input comes up: whether it still counts (not cancelled meanwhile).</summary>
    public bool TakeFired(TimerId timer)
    {
        if (!_timers.TryRemove(timer, out var handle))
        {
            return false;
        }

        handle.Dispose();
        return true;
    }

    /// <summary>Stops every timer.</summary>
    public void CancelAll()
    {
        foreach (var id in _timers.Keys)
        {
            CancelTimer(id);
        }
    }

    protected override void SendEncoded(NodeId to, MessageType type, ReadOnlySpan<byte> datagram) => _transport.Send(to, datagram);
}
