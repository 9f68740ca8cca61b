using System.Diagnostics.Metrics;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Containers;
using VolunteerCloud.Simulator.Kernel;
using VolunteerCloud.Simulator.Network;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Simulator;

/// <content>The kernel's side: messages, timers and inputs become events, and events are dispatched to nodes.</content>
public sealed partial class Simulation
{
    internal void CheckNode(NodeId node, string parameterName)
    {
        if ((uint)node.Value >= (uint)_nodeCount)
        {
            throw new ArgumentException($"Node {node} does not exist: the simulation has {_nodeCount} nodes.", parameterName);
        }
    }

    internal ref ulong RandomStateOf(int node) => ref _slots[node].RandomState;

    internal ushort RegionOf(int node) => _slots[node].Region;

    internal void SendMessage(int from, NodeId to, MessageType type, ReadOnlySpan<byte> datagram)
    {
        var statistics = Statistics;
        statistics.CountSent(type, datagram.Length);
        if ((uint)to.Value >= (uint)_nodeCount)
        {
            // An id no node has (read from a corrupt or hostile message, say): a real network has nowhere to deliver it.
            statistics.MessagesToUnknownNodes++;
            return;
        }

        if (!Network.Route(from, to.Value, statistics, out var delay, out var duplicateDelay))
        {
            return;
        }

        EnqueueMessage(from, to.Value, delay, datagram);
        if (duplicateDelay >= 0)
        {
            EnqueueMessage(from, to.Value, duplicateDelay, datagram);
        }
    }

    /// <summary>Queues an input for the current incarnation of <paramref name="node"/>; dropped if it crashes before then.</summary>
    internal void ScheduleNodeInput(long dueTicks, int node, Action<INode, NodeContext> input)
    {
        if (dueTicks < _now)
        {
            throw new ArgumentOutOfRangeException(nameof(dueTicks), dueTicks, "A node input cannot be scheduled in the past.");
        }

        _queue.Push(dueTicks, _inputs.Add(input), node, SimEvent.MakeMeta(EventKind.NodeInput, _slots[node].Epoch));
    }

    internal TimerId SetNodeTimer(int node, TimeSpan delay, TimerTag tag)
    {
        if (delay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, "A timer's delay must be zero or more.");
        }

        var due = DueTime(delay.Ticks);
        var seq = _queue.Push(due, tag.ToInt64(), node, SimEvent.MakeMeta(EventKind.Timer, _slots[node].Epoch));
        return new TimerId(seq, due);
    }

    internal bool CancelNodeTimer(TimerId timer)
    {
        // Events leave the queue in (time, sequence) order, so a timer is still pending exactly when it sorts
        // after the event being processed.
        var pending = timer.DueTicks > _now || (timer.DueTicks == _now && timer.Sequence > _currentSeq);
        if (!pending || timer.Sequence >= _queue.NextSequence || !_cancelledTimers.Add(timer.Sequence))
        {
            return false;
        }

        Statistics.TimersCancelled++;
        return true;
    }

    internal int RegisterProviderTimer(VirtualTimer timer) => _providerTimers.Add(timer);

    internal void ReleaseProviderTimer(int slot) => _providerTimers.Remove(slot);

    internal long ScheduleProviderTimer(int slot, long delayTicks) =>
        _queue.Push(DueTime(delayTicks), slot, -1, (int)EventKind.ProviderTimer);

    private long DueTime(long delayTicks)
    {
        var due = _now + delayTicks;
        return due >= _now
            ? due
            : throw new ArgumentOutOfRangeException(nameof(delayTicks), delayTicks, "The delay reaches beyond the end of time.");
    }

    private void EnqueueMessage(int from, int to, long delay, ReadOnlySpan<byte> datagram)
    {
        var time = DueTime(delay);
        var payload = _payloads.Store(datagram);
        if (_queue.IsDueSoon(time))
        {
            Prefetch.Line(ref _slots[to]);
        }

        _queue.Push(time, ((long)payload << 32) | (uint)from, to, (int)EventKind.Message);
    }

    /// <summary>
    /// Starts loading what the next events will touch: the slots of a freshly loaded window of events, and the
    /// state machine of the very next event's node. Pure hints: the run is the same without them, only slower.
    /// </summary>
    private void PrefetchAhead()
    {
        if (_queue.TakeWindowRefilled())
        {
            foreach (ref readonly var pending in _queue.Window)
            {
                if (pending.Target >= 0)
                {
                    Prefetch.Line(ref _slots[pending.Target]);
                }
            }
        }

        if (_queue.TryPeekNextTarget(out var target) && target >= 0)
        {
            Prefetch.Object(_slots[target].Node);
        }
    }

    private void Dispatch(in SimEvent next)
    {
        _now = next.Time;
        _currentSeq = next.Seq;
        switch (next.Kind)
        {
            case EventKind.Message:
                DeliverMessage(in next);
                break;
            case EventKind.Timer:
                FireTimer(in next);
                break;
            case EventKind.Start:
                StartNode(in next);
                break;
            case EventKind.Action:
                _currentNode = -1;
                Statistics.EventsProcessed++;
                _trace.Add(next.Time, EventKind.Action, -1, 0);
                _actions.Take((int)next.Data)();
                break;
            case EventKind.ProviderTimer:
                if (_providerTimers.TryGet((int)next.Data, out var timer) && timer.IsScheduledAs(next.Seq))
                {
                    FireProviderTimer(timer, in next);
                }

                break;
            case EventKind.NodeCommand:
                var command = _commands.Take((int)next.Data);
                if (_slots[next.Target].Node is not null)
                {
                    Statistics.EventsProcessed++;
                    _trace.Add(next.Time, EventKind.NodeCommand, next.Target, 0);
                    EnterNode(next.Target);
                    command(_context);
                }

                break;
            case EventKind.NodeInput:
                var input = _inputs.Take((int)next.Data);
                var target = _slots[next.Target].Node;
                if (target is not null && (_slots[next.Target].Epoch & SimEvent.EpochMask) == next.Epoch)
                {
                    Statistics.EventsProcessed++;
                    _trace.Add(next.Time, EventKind.NodeInput, next.Target, 0);
                    EnterNode(next.Target);
                    input(target, _context);
                }

                break;
            default:
                throw new InvalidOperationException($"Unknown event kind {next.Kind}.");
        }
    }

    private void EnterNode(int node)
    {
        _currentNode = node;
        _context.Enter(node);
    }

    private void DeliverMessage(in SimEvent next)
    {
        var from = (int)(uint)next.Data;
        var payload = (int)(next.Data >> 32);
        var node = _slots[next.Target].Node;
        if (node is null)
        {
            Statistics.MessagesToDownNodes++;
            _payloads.Release(payload);
            return;
        }

        var bytes = _payloads.Get(payload);
        var statistics = Statistics;
        statistics.EventsProcessed++;
        statistics.MessagesDelivered++;
        statistics.BytesDelivered += bytes.Length;
        _trace.AddMessage(next.Time, next.Target, from, bytes);
        var message = WireFormat.Decode(bytes);
        EnterNode(next.Target);
        node.OnMessage(_context, new NodeId(from), message);
        _payloads.Release(payload);
    }

    private void FireTimer(in SimEvent next)
    {
        if (_cancelledTimers.Count != 0 && _cancelledTimers.Remove(next.Seq))
        {
            return;
        }

        var node = _slots[next.Target].Node;
        if (node is null || (_slots[next.Target].Epoch & SimEvent.EpochMask) != next.Epoch)
        {
            return; // set before the node crashed
        }

        Statistics.EventsProcessed++;
        Statistics.TimersFired++;
        _trace.Add(next.Time, EventKind.Timer, next.Target, next.Data);
        EnterNode(next.Target);
        node.OnTimer(_context, TimerTag.FromInt64(next.Data));
    }

    private void FireProviderTimer(VirtualTimer timer, in SimEvent next)
    {
        if (timer.Owner >= 0)
        {
            ref readonly var slot = ref _slots[timer.Owner];
            if (slot.Node is null || slot.Epoch != timer.OwnerEpoch)
            {
                return; // its node crashed since it was created
            }

            EnterNode(timer.Owner);
        }
        else
        {
            _currentNode = -1;
        }

        Statistics.EventsProcessed++;
        _trace.Add(next.Time, EventKind.ProviderTimer, timer.Owner, 0);
        timer.Fire();
    }

    private void StartNode(in SimEvent next)
    {
        var node = _slots[next.Target].Node;
        if (node is null || (_slots[next.Target].Epoch & SimEvent.EpochMask) != next.Epoch)
        {
            return; // crashed again before it could start
        }

        Statistics.EventsProcessed++;
        _trace.Add(next.Time, EventKind.Start, next.Target, 0);
        EnterNode(next.Target);
        node.OnStart(_context);
    }

    private void EnterRun()
    {
        if (_running)
        {
            throw new InvalidOperationException("The simulation is already running: an action or node cannot run it from inside.");
        }

        ThrowIfFaulted();
        _running = true;
    }

    private void ThrowIfFaulted()
    {
        if (_fault is not null)
        {
            throw new InvalidOperationException(
                $"The simulation (seed {Seed}) failed earlier at virtual time {Now} and cannot go on.", _fault);
        }
    }

    private SimulationException Fault(Exception error, in SimEvent failing)
    {
        _fault = error;
        var where = failing.Target >= 0 ? $" for node n{failing.Target}" : string.Empty;
        return new SimulationException(
            $"Simulation with seed {Seed} failed at virtual time {Now} handling a {failing.Kind} event{where}: {error.Message} " +
            $"Replay it with seed {Seed}.",
            error)
        {
            Seed = Seed,
            Time = Now,
        };
    }

    /// <summary>Per-node state the kernel keeps: 24 bytes.</summary>
    private struct NodeSlot
    {
        public INode? Node;
        public ulong RandomState;
        public int Epoch;
        public ushort Region;
    }
}
