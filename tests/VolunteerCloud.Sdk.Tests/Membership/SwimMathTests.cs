using FsCheck;
using FsCheck.Xunit;
using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Swim;

namespace VolunteerCloud.Sdk.Tests.Membership;

/// <summary>memberlist's formulas, checked against the values docs/references.md quotes and memberlist's own tests.</summary>
public sealed class SwimMathTests
{
    [Theory]
    [InlineData(1, 4)]
    [InlineData(10, 4)]
    [InlineData(100, 8)]
    [InlineData(1_000, 12)]
    [InlineData(10_000, 16)]
    public void The_minimum_suspicion_timeout_is_SuspicionMult_log10_N_probe_intervals(int members, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds).Ticks, Suspicion.MinimumTimeoutTicks(4, members, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Confirmations_shrink_the_timeout_from_max_to_min_logarithmically()
    {
        // memberlist suspicion_test.go: min 4 s, max 24 s (6x), k = 2: 24 s, then 11.381 s, then 4 s.
        var suspicion = new Suspicion(new NodeId(1), expectedConfirmations: 2, TimeSpan.FromSeconds(4).Ticks, TimeSpan.FromSeconds(24).Ticks, startTicks: 0, changedAtTicks: 0);

        Assert.Equal(TimeSpan.FromSeconds(24).Ticks, suspicion.InitialTimeoutTicks);
        Assert.Equal(TimeSpan.FromMilliseconds(11_381).Ticks, suspicion.TimeoutAfter(1));
        Assert.Equal(TimeSpan.FromSeconds(4).Ticks, suspicion.TimeoutAfter(2));
    }

    [Fact]
    public void Only_new_confirmers_count_and_only_up_to_k()
    {
        var suspicion = new Suspicion(new NodeId(1), 2, 40_000_000, 240_000_000, startTicks: 0, changedAtTicks: 0);

        Assert.False(suspicion.Confirm(new NodeId(1), 10_000_000, out _)); // the first accuser
        Assert.True(suspicion.Confirm(new NodeId(2), 10_000_000, out var remaining));
        Assert.Equal(TimeSpan.FromMilliseconds(11_381).Ticks - 10_000_000, remaining);
        Assert.False(suspicion.Confirm(new NodeId(2), 20_000_000, out _));
        Assert.True(suspicion.Confirm(new NodeId(3), 60_000_000, out remaining));
        Assert.Equal(40_000_000 - 60_000_000, remaining); // already overdue: fire now
        Assert.False(suspicion.Confirm(new NodeId(4), 60_000_000, out _));
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(9, 4)]
    [InlineData(10, 8)]
    [InlineData(99, 8)]
    [InlineData(1_000, 16)]
    [InlineData(10_000, 20)]
    public void Updates_are_retransmitted_RetransmitMult_log10_N_plus_1_times(int members, int limit)
    {
        Assert.Equal(limit, SwimMath.RetransmitLimit(4, members));
    }

    [Theory]
    [InlineData(32, 30)]
    [InlineData(33, 60)]
    [InlineData(64, 60)]
    [InlineData(65, 90)]
    [InlineData(10_000, 300)]
    public void Push_pull_slows_down_above_32_members(int members, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), SwimMath.PushPullInterval(TimeSpan.FromSeconds(30), members));
    }

    [Property(MaxTest = 300)]
    public void The_member_table_behaves_like_a_dictionary(DoNotSize<int>[] operations)
    {
        var table = new MemberTable();
        var model = new Dictionary<NodeId, (MemberState State, uint Incarnation)>();
        foreach (var op in operations.Select(o => o.Item))
        {
            // Ids mix small dense values and large random ones; both must work.
            var id = new NodeId(op % 3 == 0 ? Math.Abs(op % 64) : Math.Abs(op) & int.MaxValue);
            if (op % 2 == 0 && table.TryFind(id, out var slot))
            {
                table.Remove(slot);
                model.Remove(id);
            }
            else if (!table.TryFind(id, out slot))
            {
                var state = (MemberState)(Math.Abs(op) % 4);
                table.Add(id, state, (uint)op, new MemberMetadata((ushort)(op & 0xFFFF), op, -op), nowTicks: op);
                model[id] = (state, (uint)op);
            }
            else
            {
                table.Set(slot, MemberState.Alive, (uint)op + 1, 0);
                model[id] = (MemberState.Alive, (uint)op + 1);
            }

            Assert.Equal(model.Count, table.Count);
        }

        foreach (var (id, expected) in model)
        {
            Assert.True(table.TryFind(id, out var slot));
            Assert.Equal(expected, (table.StateOf(slot), table.IncarnationOf(slot)));
        }

        var listed = Enumerable.Range(0, table.SlotCount).Where(s => !table.IsFree(s)).Select(table.IdOf).ToHashSet();
        Assert.True(listed.SetEquals(model.Keys));
        Assert.Equal(table.Count, table.IndexedCount);
        foreach (var op in operations.Select(o => o.Item))
        {
            var id = new NodeId(op % 3 == 0 ? Math.Abs(op % 64) : Math.Abs(op) & int.MaxValue);
            Assert.Equal(model.ContainsKey(id), table.TryFind(id, out _));
        }
    }

    [Fact]
    public void Growing_the_table_indexes_every_member_once_and_removals_are_not_found_again()
    {
        var table = new MemberTable();
        for (var i = 0; i < 200; i++)
        {
            table.Add(new NodeId(i * 7), MemberState.Alive, 1, default, 0);
            Assert.Equal(table.Count, table.IndexedCount);
        }

        for (var i = 0; i < 200; i += 2)
        {
            Assert.True(table.TryFind(new NodeId(i * 7), out var slot));
            table.Remove(slot);
        }

        Assert.Equal(100, table.Count);
        Assert.Equal(100, table.IndexedCount);
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(i % 2 == 1, table.TryFind(new NodeId(i * 7), out _));
        }
    }

    [Fact]
    public void A_newer_update_about_a_member_replaces_the_queued_one()
    {
        var queue = new BroadcastQueue();
        queue.Enqueue(GossipItem.Suspect(new NodeId(1), 3, new NodeId(2)));
        queue.Enqueue(GossipItem.Alive(new NodeId(1), 4, default));
        var taken = new GossipItem[8];

        var count = queue.Take(taken, 1400, transmitLimit: 4);

        Assert.Equal(1, count);
        Assert.Equal(GossipItem.Alive(new NodeId(1), 4, default), taken[0]);
    }

    [Fact]
    public void Least_sent_updates_go_first_and_each_goes_out_transmit_limit_times()
    {
        var queue = new BroadcastQueue();
        var taken = new GossipItem[8];
        queue.Enqueue(GossipItem.Dead(new NodeId(1), 1, new NodeId(9)));
        Assert.Equal(1, queue.Take(taken, 1400, transmitLimit: 3));
        queue.Enqueue(GossipItem.Dead(new NodeId(2), 1, new NodeId(9)));

        // Budget for one update only: the fresh one (sent 0 times) goes before the one sent once.
        Assert.Equal(1, queue.Take(taken, taken[0].EncodedLength, transmitLimit: 3));
        Assert.Equal(new NodeId(2), taken[0].Node);

        var sends = new Dictionary<NodeId, int>();
        for (var round = 0; round < 10; round++)
        {
            var n = queue.Take(taken, 1400, transmitLimit: 3);
            foreach (var item in taken.AsSpan(0, n))
            {
                sends[item.Node] = sends.GetValueOrDefault(item.Node) + 1;
            }
        }

        Assert.Equal(2, sends[new NodeId(1)]); // 3 in all
        Assert.Equal(2, sends[new NodeId(2)]);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Updates_that_do_not_fit_wait_for_the_next_message()
    {
        var queue = new BroadcastQueue();
        for (var i = 0; i < 500; i++)
        {
            queue.Enqueue(GossipItem.Alive(new NodeId(i), 1, new MemberMetadata(1, 2000, 4096)));
        }

        var taken = new GossipItem[GossipItem.MaxPerMessage];
        var count = queue.Take(taken, 1000, transmitLimit: 4);

        Assert.True(taken.AsSpan(0, count).ToArray().Sum(i => i.EncodedLength) <= 1000);
        Assert.InRange(count, 90, 125);
        Assert.Equal(500, queue.Count);
    }

    [Fact]
    public void The_queue_has_a_ceiling()
    {
        var queue = new BroadcastQueue();
        for (var i = 0; i < BroadcastQueue.MaxQueued + 100; i++)
        {
            queue.Enqueue(GossipItem.Alive(new NodeId(i), 1, default));
        }

        Assert.Equal(BroadcastQueue.MaxQueued, queue.Count);
    }
}
