using FsCheck.Xunit;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Host.Runtime;

namespace VolunteerCloud.Host.Tests;

/// <summary>What the daemon keeps in its data directory between lives: the desired state and the members it saw.</summary>
public sealed class KeptStateTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("vc-kept-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static StateEntry App(string name, long version, bool removed = false) =>
        new("app/" + name, version, new NodeId(1), removed, removed ? ReadOnlyMemory<byte>.Empty : new byte[] { 1, 2, 3 });

    /// <summary>A node as the kept state sees it: its version, entries, and the entries restored into it.</summary>
    private sealed class FakeNode
    {
        public List<StateEntry> Entries { get; } = [];

        public long Version { get; set; }

        public List<IReadOnlyList<StateEntry>> Restores { get; } = [];

        public void Step(KeptDesiredState kept, double seconds, bool synced, bool startedAlone = false) =>
            kept.AfterInput(TimeSpan.FromSeconds(seconds), startedAlone, synced, () => Version, k => { Restores.Add(k); Entries.AddRange(k); Version++; return k.Count; }, () => Entries);
    }

    private IReadOnlyList<StateEntry> OnDisk() => DesiredStateSnapshot.Decode(File.ReadAllBytes(new DataDirectory(_directory).DesiredStateFile));

    [Fact]
    public void Kept_entries_are_merged_only_once_the_node_has_held_the_clusters_state_for_the_restore_delay_and_nothing_is_saved_before()
    {
        File.WriteAllBytes(new DataDirectory(_directory).DesiredStateFile, DesiredStateSnapshot.Encode([App("web", 5), App("api", 6, removed: true)]));
        var kept = new KeptDesiredState(new DataDirectory(_directory), NullLogger.Instance);
        Assert.Equal(2, kept.Load().Count);
        var node = new FakeNode { Entries = { App("db", 9) }, Version = 1 }; // gossip brought one app before any sync

        node.Step(kept, 0, synced: false);
        node.Step(kept, 30, synced: false); // never synced: nothing restored, the file keeps both entries
        Assert.Empty(node.Restores);
        Assert.Equal(["app/api", "app/web"], OnDisk().Select(e => e.Key).Order());

        node.Step(kept, 31, synced: true);
        node.Step(kept, 50.9, synced: true);
        Assert.Empty(node.Restores);
        Assert.False(kept.Restored);

        node.Step(kept, 51, synced: true); // 20 s after the first sync
        Assert.Equal(2, Assert.Single(node.Restores).Count);
        Assert.Equal(["app/api", "app/db", "app/web"], OnDisk().Select(e => e.Key).Order()); // saved: all three

        node.Step(kept, 60, synced: true);
        Assert.Single(node.Restores); // once
    }

    [Fact]
    public void A_founder_restores_at_once_and_saves_are_at_most_once_per_interval_with_the_last_one_flushed_at_stop()
    {
        File.WriteAllBytes(new DataDirectory(_directory).DesiredStateFile, DesiredStateSnapshot.Encode([App("web", 5)]));
        var kept = new KeptDesiredState(new DataDirectory(_directory), NullLogger.Instance);
        kept.Load();
        var node = new FakeNode();
        node.Step(kept, 0, synced: false, startedAlone: true);
        Assert.Single(node.Restores);
        Assert.Single(OnDisk());

        node.Entries.Add(App("api", 7));
        node.Version++;
        node.Step(kept, 0.5, synced: false, startedAlone: true);
        Assert.Single(OnDisk()); // within the interval: not yet
        node.Step(kept, 1.0, synced: false, startedAlone: true);
        Assert.Equal(2, OnDisk().Count);

        node.Entries.Add(App("db", 8));
        node.Version++;
        node.Step(kept, 1.2, synced: false, startedAlone: true);
        Assert.Equal(2, OnDisk().Count);
        kept.Flush(node.Version, node.Entries); // the daemon stops
        Assert.Equal(3, OnDisk().Count);
    }

    [Fact]
    public void A_damaged_file_is_set_aside_and_one_of_a_newer_format_is_left_alone_and_never_saved_over()
    {
        var file = new DataDirectory(_directory).DesiredStateFile;
        var bytes = DesiredStateSnapshot.Encode([App("web", 5)]);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(file, bytes);
        var kept = new KeptDesiredState(new DataDirectory(_directory), NullLogger.Instance);
        Assert.Empty(kept.Load());
        Assert.False(File.Exists(file));
        var aside = Assert.Single(Directory.GetFiles(_directory, "desired-state" + ".damaged-*"));
        Assert.Equal(bytes, File.ReadAllBytes(aside)); // nothing deleted
        Assert.True(kept.MayWrite);

        var newer = DesiredStateSnapshot.Encode([App("web", 5)]);
        newer[4] = DesiredStateSnapshot.Format + 1;
        File.WriteAllBytes(file, newer);
        kept = new KeptDesiredState(new DataDirectory(_directory), NullLogger.Instance);
        Assert.Empty(kept.Load());
        Assert.False(kept.MayWrite);
        var node = new FakeNode { Entries = { App("db", 9) }, Version = 3 };
        node.Step(kept, 0, synced: false, startedAlone: true);
        node.Step(kept, 5, synced: false, startedAlone: true);
        Assert.Equal(newer, File.ReadAllBytes(file));
    }

    private static StateEntry Cluster(byte id) => new("cluster/id", 1, new NodeId(1), false, Enumerable.Repeat(id, 16).ToArray());

    [Fact]
    public void Entries_kept_in_another_cluster_are_set_aside_not_merged_and_those_of_this_cluster_or_of_none_are_merged()
    {
        var file = new DataDirectory(_directory).DesiredStateFile;
        var other = DesiredStateSnapshot.Encode([App("web", 5), Cluster(0xAA)]);
        File.WriteAllBytes(file, other);
        var kept = new KeptDesiredState(new DataDirectory(_directory), NullLogger.Instance);
        Assert.Equal(2, kept.Load().Count);
        var node = new FakeNode { Entries = { App("db", 9), Cluster(0xBB) }, Version = 1 }; // the machine now serves cluster bb…
        var current = ControlPlaneNode.ClusterIdOf(node.Entries);
        void Step(double seconds) => kept.AfterInput(TimeSpan.FromSeconds(seconds), false, true, () => node.Version, k => { node.Restores.Add(k); return k.Count; }, () => node.Entries, () => current);

        Step(0);
        Step(20);
        Assert.True(kept.Restored);
        Assert.Empty(node.Restores); // …so web, kept in cluster aa, is not brought here
        Assert.Equal(other, File.ReadAllBytes(Assert.Single(Directory.GetFiles(_directory, "desired-state" + ".other-cluster-*")))); // nothing deleted
        Assert.Equal(["app/db", "cluster/id"], OnDisk().Select(e => e.Key).Order()); // this cluster's state is kept from now on
        Assert.Equal(current, ControlPlaneNode.ClusterIdOf(OnDisk()));

        // Pointed at other seeds, a node whose cluster has no id yet (every member restarted at once, none restored yet)
        // waits for one: merged if it is the kept one, else set aside; set aside too if none comes within the patience.
        foreach (var (arrives, merged) in new (string? Arrives, bool Merged)[] { ("aa", true), ("bb", false), (null, false) })
        {
            File.WriteAllBytes(file, DesiredStateSnapshot.Encode([App("web", 5), Cluster(0xAA)]));
            foreach (var aside in Directory.GetFiles(_directory, "desired-state" + ".other-cluster-*"))
            {
                File.Delete(aside);
            }

            kept = new KeptDesiredState(new DataDirectory(_directory), NullLogger.Instance) { MovedPatience = TimeSpan.FromSeconds(100) };
            kept.Load();
            string? id = null;
            var restored = 0;
            void Moved(double seconds) => kept.AfterInput(TimeSpan.FromSeconds(seconds), false, true, () => 0, k => restored += k.Count, () => [], () => id, pointedElsewhere: true);
            Moved(0);
            Moved(50);
            Assert.False(kept.Restored); // no id yet
            id = arrives is null ? null : new string(arrives[0], 32);
            Moved(arrives is null ? 100 : 60);
            Assert.True(kept.Restored, arrives);
            Assert.Equal(merged ? 2 : 0, restored);
            Assert.Equal(merged ? 0 : 1, Directory.GetFiles(_directory, "desired-state" + ".other-cluster-*").Length);
        }

        foreach (var (keptIn, live) in new (StateEntry? KeptIn, string? Live)[] { (Cluster(0xBB), current), (null, current), (Cluster(0xAA), null) })
        {
            File.WriteAllBytes(file, DesiredStateSnapshot.Encode(keptIn is { } c ? [App("web", 5), c] : [App("web", 5)]));
            kept = new KeptDesiredState(new DataDirectory(_directory), NullLogger.Instance);
            kept.Load();
            var restored = new List<IReadOnlyList<StateEntry>>();
            kept.AfterInput(TimeSpan.Zero, true, false, () => 0, k => { restored.Add(k); return k.Count; }, () => [], () => live);
            Assert.Equal(keptIn is null ? 1 : 2, Assert.Single(restored).Count); // same cluster, an unnamed file, or a node that knows no id yet: merged
        }

        Assert.Single(Directory.GetFiles(_directory, "desired-state" + ".other-cluster-*"));
    }

    [Fact]
    public void A_write_that_fails_is_tried_again_and_leaves_no_partial_file()
    {
        var file = new DataDirectory(_directory).DesiredStateFile;
        Directory.CreateDirectory(file); // a directory where the file should be: every rename over it fails
        var kept = new KeptDesiredState(new DataDirectory(_directory), NullLogger.Instance);
        kept.Load();
        var node = new FakeNode { Entries = { App("web", 1) }, Version = 1 };
        node.Step(kept, 0, synced: false, startedAlone: true); // fails, logged, no exception
        Assert.False(File.Exists(file + ".new"));

        Directory.Delete(file);
        node.Step(kept, 0.5, synced: false, startedAlone: true);
        Assert.False(File.Exists(file)); // within the interval
        node.Step(kept, 1.0, synced: false, startedAlone: true); // the same version, tried again
        Assert.Single(OnDisk());
    }

    [Fact]
    public void Kept_peers_are_a_random_few_of_the_live_members_kept_through_a_flap_and_read_back_without_bad_lines()
    {
        var peers = new KeptPeers(new DataDirectory(_directory), NullLogger.Instance, new Random(7));
        var live = Enumerable.Range(1, 40).Select(i => $"10.0.{i}.1:7946").ToList();
        Assert.True(peers.Update(live));
        Assert.Equal(KeptPeers.Capacity, peers.Current.Count);
        Assert.All(peers.Current, a => Assert.Contains(a, live));
        Assert.NotEqual(live.Order(StringComparer.Ordinal).Take(KeptPeers.Capacity), peers.Current.Order(StringComparer.Ordinal)); // not the lowest addresses
        var chosen = peers.Current.ToHashSet();

        // A flap: the node sees one member for a while. The kept ones stay; the file is not rewritten.
        var written = File.GetLastWriteTimeUtc(peers.File);
        Assert.False(peers.Update([peers.Current[0]]));
        Assert.True(chosen.SetEquals(peers.Current));
        Assert.False(peers.Update(live));
        Assert.Equal(written, File.GetLastWriteTimeUtc(peers.File));

        // A kept member gone for good while others are alive: it is replaced.
        var gone = peers.Current[3];
        Assert.True(peers.Update([.. live.Where(a => a != gone)]));
        Assert.DoesNotContain(gone, peers.Current);
        Assert.Equal(KeptPeers.Capacity, peers.Current.Count);

        File.AppendAllLines(peers.File, ["not an address", "10.9.9.9", "", "10.0.1.1:7946"]);
        var again = new KeptPeers(new DataDirectory(_directory), NullLogger.Instance, new Random(1));
        again.Load();
        Assert.True(peers.Current.ToHashSet().SetEquals(again.Current)); // the bad, port-less and repeated lines are skipped
        var self = IPEndPoint.Parse(again.Current[0]);
        Assert.DoesNotContain(self, again.Endpoints(self));
        Assert.Equal(KeptPeers.Capacity - 1, again.Endpoints(self).Count);
    }

    [Fact]
    public void Kept_peers_say_their_cluster_and_seeds_so_a_machine_moved_to_another_cluster_neither_rejoins_nor_keeps_the_first()
    {
        var clusterA = Enumerable.Range(1, 20).Select(i => $"10.1.{i}.2:7946").ToList();
        var clusterB = Enumerable.Range(1, 3).Select(i => $"10.2.{i}.2:7946").ToList();
        var first = new KeptPeers(new DataDirectory(_directory), NullLogger.Instance, new Random(3), ["10.1.1.2:7946"]);
        Assert.True(first.Update(clusterA, "aa"));
        Assert.Equal(["# cluster aa", "# seeds 10.1.1.2:7946"], File.ReadLines(first.File).Take(2));

        // The same seeds, or one of them kept (a seed added): the members are used.
        var again = new KeptPeers(new DataDirectory(_directory), NullLogger.Instance, new Random(3), ["10.1.9.2:7946", "10.1.1.2:7946"]);
        again.Load();
        Assert.Equal(("aa", KeptPeers.Capacity), (again.Cluster, again.Current.Count));

        // Pointed at other seeds (moved to cluster B): the first cluster's members are not rejoined through…
        var moved = new KeptPeers(new DataDirectory(_directory), NullLogger.Instance, new Random(3), ["10.2.1.2:7946"]);
        moved.Load();
        Assert.True(moved.SeedsChanged);
        Assert.Empty(moved.Current);
        Assert.Empty(moved.Endpoints(null));

        // …and a node that knew them, once it learns it is in another cluster, keeps none of them beside the new one's
        // (while the cluster is not known yet they stay, as through a flap).
        Assert.True(again.Update(clusterB));
        Assert.Equal(KeptPeers.Capacity, again.Current.Count);
        Assert.True(again.Update(clusterB, "bb"));
        Assert.Equal(clusterB.Order(StringComparer.Ordinal), again.Current.Order(StringComparer.Ordinal));
        Assert.Equal("# cluster bb", File.ReadLines(again.File).First());
        Assert.False(again.Update(clusterB, "bb"));

        // A founder without seeds, moved to a cluster it is seeded into: its members are not used either.
        var founder = new KeptPeers(new DataDirectory(_directory), NullLogger.Instance, new Random(3));
        Assert.True(founder.Update(clusterA, "aa"));
        Assert.Equal(["# cluster aa", "# seeds"], File.ReadLines(founder.File).Take(2));
        var reloaded = new KeptPeers(new DataDirectory(_directory), NullLogger.Instance, new Random(3));
        reloaded.Load();
        Assert.False(reloaded.SeedsChanged);
        Assert.False(reloaded.Update(clusterA, "aa")); // nothing changed: not rewritten
        var seeded = new KeptPeers(new DataDirectory(_directory), NullLogger.Instance, new Random(3), ["10.2.1.2:7946"]);
        seeded.Load();
        Assert.True(seeded.SeedsChanged);
        Assert.Empty(seeded.Current);

        // A file an earlier version wrote (addresses only) is used whatever the seeds.
        File.WriteAllLines(first.File, clusterA.Take(5));
        var earlier = new KeptPeers(new DataDirectory(_directory), NullLogger.Instance, new Random(3), ["10.9.9.9:7946"]);
        earlier.Load();
        Assert.Equal((null, 5, false), (earlier.Cluster, earlier.Current.Count, earlier.SeedsChanged));
    }

    [Property(MaxTest = 200)]
    public void What_kept_peers_write_reads_back_the_same_cluster_members_and_seeds(byte[] members, byte[] seeds, ulong cluster, bool named)
    {
        static string Address(byte b) => $"10.{b % 7}.{b}.2:7946";
        var live = (members ?? []).Select(Address).Distinct().ToList();
        var configured = (seeds ?? []).Take(4).Select(Address).Distinct().ToList();
        var id = named ? cluster.ToString("x16", System.Globalization.CultureInfo.InvariantCulture) : null;
        var directory = Directory.CreateTempSubdirectory("vc-peers-").FullName;
        try
        {
            var writer = new KeptPeers(new DataDirectory(directory), NullLogger.Instance, new Random(1), configured);
            writer.Update(live, id);
            var reader = new KeptPeers(new DataDirectory(directory), NullLogger.Instance, new Random(2), [.. Enumerable.Reverse(configured)]);
            reader.Load();
            Assert.False(reader.SeedsChanged); // the same seeds, in any order, empty included
            Assert.Equal(id, reader.Cluster);
            Assert.Equal(writer.Current.Order(StringComparer.Ordinal), reader.Current.Order(StringComparer.Ordinal));
            Assert.False(reader.Update(live, id)); // nothing changed: not rewritten
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
