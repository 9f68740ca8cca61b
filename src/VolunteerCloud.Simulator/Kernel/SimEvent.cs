using System.Runtime.InteropServices;

namespace VolunteerCloud.Simulator.Kernel;

/// <summary>What a queued event does when it is taken from the queue.</summary>
internal enum EventKind
{
    /// <summary>A node starts (or restarts): <see cref="INode.OnStart"/>.</summary>
    Start = 1,

    /// <summary>A node's timer fires: <see cref="INode.OnTimer"/>; <see cref="SimEvent.Data"/> is the tag.</summary>
    Timer = 2,

    /// <summary>A message arrives: <see cref="SimEvent.Data"/> holds sender and payload slot.</summary>
    Message = 3,

    /// <summary>A scheduled control action (churn, partitions, observers): <see cref="SimEvent.Data"/> is its slot.</summary>
    Action = 4,

    /// <summary>A timer created through the virtual <see cref="TimeProvider"/>: <see cref="SimEvent.Data"/> is its slot.</summary>
    ProviderTimer = 5,

    /// <summary>A command for one node (an API call, a graceful leave): <see cref="SimEvent.Data"/> is its slot.</summary>
    NodeCommand = 6,

    /// <summary>
    /// An input for one incarnation of a node from a simulated device (a container event): dropped if the node
    /// crashed since it was scheduled. <see cref="SimEvent.Data"/> is its slot.
    /// </summary>
    NodeInput = 7,
}

/// <summary>
/// One queued event: 32 bytes and no object references, so the queue's storage is never scanned by the
/// garbage collector and a million pending events cost 32 MB.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SimEvent
{
    /// <summary>When the event happens, in virtual ticks (100 ns) since the start of the run.</summary>
    public long Time;

    /// <summary>Insertion sequence number: unique, increasing; orders events of equal time.</summary>
    public long Seq;

    /// <summary>Kind-specific payload.</summary>
    public long Data;

    /// <summary>The node the event is for (or -1).</summary>
    public int Target;

    /// <summary>The <see cref="EventKind"/> in the low 4 bits; the target's epoch in the rest (timers and starts).</summary>
    public int Meta;

    public const int EpochMask = (1 << 28) - 1;

    public readonly EventKind Kind => (EventKind)(Meta & 0xF);

    public readonly int Epoch => (int)((uint)Meta >> 4);

    public static int MakeMeta(EventKind kind, int epoch) => (int)kind | ((epoch & EpochMask) << 4);
}
