using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VolunteerCloud.Simulator.Network;

namespace VolunteerCloud.Simulator;

/// <summary>How a <see cref="Simulation"/> is set up.</summary>
public sealed class SimulationOptions
{
    /// <summary>The run's seed: every random choice of the run derives from it. Default: 1.</summary>
    public ulong Seed { get; set; } = 1;

    /// <summary>The wall-clock instant virtual time zero stands for. Default: 2000-01-01T00:00:00Z.</summary>
    public DateTimeOffset StartTime { get; set; } = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The network's initial conditions. Default: see <see cref="NetworkOptions"/>.</summary>
    public NetworkOptions Network { get; set; } = new();

    /// <summary>How many nodes to make room for up front (a hint; more can be added). Default: 0.</summary>
    public int ExpectedNodes { get; set; }

    /// <summary>Where node and simulator logs go. Default: nowhere.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Network, nameof(Network));
        ArgumentNullException.ThrowIfNull(LoggerFactory, nameof(LoggerFactory));
        ArgumentOutOfRangeException.ThrowIfNegative(ExpectedNodes, nameof(ExpectedNodes));
        Network.Validate();
    }
}

/// <summary>Counters of what a run has done so far.</summary>
public sealed class SimulationStatistics
{
    /// <summary>Events taken from the queue and acted on (starts, timers, deliveries, control actions).</summary>
    public long EventsProcessed { get; internal set; }

    /// <summary>Timers that fired on a live node.</summary>
    public long TimersFired { get; internal set; }

    /// <summary>Timers cancelled before they fired.</summary>
    public long TimersCancelled { get; internal set; }

    /// <summary>Messages nodes sent.</summary>
    public long MessagesSent { get; internal set; }

    /// <summary>Bytes nodes sent (whole datagrams).</summary>
    public long BytesSent { get; internal set; }

    /// <summary>Messages handed to a live recipient (duplicates count twice).</summary>
    public long MessagesDelivered { get; internal set; }

    /// <summary>Bytes handed to live recipients.</summary>
    public long BytesDelivered { get; internal set; }

    /// <summary>Messages lost by the network's loss rate.</summary>
    public long MessagesLost { get; internal set; }

    /// <summary>Messages dropped because they would have crossed a partition.</summary>
    public long MessagesBlocked { get; internal set; }

    /// <summary>Messages the network delivered twice.</summary>
    public long MessagesDuplicated { get; internal set; }

    /// <summary>Messages that arrived at a node that was down.</summary>
    public long MessagesToDownNodes { get; internal set; }

    /// <summary>Messages addressed to a node id the simulation does not have: dropped and counted, as the daemon counts a datagram for an unknown peer.</summary>
    public long MessagesToUnknownNodes { get; internal set; }

    private readonly long[] _sentByType = new long[256];
    private readonly long[] _bytesByType = new long[256];
    private readonly Dictionary<ushort, (long Messages, long Bytes)> _otherTypes = [];

    /// <summary>Messages and bytes sent, by message type: who spends the bandwidth.</summary>
    public IReadOnlyDictionary<Wire.MessageType, (long Messages, long Bytes)> SentByType
    {
        get
        {
            var result = new SortedDictionary<ushort, (long, long)>(_otherTypes);
            for (var type = 0; type < _sentByType.Length; type++)
            {
                if (_sentByType[type] > 0)
                {
                    result[(ushort)type] = (_sentByType[type], _bytesByType[type]);
                }
            }

            return result.ToDictionary(e => new Wire.MessageType(e.Key), e => e.Value);
        }
    }

    internal void CountSent(Wire.MessageType type, int bytes)
    {
        MessagesSent++;
        BytesSent += bytes;
        if (type.Value < _sentByType.Length)
        {
            _sentByType[type.Value]++;
            _bytesByType[type.Value] += bytes;
        }
        else
        {
            var (messages, total) = _otherTypes.GetValueOrDefault(type.Value);
            _otherTypes[type.Value] = (messages + 1, total + bytes);
        }
    }
}

/// <summary>
/// A simulation failed: a node or control action threw. The message names the seed, the virtual time and
/// the event, so the run can be replayed exactly.
/// </summary>
public sealed class SimulationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SimulationException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public SimulationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public SimulationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The seed of the failed run.</summary>
    public ulong Seed { get; init; }

    /// <summary>The virtual time of the failing event.</summary>
    public TimeSpan Time { get; init; }
}
