using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership;

/// <summary>
/// Decides who is alive. A membership protocol runs inside a node: the node hands it the inputs that are
/// its own (its message types, its timer kinds) and it acts through the node's <see cref="NodeContext"/>.
/// Deterministic and synchronous: no threads, no clock but the context's, no randomness but the context's.
/// </summary>
/// <remarks>
/// Message types 1–63 and timer kinds 100–199 belong to membership protocols (docs/wire-format.md).
/// </remarks>
public interface IMembershipProtocol
{
    /// <summary>The node this protocol runs on.</summary>
    NodeId Self { get; }

    /// <summary>The current view: an immutable snapshot, rebuilt only after a change.</summary>
    MembershipView View { get; }

    /// <summary>What the protocol has done on this node (probes, suspicions, refutations, ...).</summary>
    MembershipCounters Counters { get; }

    /// <summary>
    /// Raised, synchronously and in order, for every change to the view, during the input that made it and with that
    /// input's context: a listener acts then (sets a timer, sends), never keeps the context.
    /// </summary>
    event MembershipChangedHandler? Changed;

    /// <summary>Starts the protocol: announces this node and joins the cluster through its seeds.</summary>
    void Start(NodeContext context);

    /// <summary>Handles a message if it is one of the protocol's.</summary>
    /// <returns><see langword="true"/> if the message was the protocol's (handled or dropped as malformed).</returns>
    bool TryHandleMessage(NodeContext context, NodeId from, InboundMessage message);

    /// <summary>Handles a timer if it is one of the protocol's.</summary>
    /// <returns><see langword="true"/> if the timer was the protocol's.</returns>
    bool TryHandleTimer(NodeContext context, TimerTag tag);

    /// <summary>Leaves the cluster gracefully: tells the others this node is going, on purpose.</summary>
    void Leave(NodeContext context);

    /// <summary>
    /// Asks to join through a member found after start — a seed that did not answer at first (a host's retry-join).
    /// Protocols where joining needs nothing of the kind (a central registry) ignore it.
    /// </summary>
    /// <param name="context">The node's context.</param>
    /// <param name="seed">A member to join through.</param>
    void JoinThrough(NodeContext context, NodeId seed)
    {
    }
}

/// <summary>Handles one change of a node's view (<see cref="IMembershipProtocol.Changed"/>).</summary>
/// <param name="context">The context of the input during which the view changed; valid only during the call.</param>
/// <param name="change">The change.</param>
public delegate void MembershipChangedHandler(NodeContext context, MembershipChange change);

/// <summary>What a membership protocol instance is created with.</summary>
/// <param name="Self">The node it runs on.</param>
/// <param name="Metadata">What the node announces about itself.</param>
/// <param name="Seeds">Nodes to join through (may include <paramref name="Self"/>, which is skipped; empty for the first node).</param>
public sealed record MembershipSetup(NodeId Self, MemberMetadata Metadata, IReadOnlyList<NodeId> Seeds)
{
    /// <summary>
    /// For experiments only: members to know from the start, as if the node had already converged (the node
    /// still announces itself). Lets a study of a 10 000-node cluster skip the bootstrap. Default: none.
    /// </summary>
    public IReadOnlyList<Member> InitialMembers { get; init; } = [];
}

/// <summary>Creates one membership protocol instance per node; registered through dependency injection.</summary>
public interface IMembershipProtocolFactory
{
    /// <summary>A short name for reports, e.g. "swim".</summary>
    string Name { get; }

    /// <summary>Creates the protocol for one node.</summary>
    IMembershipProtocol Create(MembershipSetup setup);
}
