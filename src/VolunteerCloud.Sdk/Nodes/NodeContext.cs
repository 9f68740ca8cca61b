using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using VolunteerCloud.Containers;
using VolunteerCloud.Randomness;
using VolunteerCloud.Wire;

namespace VolunteerCloud;

/// <summary>
/// Everything a node may touch, handed to it with each input. The simulator and the host daemon each
/// provide one; a node cannot tell which it runs in.
/// </summary>
/// <remarks>
/// Effects (messages, timers) are queued by the runtime and take place after the current input has been
/// handled: a timer set with a zero delay fires as a later input, never inside the call that set it.
/// A context is valid only during the call it was passed to; do not keep it.
/// </remarks>
public abstract class NodeContext
{
    /// <summary>The node this context belongs to.</summary>
    public abstract NodeId Self { get; }

    /// <summary>
    /// The node's clock. Virtual time in the simulator, the system clock in the host. The only source of
    /// "now" a node may use.
    /// </summary>
    public abstract TimeProvider TimeProvider { get; }

    /// <summary>
    /// The node's monotonic time: how long since its clock's origin (virtual time since the simulation began; an
    /// arbitrary instant of the host's clock). For deadlines and durations, never a date.
    /// </summary>
    public TimeSpan Now => TimeProvider.GetElapsedTime(0);

    /// <summary>Ticks of <see cref="Now"/> since <paramref name="origin"/>, an earlier reading of it (e.g. when a protocol started).</summary>
    public long TicksSince(TimeSpan origin) => (Now - origin).Ticks;

    /// <summary>
    /// The node's own seeded random stream, independent of every other node's stream. The only source of
    /// randomness a node may use.
    /// </summary>
    public abstract RandomSource Random { get; }

    /// <summary>
    /// The host's container engine: Docker Engine on a real host, simulated containers in the simulator,
    /// <see cref="NoContainerRuntime"/> where none is attached. Its results arrive as
    /// <see cref="INode.OnContainerEvent"/> inputs.
    /// </summary>
    public virtual IContainerRuntime Containers => NoContainerRuntime.Instance;

    /// <summary>A logger for the node.</summary>
    public abstract ILogger Logger { get; }

    /// <summary>The meter the node's instruments are created from (create them once, not per input).</summary>
    public abstract Meter Meter { get; }

    /// <summary>
    /// Sends a message to a node. Delivery is best-effort, as with UDP: the message may be lost, delayed,
    /// duplicated or reordered, and nothing tells the sender.
    /// </summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="to">The node to send to (may be <see cref="Self"/>).</param>
    /// <param name="message">The message; it is encoded before this method returns.</param>
    /// <exception cref="WireFormatException">The encoded message exceeds <see cref="WireFormat.MaxDatagramBytes"/>.</exception>
    public void Send<TMessage>(NodeId to, in TMessage message)
        where TMessage : IWireMessage<TMessage>
    {
        var buffer = SendBuffer;
        var length = WireFormat.Encode(in message, buffer);
        SendEncoded(to, TMessage.MessageType, buffer[..length]);
    }

    /// <summary>
    /// Sets a one-shot timer. When it fires the node receives <see cref="INode.OnTimer"/> with
    /// <paramref name="tag"/>, as an input of its own, at or after <paramref name="delay"/> from now.
    /// </summary>
    /// <param name="delay">How long from now; zero or more.</param>
    /// <param name="tag">Handed back when the timer fires.</param>
    /// <returns>A handle for <see cref="CancelTimer"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    public abstract TimerId SetTimer(TimeSpan delay, TimerTag tag);

    /// <summary>Cancels a timer that has not fired yet.</summary>
    /// <param name="timer">The handle <see cref="SetTimer"/> returned.</param>
    /// <returns><see langword="true"/> if the timer was pending and will not fire; <see langword="false"/>
    /// if it had already fired or been cancelled.</returns>
    public abstract bool CancelTimer(TimerId timer);

    /// <summary>
    /// A scratch buffer of at least <see cref="WireFormat.MaxDatagramBytes"/> bytes that
    /// <see cref="Send{TMessage}"/> encodes into. Its contents are copied by <see cref="SendEncoded"/>.
    /// </summary>
    protected abstract Span<byte> SendBuffer { get; }

    /// <summary>Hands an encoded datagram to the runtime's transport.</summary>
    /// <param name="to">The destination node.</param>
    /// <param name="type">The message type (already inside <paramref name="datagram"/>; given for accounting).</param>
    /// <param name="datagram">The whole encoded datagram (envelope and body); valid only during the call.</param>
    protected abstract void SendEncoded(NodeId to, MessageType type, ReadOnlySpan<byte> datagram);
}
