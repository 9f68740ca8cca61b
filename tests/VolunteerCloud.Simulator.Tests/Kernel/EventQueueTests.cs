using FsCheck;
using FsCheck.Xunit;
using VolunteerCloud.Simulator.Kernel;

namespace VolunteerCloud.Simulator.Tests.Kernel;

public sealed class EventQueueTests
{
    /// <summary>
    /// Model-based: any interleaving of pushes (never before the current time), pops and pops bounded by a
    /// limit gives the events in (time, insertion) order, exactly as a sorted set would. Operations are drawn
    /// unsized: time steps mix zeros, small steps and jumps up to 2^40 ticks, and bursts of up to 2000 events
    /// overflow batches, chunks and windows.
    /// </summary>
    [Property(MaxTest = 300)]
    public void Pops_in_time_then_insertion_order(DoNotSize<int>[] operations)
    {
        var queue = new EventQueue();
        var model = new SortedSet<(long Time, long Seq)>();
        long now = 0;
        foreach (var raw in operations)
        {
            var op = raw.Item;
            var kind = (uint)op % 6;
            var argument = (uint)op / 6;
            if (kind == 0)
            {
                Assert.Equal(model.Count > 0, queue.TryPop(out var popped));
                if (model.Count > 0)
                {
                    Assert.Equal(model.Min, (popped.Time, popped.Seq));
                    model.Remove(model.Min);
                    now = popped.Time;
                }
            }
            else if (kind == 1)
            {
                // Pop everything due within a limit, as RunUntil does, then move the clock to the limit.
                var limit = now + (argument % 100_000);
                while (queue.TryPopUntil(limit, out var popped))
                {
                    Assert.Equal(model.Min, (popped.Time, popped.Seq));
                    model.Remove(model.Min);
                }

                Assert.True(model.Count == 0 || model.Min.Time > limit);
                now = limit;
            }
            else
            {
                var burst = kind == 5 ? (int)(argument % 2000) + 1 : 1;
                for (var i = 0; i < burst; i++)
                {
                    var step = (argument + (uint)i * 2_654_435_761u) % 4 switch
                    {
                        0 => 0L,
                        1 => argument % 8,
                        2 => (argument * (i + 1)) % 50_000,
                        _ => (long)(argument % 1_000_000) << (int)(argument % 21),
                    };
                    var seq = queue.Push(now + step, data: 0, target: i, meta: 0);
                    model.Add((now + step, seq));
                }
            }

            Assert.Equal(model.Count, queue.Count);
        }

        while (model.Count > 0)
        {
            Assert.True(queue.TryPop(out var popped));
            Assert.Equal(model.Min, (popped.Time, popped.Seq));
            model.Remove(model.Min);
        }

        Assert.False(queue.TryPop(out _));
    }

    [Fact]
    public void Many_events_at_one_time_leave_in_insertion_order_even_after_a_bucket_split()
    {
        var queue = new EventQueue();
        var expected = new List<long>();
        for (var i = 0; i < 1_000; i++)
        {
            // Interleave two far-future times so that both land in a big bucket that must be split.
            expected.Add(queue.Push(5_000_000 + (i % 2), data: i, target: 0, meta: 0));
        }

        var popped = new List<(long Time, long Seq)>();
        while (queue.TryPop(out var next))
        {
            popped.Add((next.Time, next.Seq));
        }

        Assert.Equal(
            expected.Select((seq, i) => (Time: 5_000_000L + (i % 2), Seq: seq)).OrderBy(e => e.Time).ThenBy(e => e.Seq),
            popped);
    }

    [Fact]
    public void TryPopUntil_stops_at_the_limit_and_peek_reports_the_next_time()
    {
        var queue = new EventQueue();
        queue.Push(100, 0, 0, 0);
        queue.Push(50, 0, 0, 0);
        queue.Push(200, 0, 0, 0);

        Assert.True(queue.TryPeekTime(out var first));
        Assert.Equal(50, first);
        Assert.True(queue.TryPopUntil(100, out var a));
        Assert.True(queue.TryPopUntil(100, out var b));
        Assert.False(queue.TryPopUntil(100, out _));
        Assert.Equal((50L, 100L), (a.Time, b.Time));
        Assert.True(queue.TryPeekTime(out var next));
        Assert.Equal(200, next);
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void A_few_events_spread_far_apart_do_not_open_a_wide_window()
    {
        // Two events 16 M ticks apart share a radix bucket; if that bucket were taken whole, every event
        // pushed between them would land in the window's binary heap.
        var queue = new EventQueue();
        queue.Push(17_000_000, 0, 0, 0);
        queue.Push(33_000_000, 0, 0, 0);
        queue.TryPop(out _);
        for (var i = 1; i <= 200_000; i++)
        {
            queue.Push(17_000_000 + (i * 50), 0, 0, 0);
        }

        Assert.True(queue.Window.Length <= EventQueue.BatchMax, $"window holds {queue.Window.Length}");
        var last = 0L;
        while (queue.TryPop(out var next))
        {
            Assert.True(next.Time >= last);
            last = next.Time;
            Assert.True(queue.Window.Length <= 2 * EventQueue.BatchMax, $"window holds {queue.Window.Length}");
        }
    }

    [Fact]
    public void Scheduling_before_the_current_time_is_refused()
    {
        var queue = new EventQueue();
        queue.Push(10, 0, 0, 0);
        queue.TryPop(out _);

        Assert.Throws<InvalidOperationException>(() => queue.Push(9, 0, 0, 0));
    }

    [Fact]
    public void Memory_follows_the_pending_events_not_the_history()
    {
        // A hold model: 50 000 pending events, 2 000 000 pops each followed by a push 0..2^20 ticks ahead.
        var queue = new EventQueue();
        var random = new VolunteerCloud.Randomness.SplittableRandom(5);
        for (var i = 0; i < 50_000; i++)
        {
            queue.Push(random.NextInt64(1 << 20), 0, 0, 0);
        }

        var previous = (Time: long.MinValue, Seq: long.MinValue);
        for (var i = 0; i < 2_000_000; i++)
        {
            queue.TryPop(out var next);
            Assert.True((next.Time, next.Seq).CompareTo(previous) > 0, $"out of order at pop {i}");
            previous = (next.Time, next.Seq);
            queue.Push(next.Time + random.NextInt64(1 << 20), 0, 0, 0);
        }

        // 50 000 events fill 49 chunks of 1024; each of the 64 buckets may hold one partly filled chunk more.
        Assert.Equal(50_000, queue.Count);
        Assert.InRange(queue.ChunkCount, 49, 49 + 64 + 1);
    }
}
