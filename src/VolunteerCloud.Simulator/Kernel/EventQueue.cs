using System.Numerics;

namespace VolunteerCloud.Simulator.Kernel;

/// <summary>
/// The simulator's pending-event set, ordered by (time, insertion sequence). A monotone radix heap
/// (Ahuja, Mehlhorn, Orlin, Tarjan 1990) holds the far future; the near future is a small binary heap, the
/// "window", refilled a batch at a time; events scheduled for the current instant go to a FIFO.
/// </summary>
/// <remarks>
/// <para>
/// A discrete-event simulator never schedules into the past, so the queue may be monotone. Events later than
/// the window's end <c>L</c> sit in radix bucket <c>b</c> (1..64), where <c>b - 1</c> is the highest bit in
/// which their time differs from <c>L</c>; every event of a lower bucket precedes every event of a higher one.
/// When the window runs dry, the lowest bucket is taken whole if it holds at most <see cref="BatchMax"/>
/// events; otherwise it is split, relative to its earliest time, into lower buckets. Each event moves a few
/// times at most, always by sequential appends, so the queue is cache-friendly where one binary heap of a
/// million events would miss cache on every level.
/// </para>
/// <para>
/// Knowing the next batch ahead of time is what lets the simulation prefetch the nodes it is about to touch
/// (<see cref="Window"/>). Buckets are chains of fixed 1024-event chunks (32 KiB, below the large-object
/// threshold) drawn from one free list, so memory follows the peak number of pending events, not how many
/// have passed through; chunks freed after a peak are kept for reuse.
/// </para>
/// </remarks>
internal sealed class EventQueue
{
    /// <summary>The largest bucket taken into the window whole.</summary>
    public const int BatchMax = 64;

    /// <summary>
    /// The longest stretch of virtual time a window may cover (2^20 ticks, about 0.1 s). Every event pushed
    /// for a time inside the window goes to its binary heap; a bucket of few events spread over a long time
    /// is split instead of taken whole, so the heap stays small.
    /// </summary>
    public const long MaxWindowTicks = 1L << 20;

    private const int ChunkSize = 1024;
    private const int RetainedCapacity = 4096;
    private const int BucketCount = 65;
    private const int None = -1;

    private SimEvent[][] _chunks = new SimEvent[16][];
    private int[] _nextChunk = new int[16];
    private int _chunkCount;
    private int _freeChunk = None;

    private readonly int[] _head = new int[BucketCount];
    private readonly int[] _tail = new int[BucketCount];
    private readonly int[] _tailFill = new int[BucketCount];
    private readonly int[] _count = new int[BucketCount];
    private readonly long[] _min = new long[BucketCount];
    private readonly long[] _max = new long[BucketCount];

    // Bit b - 1 is set when bucket b (1..64) holds events.
    private ulong _nonEmpty;

    // The window: events with time <= _windowEnd, as a binary min-heap on (Time, Seq).
    private SimEvent[] _heap = new SimEvent[2 * BatchMax];
    private int _heapCount;

    // Events pushed for exactly _currentTime; pushes come in sequence order, so a FIFO keeps them sorted.
    private SimEvent[] _instant = new SimEvent[16];
    private int _instantHead;
    private int _instantCount;

    private long _currentTime;
    private long _windowEnd;
    private long _nextSeq;
    private int _total;
    private bool _windowRefilled;

    public EventQueue()
    {
        Array.Fill(_head, None);
        Array.Fill(_tail, None);
        Array.Fill(_min, long.MaxValue);
        Array.Fill(_max, long.MinValue);
    }

    /// <summary>How many events are pending.</summary>
    public int Count => _total;

    /// <summary>The sequence number the next pushed event will get.</summary>
    public long NextSequence => _nextSeq;

    /// <summary>How many 32 KiB chunks the queue holds, in use or free.</summary>
    public int ChunkCount => _chunkCount;

    /// <summary>The events of the window (in heap order, not sorted): the ones due next.</summary>
    public ReadOnlySpan<SimEvent> Window => _heap.AsSpan(0, _heapCount);

    /// <summary>Queues an event and returns its sequence number.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="time"/> is before the last popped event.</exception>
    public long Push(long time, long data, int target, int meta)
    {
        var seq = _nextSeq;
        var item = new SimEvent { Time = time, Seq = seq, Data = data, Target = target, Meta = meta };
        if (time <= _windowEnd)
        {
            if (time == _currentTime)
            {
                PushInstant(in item);
            }
            else if (time > _currentTime)
            {
                PushHeap(in item);
            }
            else
            {
                throw new InvalidOperationException(
                    $"Cannot schedule an event at tick {time} before the current time (tick {_currentTime}).");
            }
        }
        else
        {
            Append(BucketOf(time), in item);
        }

        _nextSeq++;
        _total++;
        return seq;
    }

    /// <summary>Whether an event at <paramref name="time"/> would be among the next ones out (in the window).</summary>
    public bool IsDueSoon(long time) => time <= _windowEnd;

    /// <summary>Whether the window was refilled since the last call (and so holds events not yet prefetched).</summary>
    public bool TakeWindowRefilled()
    {
        var refilled = _windowRefilled;
        _windowRefilled = false;
        return refilled;
    }

    /// <summary>The target of the event that <see cref="TryPopUntil"/> would return next, if it is in the window.</summary>
    public bool TryPeekNextTarget(out int target)
    {
        if (_instantCount > 0 && (_heapCount == 0 || Precedes(in _instant[_instantHead], in _heap[0])))
        {
            target = _instant[_instantHead].Target;
            return true;
        }

        if (_heapCount > 0)
        {
            target = _heap[0].Target;
            return true;
        }

        target = -1;
        return false;
    }

    /// <summary>The time of the earliest pending event.</summary>
    public bool TryPeekTime(out long time)
    {
        if (_instantCount > 0)
        {
            time = _currentTime;
            return true;
        }

        if (_heapCount > 0)
        {
            time = _heap[0].Time;
            return true;
        }

        if (_nonEmpty == 0)
        {
            time = 0;
            return false;
        }

        time = _min[BitOperations.TrailingZeroCount(_nonEmpty) + 1];
        return true;
    }

    /// <summary>Takes the earliest pending event.</summary>
    public bool TryPop(out SimEvent next) => TryPopUntil(long.MaxValue, out next);

    /// <summary>Takes the earliest pending event if it is due at or before <paramref name="limit"/>.</summary>
    public bool TryPopUntil(long limit, out SimEvent next)
    {
        if (_instantCount == 0 && _heapCount == 0 && !Refill(limit))
        {
            next = default;
            return false;
        }

        if (_instantCount > 0 && (_heapCount == 0 || Precedes(in _instant[_instantHead], in _heap[0])))
        {
            // _currentTime <= limit: the caller never runs backwards.
            next = _instant[_instantHead];
            _instantHead++;
            if (--_instantCount == 0)
            {
                _instantHead = 0;
                if (_instant.Length > RetainedCapacity)
                {
                    // A burst (say a million nodes starting at time zero) is over: give its memory back.
                    _instant = new SimEvent[RetainedCapacity];
                }
            }
        }
        else
        {
            if (_heap[0].Time > limit)
            {
                next = default;
                return false;
            }

            next = _heap[0];
            PopHeap();
            if (_heapCount == 0 && _heap.Length > RetainedCapacity)
            {
                _heap = new SimEvent[2 * BatchMax];
            }
            _currentTime = next.Time;
        }

        _total--;
        return true;
    }

    private static bool Precedes(in SimEvent a, in SimEvent b) =>
        a.Time < b.Time || (a.Time == b.Time && a.Seq < b.Seq);

    private int BucketOf(long time) => 64 - BitOperations.LeadingZeroCount((ulong)(time ^ _windowEnd));

    private bool Refill(long limit)
    {
        while (_nonEmpty != 0)
        {
            var bucket = BitOperations.TrailingZeroCount(_nonEmpty) + 1;
            if (_min[bucket] > limit)
            {
                return false;
            }

            var takeWhole = _count[bucket] <= BatchMax && _max[bucket] - _min[bucket] <= MaxWindowTicks;
            _windowEnd = takeWhole ? _max[bucket] : _min[bucket];
            var chunk = _head[bucket];
            var remaining = _count[bucket];
            _head[bucket] = None;
            _tail[bucket] = None;
            _count[bucket] = 0;
            _min[bucket] = long.MaxValue;
            _max[bucket] = long.MinValue;
            _nonEmpty &= ~(1UL << (bucket - 1));

            while (chunk != None)
            {
                var items = _chunks[chunk];
                var n = Math.Min(remaining, ChunkSize);
                for (var i = 0; i < n; i++)
                {
                    ref readonly var item = ref items[i];
                    if (item.Time <= _windowEnd)
                    {
                        AppendHeap(in item);
                    }
                    else
                    {
                        Append(BucketOf(item.Time), in item);
                    }
                }

                remaining -= n;
                var next = _nextChunk[chunk];
                FreeChunk(chunk);
                chunk = next;
            }

            if (_heapCount > 0)
            {
                Heapify();
                _windowRefilled = true;
                return true;
            }
        }

        return false;
    }

    private void Append(int bucket, in SimEvent item)
    {
        var tail = _tail[bucket];
        if (tail == None || _tailFill[bucket] == ChunkSize)
        {
            var chunk = AllocateChunk();
            if (tail == None)
            {
                _head[bucket] = chunk;
            }
            else
            {
                _nextChunk[tail] = chunk;
            }

            _tail[bucket] = chunk;
            _tailFill[bucket] = 0;
            tail = chunk;
        }

        _chunks[tail][_tailFill[bucket]++] = item;
        _count[bucket]++;
        _nonEmpty |= 1UL << (bucket - 1);
        if (item.Time < _min[bucket])
        {
            _min[bucket] = item.Time;
        }

        if (item.Time > _max[bucket])
        {
            _max[bucket] = item.Time;
        }
    }

    private void PushInstant(in SimEvent item)
    {
        var end = _instantHead + _instantCount;
        if (end == _instant.Length)
        {
            // Compact only when at least half is free, so each event is copied O(1) times on average.
            if (_instantHead >= _instant.Length / 2)
            {
                Array.Copy(_instant, _instantHead, _instant, 0, _instantCount);
                _instantHead = 0;
                end = _instantCount;
            }
            else
            {
                Array.Resize(ref _instant, _instant.Length * 2);
            }
        }

        _instant[end] = item;
        _instantCount++;
    }

    private void AppendHeap(in SimEvent item)
    {
        if (_heapCount == _heap.Length)
        {
            Array.Resize(ref _heap, _heap.Length * 2);
        }

        _heap[_heapCount++] = item;
    }

    private void PushHeap(in SimEvent item)
    {
        AppendHeap(in item);
        var heap = _heap;
        var hole = _heapCount - 1;
        while (hole > 0)
        {
            var parent = (hole - 1) >> 1;
            if (!Precedes(in item, in heap[parent]))
            {
                break;
            }

            heap[hole] = heap[parent];
            hole = parent;
        }

        heap[hole] = item;
    }

    private void PopHeap()
    {
        var count = --_heapCount;
        if (count > 0)
        {
            SiftDown(0, _heap[count], count);
        }
    }

    private void Heapify()
    {
        for (var i = (_heapCount >> 1) - 1; i >= 0; i--)
        {
            SiftDown(i, _heap[i], _heapCount);
        }
    }

    private void SiftDown(int hole, SimEvent item, int count)
    {
        var heap = _heap;
        while (true)
        {
            var child = (2 * hole) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && Precedes(in heap[child + 1], in heap[child]))
            {
                child++;
            }

            if (!Precedes(in heap[child], in item))
            {
                break;
            }

            heap[hole] = heap[child];
            hole = child;
        }

        heap[hole] = item;
    }

    private int AllocateChunk()
    {
        if (_freeChunk != None)
        {
            var free = _freeChunk;
            _freeChunk = _nextChunk[free];
            _nextChunk[free] = None;
            return free;
        }

        if (_chunkCount == _chunks.Length)
        {
            Array.Resize(ref _chunks, _chunks.Length * 2);
            Array.Resize(ref _nextChunk, _nextChunk.Length * 2);
        }

        var index = _chunkCount++;
        _chunks[index] = new SimEvent[ChunkSize];
        _nextChunk[index] = None;
        return index;
    }

    private void FreeChunk(int chunk)
    {
        _nextChunk[chunk] = _freeChunk;
        _freeChunk = chunk;
    }
}
