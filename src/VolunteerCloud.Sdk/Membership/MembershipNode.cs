using VolunteerCloud.Wire;

namespace VolunteerCloud.Membership;

/// <summary>
/// A node that runs only a membership protocol: what membership experiments and the conformance tests
/// simulate. The volunteer node runs the same protocol beside the control plane.
/// </summary>
public sealed class MembershipNode : INode
{
    /// <summary>Wraps a protocol instance.</summary>
    public MembershipNode(IMembershipProtocol membership)
    {
        ArgumentNullException.ThrowIfNull(membership);
        Membership = membership;
    }

    /// <summary>The protocol this node runs.</summary>
    public IMembershipProtocol Membership { get; }

    /// <inheritdoc />
    public void OnStart(NodeContext context) => Membership.Start(context);

    /// <inheritdoc />
    public void OnMessage(NodeContext context, NodeId from, InboundMessage message) =>
        Membership.TryHandleMessage(context, from, message);

    /// <inheritdoc />
    public void OnTimer(NodeContext context, TimerTag tag) => Membership.TryHandleTimer(context, tag);
}
