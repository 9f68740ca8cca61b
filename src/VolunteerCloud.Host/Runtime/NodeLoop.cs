using System.Threading.Channels;
using VolunteerCloud.Containers;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Host.Runtime;

/// <summary>
/// Runs any <see cref="INode"/> on a real machine, as <c>Simulation</c> runs it in virtual time: one loop takes the
/// node's inputs one at a time from a bounded channel — datagrams from peers, timers on the system clock, container
/// events, and commands from the API — and hands each to the node with its <see cref="HostNodeContext"/>. A full queue
/// drops datagrams (as a full socket buffer would) and never timers, container events or commands.
/// </summary>
/// <typeparam name="TNode">The node's type (commands see it as such).</typeparam>
internal sealed class NodeLoop<TNode>
    where TNode : INode
{
    /// <summary>The most inputs waiting at once.</summary>
    public const int Capacity = 10_000;

    private readonly Channel<Input> _inputs = Channel.CreateBounded<Input>(new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly TaskCompletionSource _running = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _droppedInputs;

    /// <summary>Datagrams dropped because the queue was full.</summary>
    public long DroppedInputs => Interlocked.Read(ref _droppedInputs);

    /// <summary>Completes once the node has started and its loop runs.</summary>
    public Task Running => _running.Task;

    /// <summary>A datagram from a peer (dropped when the queue is full).</summary>
    public void PostDatagram(NodeId from, byte[] bytes)
    {
        if (!_inputs.Writer.TryWrite(new DatagramInput(from, bytes)))
        {
            Interlocked.Increment(ref _droppedInputs);
        }
    }

    /// <summary>A timer the context set has fired (never dropped).</summary>
    public void PostTimer(TimerId id, TimerTag tag) => Post(new TimerInput(id, tag));

    /// <summary>A container event of the engine (never dropped).</summary>
    public void PostContainerEvent(ContainerEvent containerEvent) => Post(new ContainerInput(containerEvent));

    /// <summary>Runs <paramref name="action"/> on the loop, between two inputs, and returns its result (or its exception).</summary>
    public async Task<T> InvokeAsync<T>(Func<TNode, NodeContext, T> action, CancellationToken cancellationToken = default)
    {
        await _running.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        var command = new CommandInput((node, context) => action(node, context));
        await _inputs.Writer.WriteAsync(command, cancellationToken).ConfigureAwait(false);
        return (T)(await command.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Takes no more inputs; the loop ends once it has handled those waiting.</summary>
    public void Complete() => _inputs.Writer.TryComplete();

    /// <summary>
    /// Starts the node, then hands it every input until <paramref name="stoppingToken"/> fires or <see cref="Complete"/>
    /// is called. <paramref name="started"/> runs after the start, <paramref name="afterInput"/> after every input, on
    /// the loop. An input that throws a protocol or argument error is logged through <paramref name="failed"/> and the
    /// loop goes on; a command's exception goes back to its caller.
    /// </summary>
    public async Task RunAsync(TNode node, HostNodeContext context, Action started, Action afterInput, Action<string, Exception> failed, CancellationToken stoppingToken)
    {
        node.OnStart(context);
        started();
        _running.TrySetResult();
        try
        {
            await foreach (var input in _inputs.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    Handle(node, context, input);
                }
                catch (Exception e) when (input is CommandInput command)
                {
                    command.Result.TrySetException(e);
                }
                catch (Exception e) when (e is WireFormatException or InvalidOperationException or ArgumentException or KeyNotFoundException)
                {
                    failed(input.GetType().Name, e);
                }

                afterInput();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Post(Input input)
    {
        if (!_inputs.Writer.TryWrite(input))
        {
            _ = _inputs.Writer.WriteAsync(input).AsTask(); // waits for room rather than drop
        }
    }

    private static void Handle(TNode node, HostNodeContext context, Input input)
    {
        switch (input)
        {
            case DatagramInput datagram:
                node.OnMessage(context, datagram.From, WireFormat.Decode(datagram.Bytes));
                break;
            case TimerInput timer:
                if (context.TakeFired(timer.Id))
                {
                    node.OnTimer(context, timer.Tag);
                }

                break;
            case ContainerInput container:
                node.OnContainerEvent(context, container.Event);
                break;
            case CommandInput command:
                command.Result.TrySetResult(command.Action(node, context));
                break;
        }
    }

    private abstract record Input;

    private sealed record DatagramInput(NodeId From, byte[] Bytes) : Input;

    private sealed record TimerInput(TimerId Id, TimerTag Tag) : Input;

    private sealed record ContainerInput(ContainerEvent Event) : Input;

    private sealed record CommandInput(Func<TNode, NodeContext, object?> Action) : Input
    {
        public TaskCompletionSource<object?> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
