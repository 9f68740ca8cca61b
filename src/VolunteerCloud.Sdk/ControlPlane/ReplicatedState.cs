using VolunteerCloud.Randomness;
using VolunteerCloud.Wire;

namespace VolunteerCloud.ControlPlane;

/// <summary>Options of <see cref="ReplicatedState"/>. Defaults follow memberlist's LAN configuration where one exists.</summary>
public sealed class ReplicatedStateOptions
{
    /// <summary>How often pending updates are pushed to random peers. Default 1 s.</summary>
    public TimeSpan GossipInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Peers each push goes to. Default 3 (memberlist's GossipNodes).</summary>
    public int GossipFanout { get; set; } = 3;

    /// <summary>An update is pushed multiplier × ⌈log10(n + 1)⌉ times. Default 4 (memberlist's RetransmitMult).</summary>
    public int RetransmitMultiplier { get; set; } = 4;

    /// <summary>How often this node runs anti-entropy with one random peer. Default 10 s (memberlist's push-pull is 30 s; desired state is small).</summary>
    public TimeSpan AntiEntropyInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Bytes of entries per gossip push, to fit one UDP datagram. Default 1 400 (memberlist's UDPBufferSize).</summary>
    public int GossipBudgetBytes { get; set; } = 1_400;

    /// <summary>Bytes per anti-entropy message (summaries and entries are split to fit). Default 60 000.</summary>
    public int SyncBudgetBytes { get; set; } = 60_000;

    /// <summary>Timer kinds used: this one (gossip) and the next (anti-entropy). Default 200.</summary>
    public int TimerKind { get; set; } = 200;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public void Validate()
    {
        if (GossipInterval <= TimeSpan.Zero || AntiEntropyInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(GossipInterval), "GossipInterval and AntiEntropyInterval must be positive.");
        }

        if (GossipFanout < 1 || RetransmitMultiplier < 1 || GossipBudgetBytes < 256 || SyncBudgetBytes < GossipBudgetBytes || SyncBudgetBytes > WireFormat.MaxDatagramBytes - 64)
        {
            throw new ArgumentOutOfRangeException(nameof(GossipFanout), "GossipFanout and RetransmitMultiplier must be at least 1, GossipBudgetBytes at least 256 and at most SyncBudgetBytes, which must fit a datagram.");
        }
    }
}

/// <summary>
/// A key → value map replicated on every node, last writer wins by (version, writer), spread by infection-style
/// gossip (each update pushed to a few random peers for λ·log n rounds) and repaired by periodic push-pull
/// anti-entropy (digest; on a mismatch, summaries of stamps; then the newer entries both ways). Converges on
/// every connected group of nodes; deletions are tombstones. Sans-IO: it acts through the node's context and
/// picks peers through the delegate it is given.
/// </summary>
public sealed class ReplicatedState
{
    private readonly Dictionary<string, StateEntry> _entries = new(StringComparer.Ordinal);
    private readonly List<(string Key, int Remaining)> _rumors = [];
    private readonly ReplicatedStateOptions _options;
    private readonly Func<RandomSource, NodeId?> _randomPeer;
    private readonly Func<int> _clusterSize;

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

    /// <summary>Raised for every entry added or replaced, by a local write or a merge.</summary>
    public event Action<StateEntry>? Changed;

    /// <summary>Entries held, tombstones included.</summary>
    public int Count => _entries.Count;

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
    public StateEntry Write(string key, ReadOnlyMemory<byte> value, long minimumVersion = 0)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (value.Length > StateEntry.MaxValueBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value.Length, $"A value may have at most {StateEntry.MaxValueBytes} bytes.");
        }

        return Put(new StateEntry(key, NextVersion(key, minimumVersion), Self, false, value.ToArray()));
    }

    /// <summary>Deletes a key (a tombstone that beats every older write).</summary>
    public StateEntry Delete(string key, long minimumVersion = 0)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Put(new StateEntry(key, NextVersion(key, minimumVersion), Self, true, ReadOnlyMemory<byte>.Empty));
    }

    /// <summary>Merges an entry from elsewhere: applied when its stamp beats the local one.</summary>
    /// <returns>Whether it was applied.</returns>
    public bool Merge(in StateEntry entry)
    {
        if (_entries.TryGetValue(entry.Key, out var current) && !entry.Supersedes(current))
        {
            return false;
        }

        Put(entry);
        return true;
    }

    /// <summary>Starts the gossip and anti-entropy timers (with a random phase, so nodes do not tick together).</summary>
    public void Start(NodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.SetTimer(context.Random.NextTimeSpan(_options.GossipInterval), new TimerTag(_options.TimerKind));
        context.SetTimer(context.Random.NextTimeSpan(_options.AntiEntropyInterval), new TimerTag(_options.TimerKind + 1));
    }

    /// <summary>Handles the state's timers.</summary>
    public bool TryHandleTimer(NodeContext context, TimerTag tag)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (tag.Kind == _options.TimerKind)
        {
            GossipRound(context);
            context.SetTimer(_options.GossipInterval, tag);
            return true;
        }

        if (tag.Kind == _options.TimerKind + 1)
        {
            if (_randomPeer(context.Random) is { } peer)
            {
                Send(context, peer, new StateDigest(_entries.Count, Hash), 12);
            }

            context.SetTimer(_options.AntiEntropyInterval, tag);
            return true;
        }

        return false;
    }

    /// <summary>Handles the state's messages (types 64–67).</summary>
    public bool TryHandleMessage(NodeContext context, NodeId from, InboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        var type = message.Type.Value;
        if (type is < 64 or > 67)
        {
            return false;
        }

        try
        {
            switch (type)
            {
                case 64:
                    foreach (var entry in message.Read<StateEntries>().Entries.Items.Span)
                    {
                        Merge(entry);
                    }

                    break;
                case 65:
                    var digest = message.Read<StateDigest>();
                    if (digest.Count != _entries.Count || digest.Hash != Hash)
                    {
                        SendStamps(context, from);
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

        return true;
    }

    /// <summary>Messages that could not be decoded (dropped).</summary>
    public long MalformedMessages { get; private set; }

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
            else if (mine.Supersedes(stamp.Version, stamp.Writer))
            {
                push.Add(mine);
            }
            else if (mine.Version != stamp.Version || mine.Writer != stamp.Writer)
            {
                pull.Add(stamp.Key);
            }
        }

        SendEntries(context, from, push, _options.SyncBudgetBytes);
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

    private void SendStamps(NodeContext context, NodeId to)
    {
        var stamps = new List<StateStamp>();
        var bytes = 8;
        foreach (var entry in _entries.Values)
        {
            var size = WireLength.Text(entry.Key) + WireLength.VarInt(entry.Version) + WireLength.NodeId(entry.Writer);
            if (bytes + size > _options.SyncBudgetBytes && stamps.Count > 0)
            {
                Send(context, to, new StateSummary(stamps.ToArray()), bytes);
                stamps.Clear();
                bytes = 8;
            }

            stamps.Add(new StateStamp(entry.Key, entry.Version, entry.Writer));
            bytes += size;
        }

        Send(context, to, new StateSummary(stamps.ToArray()), bytes);
    }

    private void SendEntries(NodeContext context, NodeId to, List<StateEntry> entries, int budget)
    {
        var batch = new List<StateEntry>();
        var bytes = 8;
        foreach (var entry in entries)
        {
            var size = entry.EncodedLength;
            if (bytes + size > budget && batch.Count > 0)
            {
                Send(context, to, new StateEntries(batch.ToArray()), bytes);
                batch.Clear();
                bytes = 8;
            }

            batch.Add(entry);
            bytes += size;
        }

        if (batch.Count > 0)
        {
            Send(context, to, new StateEntries(batch.ToArray()), bytes);
        }
    }

    private void GossipRound(NodeContext context)
    {
        if (_rumors.Count == 0)
        {
            return;
        }

        // The least-sent updates first, as memberlist does, within one datagram's budget.
        var batch = new List<StateEntry>();
        var bytes = 8;
        for (var i = 0; i < _rumors.Count; i++)
        {
            var (key, remaining) = _rumors[i];
            var entry = _entries[key];
            if (bytes + entry.EncodedLength > _options.GossipBudgetBytes && batch.Count > 0)
            {
                continue;
            }

            batch.Add(entry);
            bytes += entry.EncodedLength;
            _rumors[i] = (key, remaining - 1);
        }

        _rumors.RemoveAll(r => r.Remaining <= 0);
        _rumors.Sort((a, b) => b.Remaining.CompareTo(a.Remaining));
        var message = new StateEntries(batch.ToArray());
        var sentTo = new HashSet<NodeId>();
        for (var attempt = 0; attempt < _options.GossipFanout * 3 && sentTo.Count < _options.GossipFanout; attempt++)
        {
            if (_randomPeer(context.Random) is { } peer && sentTo.Add(peer))
            {
                Send(context, peer, message, bytes);
            }
        }
    }

    private StateEntry Put(StateEntry entry)
    {
        if (_entries.TryGetValue(entry.Key, out var old))
        {
            Hash ^= StampHash(old);
        }

        _entries[entry.Key] = entry;
        Hash ^= StampHash(entry);
        var limit = _options.RetransmitMultiplier * (int)Math.Ceiling(Math.Log10(Math.Max(1, _clusterSize()) + 1));
        var index = _rumors.FindIndex(r => r.Key == entry.Key);
        if (index >= 0)
        {
            _rumors[index] = (entry.Key, limit);
        }
        else
        {
            _rumors.Add((entry.Key, limit));
        }

        Changed?.Invoke(entry);
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

    private static ulong StampHash(in StateEntry entry)
    {
        var hash = 0xCBF29CE484222325UL;
        foreach (var c in entry.Key)
        {
            hash = (hash ^ c) * 0x100000001B3UL;
        }

        return SplitMix64.Mix64(hash ^ SplitMix64.Mix64((ulong)entry.Version ^ ((ulong)(uint)entry.Writer.Value << 40) ^ (entry.Deleted ? 1UL << 63 : 0)));
    }
}
