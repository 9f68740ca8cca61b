using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace VolunteerCloud.Simulator.Kernel;

/// <summary>
/// XxHash64 over every event a run acts on: its time, kind and node, and the timer tag or the sender and
/// the XxHash3 of the message bytes. Two runs with the same hash made the same choices in the same order.
/// </summary>
/// <remarks>Each event is one 32-byte record, exactly one XxHash64 stripe, so appending never buffers.</remarks>
internal sealed class TraceHasher
{
    private readonly XxHash64 _hash = new();

    public ulong Current => _hash.GetCurrentHashAsUInt64();

    public void Add(long time, EventKind kind, int node, long data, ulong payloadHash = 0)
    {
        var record = new Record { Time = time, Data = data, Node = node, Kind = (int)kind, PayloadHash = payloadHash };
        _hash.Append(MemoryMarshal.AsBytes(new ReadOnlySpan<Record>(in record)));
    }

    public void AddMessage(long time, int node, int from, ReadOnlySpan<byte> payload) =>
        Add(time, EventKind.Message, node, from, XxHash3.HashToUInt64(payload));

    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    private struct Record
    {
        public long Time;
        public long Data;
        public int Node;
        public int Kind;
        public ulong PayloadHash;
    }
}
