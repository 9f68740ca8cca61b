using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using VolunteerCloud.ControlPlane;
using VolunteerCloud.Wire;

namespace VolunteerCloud.Host.Runtime;

/// <summary>
/// The desired state the daemon keeps in <c>DataDirectory/desired-state</c> between lives
/// (<see cref="DesiredStateSnapshot"/>), so a cluster whose every node restarted gets its apps back. Runs on the
/// node's loop: <see cref="AfterInput"/> after every input.
/// <list type="bullet">
/// <item>Restore: the kept entries are merged once the node holds the cluster's state — at once for a node that
/// founded the cluster alone (its state is the cluster's), else <see cref="RestoreDelay"/> after it first synced with
/// a peer. The first sync can be the first of several repair messages, or an exchange with another node that has
/// just restarted; the delay lets the next exchanges finish the repair, so a kept entry the cluster has since
/// replaced or removed meets the newer entry or the tombstone and loses, and the node's stewards do not act on it.
/// Entries kept in another cluster (they name another <see cref="ControlPlaneNode.ClusterId"/>: the machine was moved
/// to a new cluster) are not merged: the file is set aside under a new name and the node keeps this cluster's state
/// from then on. A daemon pointed at other seeds waits to learn its cluster's id before merging entries that name
/// one (<see cref="MovedPatience"/>).</item>
/// <item>Save: after a change, at most once per <see cref="SaveInterval"/> (each save is an fsync on the loop), and
/// never before the restore — until then the node holds only what gossip brought, and saving would overwrite the
/// kept state with less. A file that exists but cannot be read, or is of a newer format, is left as it is and nothing
/// is saved over it in this life; a damaged one is set aside under a new name (nothing is deleted).</item>
/// </list>
/// </summary>
internal sealed partial class KeptDesiredState(DataDirectory directory, ILogger logger)
{
    private IReadOnlyList<StateEntry> _kept = [];
    private string? _keptCluster;
    private bool _mayWrite = true;
    private bool _writeFailing;
    private TimeSpan? _syncedAt;
    private TimeSpan? _savedAt;
    private long _savedVersion = -1;

    /// <summary>How long after the first sync the kept entries are merged (two anti-entropy intervals by default).</summary>
    public TimeSpan RestoreDelay { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How long after its first sync a daemon pointed at other seeds waits to learn its cluster's id before it sets a kept state that names a cluster aside (5 min).</summary>
    public TimeSpan MovedPatience { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Saves are at most this often.</summary>
    public TimeSpan SaveInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The file.</summary>
    public string File => directory.DesiredStateFile;

    /// <summary>Whether the kept entries have been merged (from then on changes are saved).</summary>
    public bool Restored { get; private set; }

    /// <summary>Whether this life may write the file (false after a read failure or a newer format).</summary>
    public bool MayWrite => _mayWrite;

    /// <summary>Reads the kept entries, if any. Never throws: a file that cannot be used is logged and left alone or set aside.</summary>
    public IReadOnlyList<StateEntry> Load()
    {
        var file = File;
        byte[] bytes;
        _keptCluster = null;
        try
        {
            if (!System.IO.File.Exists(file))
            {
                return _kept = [];
            }

            bytes = System.IO.File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _mayWrite = false; // the next start may read it: do not replace it with less
            LogUnreadable(logger, file, e);
            return _kept = [];
        }

        if (DesiredStateSnapshot.FormatOf(bytes) is { } format && format > DesiredStateSnapshot.Format)
        {
            _mayWrite = false; // written by a newer version (a downgrade): keep it for that version
            LogOtherFormat(logger, file, format, DesiredStateSnapshot.Format);
            return _kept = [];
        }

        try
        {
            _kept = DesiredStateSnapshot.Decode(bytes);
            _keptCluster = ControlPlaneNode.ClusterIdOf(_kept);
            LogKept(logger, _kept.Count - (_keptCluster is null ? 0 : 1), file, _keptCluster ?? "unnamed");
            return _kept;
        }
        catch (WireFormatException e)
        {
            var aside = SetAside("damaged");
            LogDamaged(logger, file, aside, e);
            return _kept = [];
        }
    }

    /// <summary>Moves the file to a new name with <paramref name="why"/> and the time in it; if that fails, nothing is saved over it in this life.</summary>
    private string SetAside(string why)
    {
        var aside = $"{File}.{why}-{DateTime.UtcNow.ToString("yyyyMMddTHHmmssfff", CultureInfo.InvariantCulture)}";
        try
        {
            System.IO.File.Move(File, aside);
        }
        catch (Exception move) when (move is IOException or UnauthorizedAccessException)
        {
            _mayWrite = false;
            LogUnreadable(logger, aside, move);
        }

        return aside;
    }

    /// <summary>Restores and saves as due; call after each of the node's inputs.</summary>
    /// <param name="now">The time now (any monotonic origin).</param>
    /// <param name="startedAlone">The node founded the cluster alone.</param>
    /// <param name="synced">The node has synced with a peer.</param>
    /// <param name="version">The node's <see cref="ControlPlaneNode.DesiredVersion"/>.</param>
    /// <param name="restore">Merges entries (<see cref="ControlPlaneNode.RestoreDesired"/>) and returns how many were applied.</param>
    /// <param name="entries">The node's <see cref="ControlPlaneNode.DesiredEntries"/>.</param>
    /// <param name="clusterId">The node's <see cref="ControlPlaneNode.ClusterId"/> (none: entries are never taken for another cluster's).</param>
    /// <param name="pointedElsewhere">The daemon's seeds share none with those of its last life (<see cref="KeptPeers.SeedsChanged"/>):
    /// kept entries that name a cluster are merged only once the node knows that cluster's id — it waits up to
    /// <see cref="MovedPatience"/> for it, then sets them aside.</param>
    public void AfterInput(TimeSpan now, bool startedAlone, bool synced, Func<long> version, Func<IReadOnlyList<StateEntry>, int> restore, Func<IEnumerable<StateEntry>> entries, Func<string?>? clusterId = null, bool pointedElsewhere = false)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(restore);
        ArgumentNullException.ThrowIfNull(entries);
        if (!Restored)
        {
            if (synced)
            {
                _syncedAt ??= now;
            }

            if (!startedAlone && !(_syncedAt is { } at && now - at >= RestoreDelay))
            {
                return;
            }

            var current = clusterId?.Invoke();
            var waitForId = _keptCluster is not null && current is null && pointedElsewhere && !startedAlone;
            if (waitForId && now - _syncedAt!.Value < MovedPatience)
            {
                return; // a cluster restarted as a whole has no id until one of its own members has restored
            }

            Restored = true;
            if (_keptCluster is { } keptIn && (waitForId || (current is not null && current != keptIn)))
            {
                var aside = SetAside("other-cluster");
                LogOtherCluster(logger, File, keptIn, current ?? "unnamed", aside);
                _kept = [];
            }

            if (_kept.Count > 0)
            {
                LogRestored(logger, restore(_kept), _kept.Count, File);
                _kept = [];
            }
        }

        if (version() != _savedVersion && (_savedAt is not { } last || now - last >= SaveInterval))
        {
            Save(now, version(), entries());
        }
    }

    /// <summary>Saves what has not been saved yet (at stop, after the loop has ended).</summary>
    public void Flush(long version, IEnumerable<StateEntry> entries)
    {
        if (Restored && version != _savedVersion)
        {
            Save(TimeSpan.MaxValue, version, entries);
        }
    }

    private void Save(TimeSpan now, long version, IEnumerable<StateEntry> entries)
    {
        _savedVersion = version;
        _savedAt = now;
        if (!_mayWrite)
        {
            return;
        }

        try
        {
            DataDirectory.WriteAtomically(File, DesiredStateSnapshot.Encode(entries));
            if (_writeFailing)
            {
                _writeFailing = false;
                LogWriting(logger, File);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _savedVersion = -1; // tried again at the next change or input after the interval
            if (!_writeFailing)
            {
                _writeFailing = true;
                LogWriteFailed(logger, File, e);
            }
        }
    }

    [LoggerMessage(11, LogLevel.Information, "Kept desired state: {Entries} app entries in {File}, of cluster {Cluster}; merged once this node holds the cluster's state")]
    private static partial void LogKept(ILogger logger, int entries, string file, string cluster);

    [LoggerMessage(12, LogLevel.Warning, "Could not read {File}; starting without it and leaving it as it is (peers hold the state)")]
    private static partial void LogUnreadable(ILogger logger, string file, Exception exception);

    [LoggerMessage(13, LogLevel.Information, "Restored {Applied} of {Kept} kept app entries from {File} (the cluster had the others, or has changed them since)")]
    private static partial void LogRestored(ILogger logger, int applied, int kept, string file);

    [LoggerMessage(14, LogLevel.Warning, "Could not write {File}; trying again at the next change (a cluster restarted as a whole relies on the other nodes' copies meanwhile)")]
    private static partial void LogWriteFailed(ILogger logger, string file, Exception exception);

    [LoggerMessage(15, LogLevel.Information, "Writing {File} again")]
    private static partial void LogWriting(ILogger logger, string file);

    [LoggerMessage(16, LogLevel.Warning, "{File} is damaged; set aside as {Aside}, starting without it (peers hold the state)")]
    private static partial void LogDamaged(ILogger logger, string file, string aside, Exception exception);

    [LoggerMessage(19, LogLevel.Warning, "{File} was kept in cluster {Kept}, and this node is now in cluster {Current}: not merged, set aside as {Aside} (to bring those apps here, deploy them again)")]
    private static partial void LogOtherCluster(ILogger logger, string file, string kept, string current, string aside);

    [LoggerMessage(17, LogLevel.Warning, "{File} is in format {Format}, written by a newer version (this one reads {Known}); left as it is, and not saved over in this life")]
    private static partial void LogOtherFormat(ILogger logger, string file, byte format, byte known);
}

/// <summary>
/// Members the daemon saw alive, kept in <c>DataDirectory/peers</c> (an <c>ip:port</c> a line) for its next life to
/// rejoin through when its seeds do not answer — a founder, whose only seed is itself, restarted after the others
/// declared it dead. At most <see cref="Capacity"/>, chosen at random among the live members (so nodes do not all
/// keep the same few), and kept through a flap: a saved member is replaced only when another live one can take its
/// place. The file also says which cluster they are of and which seeds the daemon had (<c># cluster</c>,
/// <c># seeds</c> lines), so a machine moved to another cluster neither rejoins the first through them (its seeds
/// changed: they are not used) nor keeps the first cluster's members beside the new one's (another cluster id: they
/// are dropped). Runs on the node's loop; <see cref="Current"/> may be read from any thread.
/// </summary>
internal sealed partial class KeptPeers(DataDirectory directory, ILogger logger, Random random, IReadOnlyCollection<string>? seeds = null)
{
    /// <summary>How many members are kept.</summary>
    public const int Capacity = 16;

    private const string ClusterLine = "# cluster";
    private const string SeedsLine = "# seeds";

    private readonly string[] _seeds = [.. (seeds ?? []).Order(StringComparer.Ordinal)];
    private volatile string[] _current = [];
    private string[]? _keptSeeds;
    private bool _writeFailing;

    /// <summary>The file.</summary>
    public string File => directory.PeersFile;

    /// <summary>The members kept now: loaded at start, then updated from the view.</summary>
    public IReadOnlyList<string> Current => _current;

    /// <summary>The cluster the kept members are of (null: not known yet, or a file written before ids).</summary>
    public string? Cluster { get; private set; }

    /// <summary>
    /// Whether the daemon's seeds share none with those it had when the file was written (<see cref="Load"/>): the
    /// machine was pointed at another cluster, or its cluster's seeds were all replaced.
    /// </summary>
    public bool SeedsChanged { get; private set; }

    /// <summary>The kept members' endpoints, without <paramref name="self"/>.</summary>
    public List<IPEndPoint> Endpoints(IPEndPoint? self) =>
        [.. _current.Select(a => IPEndPoint.TryParse(a, out var e) ? e : null).OfType<IPEndPoint>().Where(e => e.Port != 0 && !e.Equals(self)).Distinct()];

    /// <summary>
    /// Reads the file: lines that are neither <c>ip:port</c> nor a header are skipped. When the daemon's seeds now
    /// share none with those it had when the file was written, the members are not used (the machine was pointed at
    /// another cluster); a file without a seeds line (an earlier version's) is used as it is.
    /// </summary>
    public void Load()
    {
        try
        {
            if (!System.IO.File.Exists(File))
            {
                return;
            }

            var lines = System.IO.File.ReadAllLines(File).Select(l => l.Trim()).ToList();
            Cluster = Header(lines, ClusterLine) is [var id] ? id : null;
            _keptSeeds = Header(lines, SeedsLine) is { } had ? [.. had.Order(StringComparer.Ordinal)] : null;
            _current = [.. lines.Where(l => IPEndPoint.TryParse(l, out var e) && e.Port != 0).Distinct(StringComparer.Ordinal).Take(Capacity)];
            if (_keptSeeds is { } kept && !kept.Intersect(_seeds, StringComparer.Ordinal).Any() && !kept.SequenceEqual(_seeds))
            {
                SeedsChanged = true;
                LogSeedsChanged(logger, File, string.Join(' ', kept), string.Join(' ', _seeds));
                _current = [];
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogFailed(logger, File, e);
        }
    }

    /// <summary>
    /// Updates the kept members from the live ones (addresses as members advertise them); writes the file if they,
    /// the cluster or the seeds changed. Members kept in another cluster than <paramref name="cluster"/> are dropped.
    /// </summary>
    /// <returns>Whether the file's content changed.</returns>
    public bool Update(IReadOnlyCollection<string> alive, string? cluster = null)
    {
        ArgumentNullException.ThrowIfNull(alive);
        var current = cluster is not null && Cluster is not null && cluster != Cluster ? [] : _current; // moved: the first cluster's members go
        var live = alive.Where(a => a.Length > 0).ToHashSet(StringComparer.Ordinal);
        var keep = current.Where(live.Contains).ToList();
        var fresh = live.Except(keep, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        random.Shuffle(fresh);
        keep.AddRange(fresh.Take(Capacity - keep.Count));
        // Room left (fewer live members than the capacity): the saved ones not seen alive now stay (a flap, a partition).
        keep.AddRange(current.Where(a => !live.Contains(a)).Take(Capacity - keep.Count));
        var nextCluster = cluster ?? Cluster;
        if (keep.Count == _current.Length && keep.ToHashSet(StringComparer.Ordinal).SetEquals(_current) && nextCluster == Cluster
            && _keptSeeds is { } had && had.SequenceEqual(_seeds))
        {
            return false;
        }

        _current = [.. keep];
        Cluster = nextCluster;
        _keptSeeds = _seeds;
        var header = (Cluster is null ? "" : $"{ClusterLine} {Cluster}\n") + $"{SeedsLine} {string.Join(' ', _seeds)}".TrimEnd() + "\n";
        try
        {
            DataDirectory.WriteAtomically(File, Encoding.UTF8.GetBytes(header + string.Join("", keep.Select(a => a + "\n"))));
            _writeFailing = false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (!_writeFailing)
            {
                _writeFailing = true;
                LogFailed(logger, File, e);
            }
        }

        return true;
    }

    /// <summary>The words after a header line (<c># name word word…</c>); null without one.</summary>
    private static string[]? Header(List<string> lines, string name) =>
        lines.FirstOrDefault(l => l == name || l.StartsWith(name + " ", StringComparison.Ordinal)) is { } line
            ? line[name.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            : null;

    [LoggerMessage(18, LogLevel.Warning, "Could not read or write {File} (the members to rejoin through after a restart); the seeds remain")]
    private static partial void LogFailed(ILogger logger, string file, Exception exception);

    [LoggerMessage(22, LogLevel.Information, "The members kept in {File} were seen with seeds '{Had}', and the seeds are now '{Now}': not rejoining through them (the machine was pointed at another cluster, or every seed was replaced), and a kept desired state that names a cluster is merged only into that cluster")]
    private static partial void LogSeedsChanged(ILogger logger, string file, string had, string now);
}
