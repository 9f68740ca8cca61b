using FsCheck.Xunit;
using VolunteerCloud.ControlPlane;

namespace VolunteerCloud.Sdk.Tests.ControlPlane;

/// <summary>The steward's plan, as a pure function: properties over any set of copies and any target.</summary>
public sealed class StewardPlannerTests
{
    /// <summary>Copies from random bytes: each byte pair gives a slot (0–5), a host, and running/alive/leaving flags.</summary>
    private static List<StewardCopy> Copies(byte[] bytes)
    {
        var copies = new List<StewardCopy>();
        for (var i = 0; i + 1 < Math.Min(bytes.Length, 24); i += 2)
        {
            var flags = bytes[i + 1];
            copies.Add(new StewardCopy(new ReplicaId("web", bytes[i] % 6, i), new NodeId(i), (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0));
        }

        return copies;
    }

    [Property(MaxTest = 500)]
    public void A_plan_fills_every_empty_slot_once_stops_what_is_over_the_target_and_never_drops_a_slot_it_cannot_replace(byte[] bytes, byte targetByte)
    {
        bytes ??= [];
        var copies = Copies(bytes);
        var target = targetByte % 6;
        var actions = new List<StewardAction>();
        StewardPlanner.Plan(copies, target, actions);

        var stops = actions.Where(a => !a.Start).Select(a => a.Copy).ToList();
        var starts = actions.Where(a => a.Start).Select(a => a.Slot).ToList();

        // Only copies on live hosts are stopped (a host within its grace period cannot be told anything), each once.
        Assert.All(stops, c => Assert.True(c.Alive && copies.Contains(c)));
        Assert.Equal(stops.Count, stops.Distinct().Count());

        // Every empty slot below the target gets exactly one start; no slot at or above it gets one; an occupied slot
        // gets one only to move a leaving copy, when it has no copy on a live host that is not leaving.
        for (var slot = 0; slot < 6; slot++)
        {
            var here = copies.Where(c => c.Replica.Slot == slot).ToList();
            var count = starts.Count(s => s == slot);
            if (slot >= target)
            {
                Assert.Equal(0, count);
            }
            else if (here.Count == 0)
            {
                Assert.Equal(1, count);
            }
            else
            {
                Assert.True(count <= 1, $"slot {slot}: {count} starts");
                Assert.True(count == 0 || (here.Any(c => c.Alive && c.Leaving) && !here.Any(c => c.Alive && !c.Leaving)), $"slot {slot} has a good copy and still gets a start");
            }
        }

        // Slots at or above the target lose every copy on a live host.
        Assert.All(copies.Where(c => c.Replica.Slot >= target && c.Alive), c => Assert.Contains(c, stops));

        // Below the target, a slot keeps its best copy: one running on a live host if it has any, and one on a live
        // host that is not leaving if it has any (copies on hosts within their grace period are never stopped, so
        // counting them alone would prove nothing).
        foreach (var slot in copies.Where(c => c.Replica.Slot < target).Select(c => c.Replica.Slot).Distinct())
        {
            var here = copies.Where(c => c.Replica.Slot == slot).ToList();
            var kept = here.Except(stops).ToList();
            Assert.True(kept.Count >= 1, $"slot {slot} would keep none of its copies");
            Assert.True(!here.Any(c => c.Running && c.Alive) || kept.Any(c => c.Running && c.Alive), $"slot {slot} would stop every copy running on a live host");
            Assert.True(!here.Any(c => c.Alive && !c.Leaving) || kept.Any(c => c.Alive && !c.Leaving), $"slot {slot} would stop every copy on a live host that is staying");
        }
    }

    [Property(MaxTest = 200)]
    public void A_whole_app_needs_nothing(byte hosts, byte targetByte)
    {
        var target = 1 + (targetByte % 8);
        var copies = Enumerable.Range(0, target).Select(slot => new StewardCopy(new ReplicaId("web", slot, slot), new NodeId((hosts + slot) % 256), true, true, false)).ToList();
        Assert.True(StewardPlanner.IsWhole(copies, target));
        var actions = new List<StewardAction>();
        StewardPlanner.Plan(copies, target, actions);
        Assert.Empty(actions);
    }

    [Fact]
    public void A_leaving_copy_is_replaced_before_it_is_stopped()
    {
        var leaving = new StewardCopy(new ReplicaId("web", 0, 1), new NodeId(1), true, true, true);
        var actions = new List<StewardAction>();
        StewardPlanner.Plan([leaving], 1, actions);
        Assert.Equal([new StewardAction(true, 0, default)], actions); // a replacement first, no stop yet

        // Once the replacement runs, the leaving copy is the one stopped.
        var replacement = new StewardCopy(new ReplicaId("web", 0, 2), new NodeId(2), true, true, false);
        actions.Clear();
        StewardPlanner.Plan([leaving, replacement], 1, actions);
        Assert.Equal([new StewardAction(false, 0, leaving)], actions);
    }
}
