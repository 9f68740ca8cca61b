using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using VolunteerCloud.Containers;
using VolunteerCloud.Randomness;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Simulator.Kernel;

/// <summary>
/// The context every simulated node sees. One instance serves all nodes (a flyweight): before each input
/// the simulation points it at the node the input is for, so a million nodes cost no contexts.
/// </summary>
internal sealed class SimulationNodeContext : NodeContext
{
    private readonly Simulation _simulation;
    private readonly NodeRandomSource _random;
    private readonly NodeLogger _logger;
    private readonly SkewedTimeProvider _skewed;
    private readonly byte[] _sendBuffer = new byte[WireFormat.MaxDatagramBytes];
    private int _current = -1;

    public SimulationNodeContext(Simulation simulation, ILogger logger)
    {
        _simulation = simulation;
        _random = new NodeRandomSource(simulation);
        _logger = new NodeLogger(simulation, this, logger);
        _skewed = new SkewedTimeProvider(simulation, this);
    }

    public override NodeId Self => new(_current);

    public override TimeProvider TimeProvider => _simulation.HasClockOffsets ? _skewed : _simulation.TimeProvider;

    public override RandomSource Random => _random;

    public override ILogger Logger => _logger;

    public override Meter Meter => _simulation.Meter;

    public override IContainerRuntime Containers =>
        _simulation.Containers is { } containers ? containers.RuntimeOf(_current) : NoContainerRuntime.Instance;

    protected override Span<byte> SendBuffer => _sendBuffer;

    public void Enter(int node)
    {
        _current = node;
        _random.Enter(node);
    }

    public override TimerId SetTimer(TimeSpan delay, TimerTag tag) => _simulation.SetNodeTimer(_current, delay, tag);

    public override bool CancelTimer(TimerId timer) => _simulation.CancelNodeTimer(timer);

    protected override void SendEncoded(NodeId to, MessageType type, ReadOnlySpan<byte> datagram) =>
        _simulation.SendMessage(_current, to, type, datagram);

    /// <summary>The virtual clock as the current node reads it: its wall clock off by its offset, its monotonic clock true.</summary>
    private sealed class SkewedTimeProvider(Simulation simulation, SimulationNodeContext context) : TimeProvider
    {
        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

        public override long TimestampFrequency => simulation.TimeProvider.TimestampFrequency;

        public override DateTimeOffset GetUtcNow() =>
            simulation.TimeProvider.GetUtcNow().AddTicks(simulation.ClockOffsetTicks(context._current));

        public override long GetTimestamp() => simulation.TimeProvider.GetTimestamp();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            simulation.TimeProvider.CreateTimer(callback, state, dueTime, period);
    }

    /// <summary>The current node's stream: exactly <c>SplittableRandom.ForStream(seed, node)</c>, with 8 bytes of state per node.</summary>
    private sealed class NodeRandomSource(Simulation simulation) : RandomSource
    {
        private int _node = -1;
        private int _gammaNode = -1;
        private ulong _gamma;

        public void Enter(int node) => _node = node;

        public override ulong NextUInt64()
        {
            if (_gammaNode != _node)
            {
                _gamma = SplitMix64.StreamGamma(simulation.Seed, (ulong)_node);
                _gammaNode = _node;
            }

            return SplitMix64.Next(ref simulation.RandomStateOf(_node), _gamma);
        }
    }

    /// <summary>Prefixes each line with the virtual time and the node.</summary>
    private sealed class NodeLogger(Simulation simulation, SimulationNodeContext context, ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel))
            {
                return;
            }

            var prefix = $"[{simulation.Now:c} {context.Self}] ";
            inner.Log(logLevel, eventId, state, exception, (s, e) => prefix + formatter(s, e));
        }
    }
}
