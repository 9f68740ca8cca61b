using FsCheck;
using FsCheck.Xunit;
using VolunteerCloud.Simulator.Kernel;

namespace VolunteerCloud.Simulator.Tests.Kernel;

public sealed class EventQueueTests
{
    /// <summary>
    /// Model-based: any interleaving of pushes (never before the current time) and pops gives the events in
    /// (time, insertion) order, exactly as a sorted set would. Time steps mix zeros, small and huge jumps so that
    /// equal times, the window, whole-bucket batches and bucket splits are all exercised.
    /// </summary>
    [Property(MaxTest = 500)]
    public void Pops_in_time_then_insertion_order(int[] operations)
    {
        var queue = new EventQueue();
        var model = new SortedSet<(long Time, long Seq)>();
        long now = 0;
        foreach (var op in operations)
        {
            var kind = Math.Abs(op % 5);
            if (kind == 0)
            {
                Assert.Equal(model.Count > 0, queue.TryPop(out var popped));
                if (model.Count > 0)
                {
                    var expected = model.Min;
                    model.Remove(expected);
                    Assert.Equal(expected, (popped.Time, popped.Seq));
                    now = popped.Time;
                }
            }
            else
            {
                // Bursts: one operation may push up to 150 events at once, enough to overflow a batch.
                var burst = kind == 4 ? Math.Abs(op / 5 % 150) + 1 : 1;
                for (var i = 0; i < burst; i++)
                {
                    var delta = Math.Abs(op / 7) switch
                    {
                        var x when x % 4 == 0 => 0L,
                        var x when x % 4 == 1 => x % 8,
                        var x when x % 4 == 2 => x % 10_000,
                        var x => (long)x << 12,
                    };
                    var seq = queue.Push(now + delta, data: 0, target: i, meta: 0);
                    model.Add((now + delta, seq));
                }
            }

            Assert.Equal(model.Count, queue.Count);
        }

        while (model.Count > 0)
        {
            Assert.True(queue.TryPop(out var popped));
            var expected = model.Min;
            model.Remove(expected);
            Assert.Equal(expected, (popped.Time, popped.Seq));
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

        for (var i = 0; i < 2_000_000; i++)
        {
            queue.TryPop(out var next);
            queue.Push(next.Time + random.NextInt64(1 << 20), 0, 0, 0);
        }

        // 50 000 events fill 49 chunks of 1024; each of the 64 buckets may hold one partly filled chunk more.
        Assert.Equal(50_000, queue.Count);
        Assert.InRange(queue.ChunkCount, 49, 49 + 64 + 1);
    }
}
