using BenchmarkDotNet.Attributes;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Kernel;

namespace VolunteerCloud.Benchmarks;

/// <summary>
/// The classic "hold" benchmark of event queues: with <see cref="Pending"/> events queued, each operation
/// takes the earliest event and schedules a new one a random (exponential, mean 1 ms) time after it. The
/// simulator's queue against .NET's <see cref="PriorityQueue{TElement, TPriority}"/> (a 4-ary heap) ordered by
/// the same (time, sequence) key.
/// </summary>
[MemoryDiagnoser]
public class EventQueueBenchmarks
{
    private const int OperationsPerInvoke = 200_000;
    private long[] _increments = [];
    private EventQueue _queue = null!;
    private PriorityQueue<SimEvent, (long Time, long Seq)> _peer = null!;
    private long _peerSeq;

    [Params(1_000, 10_000, 100_000, 1_000_000)]
    public int Pending { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new SplittableRandom(1);
        _increments = new long[1 << 20];
        for (var i = 0; i < _increments.Length; i++)
        {
            _increments[i] = (long)random.NextExponential(10_000); // ticks: mean 1 ms
        }

        _queue = new EventQueue();
        _peer = new PriorityQueue<SimEvent, (long, long)>(Pending);
        for (var i = 0; i < Pending; i++)
        {
            var time = (long)random.NextExponential(10_000.0 * Pending);
            _queue.Push(time, i, i, 0);
            _peer.Enqueue(new SimEvent { Time = time, Seq = _peerSeq, Data = i, Target = i }, (time, _peerSeq++));
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OperationsPerInvoke)]
    public long PriorityQueue4AryHeap()
    {
        long checksum = 0;
        var increments = _increments;
        for (var i = 0; i < OperationsPerInvoke; i++)
        {
            var next = _peer.Dequeue();
            checksum += next.Target;
            var time = next.Time + increments[i & (increments.Length - 1)];
            next.Time = time;
            next.Seq = _peerSeq;
            _peer.Enqueue(next, (time, _peerSeq++));
        }

        return checksum;
    }

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public long RadixWindowQueue()
    {
        long checksum = 0;
        var increments = _increments;
        for (var i = 0; i < OperationsPerInvoke; i++)
        {
            _queue.TryPop(out var next);
            checksum += next.Target;
            _queue.Push(next.Time + increments[i & (increments.Length - 1)], next.Data, next.Target, next.Meta);
        }

        return checksum;
    }
}
