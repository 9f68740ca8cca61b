using VolunteerCloud.Wire;

namespace VolunteerCloud.Simulator.Workloads.Averaging;

/// <summary>
/// One node of push-pull gossip averaging, as in PeerSim's event-driven example (<c>AverageED</c>):
/// once per cycle it sends its value to a random out-link; a node that receives a request replies with its
/// own value and takes the mean of the two; the requester takes the mean when the reply arrives.
/// </summary>
/// <remarks>32 bytes per node: the graph and cycle length are shared through <see cref="AveragingWorkload"/>.</remarks>
public sealed class AveragingNode : INode
{
    private static readonly TimerTag Tick = new(1);
    private readonly AveragingWorkload _workload;

    /// <summary>Creates a node that starts with <paramref name="initialValue"/>.</summary>
    public AveragingNode(AveragingWorkload workload, double initialValue)
    {
        ArgumentNullException.ThrowIfNull(workload);
        _workload = workload;
        Value = initialValue;
    }

    /// <summary>The node's current estimate of the average.</summary>
    public double Value { get; private set; }

    /// <inheritdoc />
    public void OnStart(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        // The first tick falls at a random point of the first cycle (PeerSim's CDScheduler with randstart).
        context.SetTimer(context.Random.NextTimeSpan(_workload.CycleLength), Tick);
    }

    /// <inheritdoc />
    public void OnTimer(NodeContext context, TimerTag tag)
    {
        ArgumentNullException.ThrowIfNull(context);
        var links = _workload.Graph.LinksOf(context.Self);
        if (links.Length > 0)
        {
            context.Send(links[context.Random.NextInt32(links.Length)], new AverageRequest(Value));
        }

        context.SetTimer(_workload.CycleLength, Tick);
    }

    /// <inheritdoc />
    public void OnMessage(NodeContext context, NodeId from, InboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (message.Is<AverageRequest>())
        {
            var request = message.Read<AverageRequest>();
            context.Send(from, new AverageReply(Value));
            Value = (Value + request.Value) / 2;
        }
        else if (message.Is<AverageReply>())
        {
            Value = (Value + message.Read<AverageReply>().Value) / 2;
        }
    }
}
