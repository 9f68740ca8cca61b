namespace VolunteerCloud.ControlPlane;

/// <summary>A copy of an app as its steward sees it.</summary>
/// <param name="Replica">The copy's replica id (app, slot, serial).</param>
/// <param name="Host">The host it runs on or is starting on.</param>
/// <param name="Running">The host reports it running (false: a start still pending).</param>
/// <param name="Alive">The host is alive in the steward's view (false: down, within the churn handler's grace period).</param>
/// <param name="Leaving">The churn handler wants it moved off its host (owner-reclaim notice or short predicted residual uptime).</param>
internal readonly record struct StewardCopy(ReplicaId Replica, NodeId Host, bool Running, bool Alive, bool Leaving);

/// <summary>One step of a steward's plan: stop <see cref="Copy"/>, or start a new copy in <see cref="Slot"/>.</summary>
/// <param name="Start">Start a copy (true) or stop one (false).</param>
/// <param name="Slot">The slot to start a copy in.</param>
/// <param name="Copy">The copy to stop.</param>
internal readonly record struct StewardAction(bool Start, int Slot, StewardCopy Copy);

/// <summary>
/// What a steward does with an app's copies, as a pure function: per slot keep the best copy (running on a live host
/// that is not leaving, then the oldest) and stop the others; stop every copy in a slot at or above the target;
/// start a replacement first for a best copy that is leaving; start a copy in every empty slot below the target.
/// The control plane runs it on every reconcile pass; the simulator's modelled control plane runs the same function.
/// </summary>
internal static class StewardPlanner
{
    /// <summary>Slots 0 … target − 1 each hold exactly one copy, running on a live host and not to be moved, and there are no others: nothing to do.</summary>
    public static bool IsWhole(IReadOnlyList<StewardCopy> copies, int target)
    {
        ArgumentNullException.ThrowIfNull(copies);
        if (copies.Count != target || target > 64)
        {
            return false;
        }

        var seen = 0UL;
        for (var i = 0; i < copies.Count; i++)
        {
            var copy = copies[i];
            var slot = copy.Replica.Slot;
            if (slot < 0 || slot >= target || !copy.Running || !copy.Alive || copy.Leaving || (seen & (1UL << slot)) != 0)
            {
                return false;
            }

            seen |= 1UL << slot;
        }

        return true;
    }

    /// <summary>Appends the steps for one app to <paramref name="actions"/>, in the order they are to be taken.</summary>
    /// <param name="copies">Every copy of the app: on live hosts, on hosts within their grace period, and pending starts.</param>
    /// <param name="target">The replicas to keep (the churn handler's target; 0 for a removed app).</param>
    /// <param name="actions">Receives the steps.</param>
    public static void Plan(IReadOnlyList<StewardCopy> copies, int target, List<StewardAction> actions)
    {
        ArgumentNullException.ThrowIfNull(copies);
        ArgumentNullException.ThrowIfNull(actions);
        if (IsWhole(copies, target))
        {
            return;
        }

        foreach (var slotCopies in copies.GroupBy(c => c.Replica.Slot).OrderBy(g => g.Key))
        {
            var slot = slotCopies.Key;
            var ordered = slotCopies.OrderByDescending(c => c.Running && c.Alive).ThenBy(c => c.Leaving).ThenByDescending(c => c.Alive).ThenBy(c => c.Replica.Serial).ToList();
            if (slot >= target)
            {
                foreach (var copy in ordered.Where(c => c.Alive))
                {
                    actions.Add(new StewardAction(false, slot, copy));
                }

                continue;
            }

            // Keep the best copy; stop the other running or starting ones on live hosts.
            var best = ordered[0];
            foreach (var copy in ordered.Skip(1).Where(c => c.Alive))
            {
                if (!(best.Leaving && copy.Leaving) && !(best.Leaving && !copy.Running))
                {
                    actions.Add(new StewardAction(false, slot, copy));
                }
            }

            if (best.Leaving && best.Alive && !ordered.Skip(1).Any(c => c.Alive && !c.Leaving))
            {
                actions.Add(new StewardAction(true, slot, default)); // migrate: a replacement first, the old copy stops once it runs
            }
        }

        var present = copies.Select(c => c.Replica.Slot).ToHashSet();
        for (var slot = 0; slot < target; slot++)
        {
            if (!present.Contains(slot))
            {
                actions.Add(new StewardAction(true, slot, default));
            }
        }
    }
}
