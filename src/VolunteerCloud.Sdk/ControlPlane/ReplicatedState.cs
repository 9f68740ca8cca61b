using VolunteerCloud.Randomness;
using VolunteerCloud.Wire;

namespace VolunteerCloud.ControlPlane;

/// <summary>
/// A key → value map replicated on every node, last writer wins by (version, writer), spread by infection-style
/// gossip (each update sent λ·⌈log10(n + 1)⌉ times to random peers, as memberlist's transmit-limited queue) and
/// repaired by periodic push-pull anti-entropy (digest; on a mismatch, one hash per key bucket; then the stamps
/// of the buckets that differ; then the newer entries both ways). Converges on
/// every connected group of nodes; deletions are tombstones. Sans-IO: it acts through the node's context and
/// picks peers through the delegate it is given.
/// </summary>
internal sealed partial class ReplicatedState
{
    private readonly Dictionary<string, StateEntry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _rumors = new(StringComparer.Ordinal); // key → pushes left
    private readonly List<string> _rumorOrder = [];
    private readonly ulong[] _bucketHash = new ulong[StateBuckets.BucketCount];
    private readonly List<string>[] _bucketKeys = [.. Enumerable.Range(0, StateBuckets.BucketCount).Select(_ => new List<string>())];
    private readonly ReplicatedStateOptions _options;
    private readonly Func<RandomSource, NodeId?> _randomPeer;
    private readonly Func<int> _clusterSize;
    private bool _gossipArmed;

    /// <summary>Creates the state for one node.</summary>
    /// <param name="self">The node.</param>
    /// <param name="options">Intervals and budgets.</param>
    /// <param name="randomPeer">A random live member other than this node, or null when there is none.</param>
    /// <param name="clusterSize">How many members there are (for the retransmit limit).</param>
    public ReplicatedState(NodeId self, ReplicatedStateOptions options, Func<RandomSource, NodeId?> randomPeer, Func<int> clusterSize)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(randomPeer);
        ArgumentNullException.ThrowIfNull(clusterSize);
        options.Validate();
        Self = self;
        _options = options;
        _randomPeer = randomPeer;
        _clusterSize = clusterSize;
    }

    /// <summary>The node.</summary>
    public NodeId Self { get; }

    /// <summary>
    /// Raised for every entry added or replaced, by a local write or a merge, with the context of the input it happens
    /// in (null for a write or merge made outside any input, as a test may).
    /// </summary>
    public event Action<NodeContext?, StateEntry>? Changed;

    /// <summary>Entries held, tombstones included.</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// Whether this node has compared its state with a peer's since it started: anti-entropy found the two equal, or
    /// brought the peer's entries (the first of them: a large repair can take a few more datagrams). Until then a node
    /// started without its state (a restart) holds only what gossip brought, so a key it lacks may exist elsewhere.
    /// The peer is not asked whether it is synced itself: two nodes restarted together can count each other (each
    /// later exchange still repairs them). Requiring a synced peer would deadlock a cluster restarted as a whole,
    /// where no node is synced and gossip may already have made every state equal.
    /// </summary>
    public bool Synced { get; private set; }

    /// <summary>
    /// How often the node starts an anti-entropy exchange now, so about how long <see cref="Synced"/> takes: with
    /// <see cref="ReplicatedStateOptions.ConfirmUntilSynced"/> every gossip interval until synced, else the anti-entropy interval.
    /// </summary>
    public TimeSpan ExchangeInterval => _options.ConfirmUntilSynced && !Synced ? _options.GossipInterval : _options.AntiEntropyInterval;

    /// <summary>XOR of the entries' stamp hashes: equal on two nodes that hold the same stamps.</summary>
    public ulong Hash { get; private set; }

    /// <summary>Messages and bytes sent by this state.</summary>
    public long MessagesSent { get; private set; }

    /// <summary>Bytes of entries and stamps sent (message bodies, approximately).</summary>
    public long BytesSent { get; private set; }

    /// <summary>All entries, in the order they were first learned.</summary>
    public IEnumerable<StateEntry> Entries => _entries.Values;

    /// <summary>The entry for a key, tombstones included.</summary>
    public bool TryGet(string key, out StateEntry entry) => _entries.TryGetValue(key, out entry);

    /// <summary>Writes a value: its version is one more than the key's current one, or <paramref name="minimumVersion"/> if that is higher.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value's bytes.</param>
    /// <param name="minimumVersion">A floor for the version (e.g. a clock reading, so a restarted writer still wins).</param>
    /// <param name="context">The node's context when called during one of its inputs: starts the gossip timer at once.</param>
    public StateEntry Write(string key, ReadOnlyMemory<byte> value, long minimumVersion = 0, NodeContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (value.Length > StateEntry.MaxValueBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value.Length, $"A value may have at most {StateEntry.MaxValueBytes} bytes.");
        }

        var entry = Put(new StateEntry(key, NextVersion(key, minimumVersion), Self, false, value.ToArray()), context);
        ArmGossip(context);
        return entry;
    }

    /// <summary>Deletes a key (a tombstone that beats every older write).</summary>
    public StateEntry Delete(string key, long minimumVersion = 0, NodeContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        var entry = Put(new StateEntry(key, NextVersion(key, minimumVersion), Self, true, ReadOnlyMemory<byte>.Empty), context);
        ArmGossip(context);
        return entry;
    }

    /// <summary>Starts the gossip timer if updates are waiting and it is not running (the node's writes outside an input call this later).</summary>
    public void ArmGossip(NodeContext? context)
    {
        if (context is not null && !_gossipArmed && _rumors.Count > 0)
        {
            context.SetTimer(_options.GossipInterval, new TimerTag(TimerKinds.StateGossip));
            _gossipArmed = true;
        }
    }

    /// <summary>Merges an entry from elsewhere: applied when its stamp beats the local one.</summary>
    /// <param name="entry">The entry.</param>
    /// <param name="spread">Push it on to others (an update heard by gossip); false for entries learned by anti-entropy, which
    /// repairs one node and must not start a storm of pushes when a restarted node relearns the whole state.</param>
    /// <param name="context">The node's context when called during one of its inputs (handed to <see cref="Changed"/>).</param>
    /// <returns>Whether it was applied.</returns>
    public bool Merge(in StateEntry entry, bool spread = true, NodeContext? context = null)
    {
        if (_entries.TryGetValue(entry.Key, out var current) && !entry.Supersedes(current))
        {
            return false;
        }

        Put(entry, context, spread);
        return true;
    }

    /// <summary>Starts the anti-entropy timer (with a random phase, so nodes do not tick together), and gossip if updates wait.</summary>
    public void Start(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArmGossip(context);
        context.SetTimer(context.Random.NextTimeSpan(ExchangeInterval), new TimerTag(TimerKinds.StateAntiEntropy));
    }

    /// <summary>Handles the state's timers.</summary>
    public bool TryHandleTimer(NodeContext context, TimerTag tag)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (tag.Kind == TimerKinds.StateGossip)
        {
            _gossipArmed = false;
            GossipRound(context);
            ArmGossip(context);
            return true;
        }

        if (tag.Kind == TimerKinds.StateAntiEntropy)
        {
            if (_randomPeer(context.Random) is { } peer)
            {
                if (_options.ConfirmUntilSynced && !Synced)
                {
                    Send(context, peer, new StateDigestQuery(_entries.Count, Hash), 12);
                }
                else
                {
                    Send(context, peer, new StateDigest(_entries.Count, Hash), 12);
                }
            }

            context.SetTimer(ExchangeInterval, tag);
            return true;
        }

        return false;
    }

    /// <summary>Handles the state's messages (types 64–67, 70 and 71).</summary>
    public bool TryHandleMessage(NodeContext context, NodeId from, InboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        var type = message.Type.Value;
        if (type is (< 64 or > 67) and not 70 and not 71)
        {
            return false;
        }

        try
        {
            switch (type)
            {
                case 64:
                    var body = message.Read<StateEntries>();
                    Synced |= body.Sync;
                    foreach (var entry in body.Entries.Items.Span)
                    {
                        Merge(entry, spread: !body.Sync, context);
                    }

                    break;
                case 65:
                    var digest = message.Read<StateDigest>();
                    OnDigest(context, from, digest.Count, digest.Hash, confirmEqual: false);
                    break;
                case 71:
                    var query = message.Read<StateDigestQuery>();
                    OnDigest(context, from, query.Count, query.Hash, confirmEqual: true);
                    break;
                case 70:
                    var buckets = message.Read<StateBuckets>().Hashes.Items.Span;
                    var differ = 0UL;
                    for (var b = 0; b < buckets.Length; b++)
                    {
                        if (buckets[b] != _bucketHash[b])
                        {
                            differ |= 1UL << b;
                        }
                    }

                    if (differ != 0)
                    {
                        SendStamps(context, from, differ);
                    }
                    else
                    {
                        Synced = true;
                    }

                    break;
                case 66:
                    OnSummary(context, from, message.Read<StateSummary>());
                    break;
                default:
                    var keys = message.Read<StatePull>().Keys.Items.Span;
                    var wanted = new List<StateEntry>(keys.Length);
                    foreach (var key in keys)
                    {
                        if (_entries.TryGetValue(key, out var entry))
                        {
                            wanted.Add(entry);
                        }
                    }

                    SendEntries(context, from, wanted, _options.SyncBudgetBytes);
                    break;
            }
        }
        catch (WireFormatException)
        {
            MalformedMessages++;
        }

        ArmGossip(context);
        return true;
    }

    /// <summary>Messages that could not be decoded (dropped).</summary>
    public long MalformedMessages { get; private set; }

    private void GossipRound(NodeContext context)
    {
        // memberlist's transmit-limited queue: each round picks up to GossipFanout peers and builds one datagram for
        // each from the pending updates, newest first (they have the most transmissions left); every update put in a
        // datagram uses one of its transmissions. An update is sent multiplier × ⌈log10(n + 1)⌉ times in all, not
        // that many times to each of the fanout peers.
        var sentTo = new HashSet<NodeId>();
        for (var attempt = 0; attempt < _options.GossipFanout * 3 && sentTo.Count < _options.GossipFanout && _rumors.Count > 0; attempt++)
        {
            if (_randomPeer(context.Random) is not { } peer || !sentTo.Add(peer))
            {
                continue;
            }

            var batch = new List<StateEntry>();
            var bytes = 8;
            var visited = _rumorOrder.Count;
            for (var i = _rumorOrder.Count - 1; i >= 0; i--)
            {
                var entry = _entries[_rumorOrder[i]];
                if (bytes + entry.EncodedLength > _options.GossipBudgetBytes && batch.Count > 0)
                {
                    break;
                }

                batch.Add(entry);
                bytes += entry.EncodedLength;
                _rumors[entry.Key]--;
                visited = i;
            }

            // Only the updates just sent can have run out: compact the tail they occupy, not the whole list.
            var write = visited;
            for (var read = visited; read < _rumorOrder.Count; read++)
            {
                var key = _rumorOrder[read];
                if (_rumors[key] <= 0)
                {
                    _rumors.Remove(key);
                }
                else
                {
                    _rumorOrder[write++] = key;
                }
            }

            _rumorOrder.RemoveRange(write, _rumorOrder.Count - write);
            Send(context, peer, new StateEntries(batch.ToArray()), bytes);
        }
    }

    private StateEntry Put(StateEntry entry, NodeContext? context, bool spread = true)
    {
        var keyHash = Placement.Rendezvous.Key(entry.Key);
        var bucket = StateBuckets.BucketOf(keyHash);
        if (_entries.TryGetValue(entry.Key, out var old))
        {
            var oldHash = StampHash(keyHash, old);
            Hash ^= oldHash;
            _bucketHash[bucket] ^= oldHash;
        }
        else
        {
            _bucketKeys[bucket].Add(entry.Key);
        }

        _entries[entry.Key] = entry;
        var hash = StampHash(keyHash, entry);
        Hash ^= hash;
        _bucketHash[bucket] ^= hash;
        if (spread)
        {
            var limit = _options.RetransmitMultiplier * (int)Math.Ceiling(Math.Log10(Math.Max(1, _clusterSize()) + 1));
            if (!_rumors.ContainsKey(entry.Key))
            {
                _rumorOrder.Add(entry.Key);
            }

            _rumors[entry.Key] = limit; // an update to a key still being pushed keeps its place and gets its pushes back
        }

        Changed?.Invoke(context, entry);
        return entry;
    }

    private long NextVersion(string key, long minimumVersion) =>
        Math.Max(_entries.TryGetValue(key, out var current) ? current.Version + 1 : 1, minimumVersion);

    private void Send<TMessage>(NodeContext context, NodeId to, in TMessage message, int bytes)
        where TMessage : IWireMessage<TMessage>
    {
        context.Send(to, message);
        MessagesSent++;
        BytesSent += bytes;
    }

    private static ulong StampHash(ulong keyHash, in StateEntry entry) =>
        SplitMix64.Mix64(keyHash ^ SplitMix64.Mix64((ulong)entry.Version ^ ((ulong)(uint)entry.Writer.Value << 40) ^ (entry.Deleted ? 1UL << 63 : 0)) ^ entry.ValueHash);
}
