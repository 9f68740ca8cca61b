using System.Buffers.Binary;
using VolunteerCloud.Apps;
using VolunteerCloud.Wire;

namespace VolunteerCloud.ControlPlane;

/// <summary>
/// The desired state as one node holds it: each app's spec (key <c>app/{name}</c> of the replicated state), removed
/// apps as tombstones, and the cluster's id (key <c>cluster/id</c>). Writes go into the replicated state, which spreads
/// them; what arrives from there is applied through <see cref="Apply"/>.
/// </summary>
internal sealed class DesiredState(ReplicatedState state)
{
    /// <summary>The prefix of the desired state's keys in the replicated state (<c>app/</c> and the app's name).</summary>
    public const string AppPrefix = "app/";

    /// <summary>The key of the cluster's id in the replicated state.</summary>
    public const string ClusterKey = "cluster/id";

    /// <summary>How many random bytes a cluster's id has.</summary>
    private const int ClusterIdBytes = 16;

    private readonly Dictionary<string, DesiredApp> _apps = new(StringComparer.Ordinal);

    /// <summary>Counts the changes to <see cref="Entries"/> (a local deploy, scale or remove, or one merged from a peer).</summary>
    public long Version { get; private set; }

    /// <summary>Every app's spec, by name.</summary>
    public IEnumerable<AppSpec> Apps => _apps.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => a.Value.Spec);

    /// <summary>The entries kept between lives: every app's (tombstones included) and the cluster's id.</summary>
    public IEnumerable<StateEntry> Entries => state.Entries.Where(e => IsKeptKey(e.Key));

    /// <summary>The cluster's id as 32 lowercase hex digits, or null while none is known.</summary>
    public string? ClusterId => state.TryGet(ClusterKey, out var entry) ? ClusterIdOf([entry]) : null;

    /// <summary>Whether a replicated-state key is an app's (the desired state), not a host's report.</summary>
    public static bool IsAppKey(string key) => key.StartsWith(AppPrefix, StringComparison.Ordinal);

    /// <summary>Whether a key is kept between lives: an app's or the cluster's id.</summary>
    public static bool IsKeptKey(string key) => IsAppKey(key) || key == ClusterKey;

    /// <summary>The cluster id that kept entries name, or null when they name none.</summary>
    public static string? ClusterIdOf(IEnumerable<StateEntry> entries)
    {
        foreach (var entry in entries)
        {
            if (entry.Key == ClusterKey && !entry.Deleted && entry.Value.Length > 0)
            {
                return Convert.ToHexStringLower(entry.Value.Span);
            }
        }

        return null;
    }

    public bool TryGet(string app, out DesiredApp desired) => _apps.TryGetValue(app, out desired);

    public bool Contains(string app) => _apps.ContainsKey(app);

    /// <summary>Whether the replicated state holds the app's tombstone (removed, not deployed again since).</summary>
    public bool IsRemoved(string app) => state.TryGet(AppPrefix + app, out var entry) && entry.Deleted;

    /// <summary>Writes a random id for the cluster from the node's seeded source.</summary>
    public string Found(NodeContext context)
    {
        var id = new byte[ClusterIdBytes];
        for (var i = 0; i < id.Length; i += sizeof(ulong))
        {
            BinaryPrimitives.WriteUInt64LittleEndian(id.AsSpan(i), context.Random.NextUInt64());
        }

        state.Write(ClusterKey, id, 0, context);
        return Convert.ToHexStringLower(id);
    }

    /// <summary>Writes an app's spec; its version is at least the node's UTC clock (<see cref="VersionFloor"/>).</summary>
    public void Write(NodeContext context, AppSpec spec) => state.Write(AppPrefix + spec.Name, AppSpecCodec.Encode(spec), VersionFloor(context), context);

    /// <summary>Writes an app's tombstone.</summary>
    public void Delete(NodeContext context, string app) => state.Delete(AppPrefix + app, VersionFloor(context), context);

    /// <summary>
    /// Applies an entry the replicated state took: the cluster's id, or an app's spec or tombstone.
    /// </summary>
    /// <returns>The app's name when the entry was an app's and is applied (null for the id, another key, or a spec that
    /// does not decode).</returns>
    public string? Apply(in StateEntry entry, out bool removed)
    {
        removed = false;
        if (entry.Key == ClusterKey)
        {
            Version++; // kept with the desired state
            return null;
        }

        if (!IsAppKey(entry.Key))
        {
            return null;
        }

        Version++;
        var name = entry.Key[AppPrefix.Length..];
        if (entry.Deleted)
        {
            _apps.Remove(name);
            removed = true;
            return name;
        }

        try
        {
            _apps[name] = new DesiredApp(AppSpecCodec.Decode(entry.Value.Span), entry.Value.ToArray());
        }
        catch (WireFormatException)
        {
            return null;
        }

        return name;
    }

    /// <summary>
    /// A change's version is at least this node's UTC clock in ticks (and above the version it holds): a hybrid of a
    /// counter and a clock. With the counter alone, a node that restarted and has not relearnt the desired state yet
    /// writes a low version, and an older change the rest of the cluster holds beats the one it just acknowledged;
    /// with the clock, the later change wins as long as clocks are roughly right (Cassandra's last-writer-wins).
    /// </summary>
    private static long VersionFloor(NodeContext context) => context.TimeProvider.GetUtcNow().UtcTicks;
}

/// <summary>An app of the desired state: its spec, and the spec's encoding that start commands carry.</summary>
internal readonly record struct DesiredApp(AppSpec Spec, byte[] Encoded);
