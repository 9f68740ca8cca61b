using VolunteerCloud.Containers;
using VolunteerCloud.Wire;

namespace VolunteerCloud;

/// <summary>
/// A node: a single-threaded, deterministic state machine. The runtime (the simulator, or the host
/// daemon) feeds it one input at a time; the node acts only through the <see cref="NodeContext"/> it is
/// handed with each input: it sends messages and sets or cancels timers, and those effects take place
/// after the call returns. A node never blocks, never awaits, never reads the wall clock and never uses
/// randomness other than <see cref="NodeContext.Random"/>; so the same node code runs in simulation and
/// for real, and a simulated run replays exactly from its seed.
/// </summary>
public interface INode
{
    /// <summary>The node has been started (first start or restart after a crash).</summary>
    /// <param name="context">The node's context; valid only during this call.</param>
    void OnStart(NodeContext context);

    /// <summary>A message for this node has arrived.</summary>
    /// <param name="context">The node's context; valid only during this call.</param>
    /// <param name="from">The node that sent the message.</param>
    /// <param name="message">The message; its bytes are valid only during this call.</param>
    void OnMessage(NodeContext context, NodeId from, InboundMessage message);

    /// <summary>A timer set by this node has fired.</summary>
    /// <param name="context">The node's context; valid only during this call.</param>
    /// <param name="tag">The tag the timer was set with.</param>
    void OnTimer(NodeContext context, TimerTag tag);

    /// <summary>
    /// Something happened to a container this node started through <see cref="NodeContext.Containers"/>.
    /// Nodes that run no containers need not implement it.
    /// </summary>
    /// <param name="context">The node's context; valid only during this call.</param>
    /// <param name="containerEvent">What happened, and to which container.</param>
    void OnContainerEvent(NodeContext context, ContainerEvent containerEvent)
    {
    }
}
