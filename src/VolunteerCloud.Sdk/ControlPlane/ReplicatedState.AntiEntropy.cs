using VolunteerCloud.Randomness;
using VolunteerCloud.Wire;

namespace VolunteerCloud.ControlPlane;

/// <content>Anti-entropy: digests, bucket hashes, the stamps of the buckets that differ, and the entries either side lacks.</content>
internal sealed partial class ReplicatedState
{
    private void OnDigest(NodeContext context, NodeId from, int count, ulong hash, bool confirmEqual)
    {
        if (count != _entries.Count || hash != Hash)
        {
            Send(context, from, new StateBuckets(_entries.Count, _bucketHash.ToArray()), 12 + (8 * StateBuckets.BucketCount));
            return;
        }

        Synced = true;
        if (confirmEqual)
        {
            Send(context, from, new StateDigest(_entries.Count, Hash), 12); // equal: the asker learns it is synced
        }
    }

    private void OnSummary(NodeContext context, NodeId from, StateSummary summary)
    {
        var pull = new List<string>();
        var push = new List<StateEntry>();
        foreach (var stamp in summary.Stamps.Items.Span)
        {
            if (!_entries.TryGetValue(stamp.Key, out var mine))
            {
                pull.Add(stamp.Key);
            }
            else if (mine.Supersedes(stamp))
            {
                push.Add(mine);
            }
            else if (mine.Stamp != stamp)
            {
                pull.Add(stamp.Key);
            }
        }

        if (summary.Covered != 0)
        {
            // Buckets listed in full: what this node holds there and the sender did not list, the sender lacks.
            var listed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var stamp in summary.Stamps.Items.Span)
            {
                listed.Add(stamp.Key);
            }

            for (var b = 0; b < StateBuckets.BucketCount; b++)
            {
                if ((summary.Covered & (1UL << b)) == 0)
                {
                    continue;
                }

                foreach (var key in _bucketKeys[b])
                {
                    if (!listed.Contains(key))
                    {
                        push.Add(_entries[key]);
                    }
                }
            }
        }

        SendEntries(context, from, push, _options.SyncBudgetBytes);
        Synced |= pull.Count == 0; // nothing to learn from the sender; otherwise its entries follow
        for (var start = 0; start < pull.Count;)
        {
            var bytes = 8;
            var end = start;
            while (end < pull.Count && bytes + WireLength.Text(pull[end]) < _options.SyncBudgetBytes)
            {
                bytes += WireLength.Text(pull[end++]);
            }

            Send(context, from, new StatePull(pull.GetRange(start, end - start).ToArray()), bytes);
            start = end;
        }
    }

    private void SendStamps(NodeContext context, NodeId to, ulong buckets)
    {
        // The stamps of the buckets asked for, a whole bucket per message where it fits (its bit set: listed in full).
        var stamps = new List<StateStamp>();
        var covered = 0UL;
        var bytes = 16;
        for (var b = 0; b < StateBuckets.BucketCount; b++)
        {
            if ((buckets & (1UL << b)) == 0)
            {
                continue;
            }

            var keys = _bucketKeys[b];
            var size = 0;
            foreach (var key in keys)
            {
                size += StampLength(_entries[key]);
            }

            if (bytes + size > _options.SyncBudgetBytes && stamps.Count > 0)
            {
                Send(context, to, new StateSummary(stamps.ToArray(), covered), bytes);
                stamps.Clear();
                covered = 0;
                bytes = 16;
            }

            var whole = bytes + size <= _options.SyncBudgetBytes;
            foreach (var key in keys)
            {
                var entry = _entries[key];
                var length = StampLength(entry);
                if (bytes + length > _options.SyncBudgetBytes && stamps.Count > 0)
                {
                    Send(context, to, new StateSummary(stamps.ToArray(), covered), bytes); // a bucket too large for one message: listed in parts, not covered
                    stamps.Clear();
                    covered = 0;
                    bytes = 16;
                }

                stamps.Add(entry.Stamp);
                bytes += length;
            }

            if (whole)
            {
                covered |= 1UL << b;
            }
        }

        if (stamps.Count > 0 || covered != 0)
        {
            Send(context, to, new StateSummary(stamps.ToArray(), covered), bytes);
        }
    }

    private static int StampLength(in StateEntry entry) =>
        WireLength.Text(entry.Key) + WireLength.VarInt(entry.Version) + WireLength.NodeId(entry.Writer) + sizeof(ulong);

    private void SendEntries(NodeContext context, NodeId to, List<StateEntry> entries, int budget)
    {
        var batch = new List<StateEntry>();
        var bytes = 8;
        foreach (var entry in entries)
        {
            var size = entry.EncodedLength;
            if (bytes + size > budget && batch.Count > 0)
            {
                Send(context, to, new StateEntries(batch.ToArray(), Sync: true), bytes);
                batch.Clear();
                bytes = 8;
            }

            batch.Add(entry);
            bytes += size;
        }

        if (batch.Count > 0)
        {
            Send(context, to, new StateEntries(batch.ToArray(), Sync: true), bytes);
        }
    }
}
