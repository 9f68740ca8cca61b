using VolunteerCloud.Containers;
using VolunteerCloud.Availability;

namespace VolunteerCloud.Placement;

/// <summary>
/// What placement sees of the cluster: every known host with its capacity, what is allocated on it, how many
/// replicas it runs, its region, whether it may take new work, and its session history for availability-aware
/// placement. Hosts are addressed by a dense index (<see cref="IndexOf"/>); strategies return an index.
/// <para>
/// The state keeps an index of eligible hosts by replica count, so that least-loaded choices cost O(1) amortised
/// instead of a scan. Not thread-safe: one node (one thread) owns it.
/// </para>
/// </summary>
public sealed class ClusterState
{
    private readonly Dictionary<NodeId, int> _index = [];
    private NodeId[] _hosts;
    private ResourceAmount[] _capacity;
    private ResourceAmount[] _allocated;
    private int[] _replicas;
    private ushort[] _region;
    private bool[] _eligible;
    private HostHistory?[] _history;

    // Eligible hosts with room left, by replica count: _buckets[k] holds those with k replicas; _slot[i] is host i's
    // place in its bucket, or -1 when it is in none (ineligible, or no CPU or memory free: no valid replica fits).
    private readonly List<List<int>> _buckets = [];
    private int[] _slot;
    private int _minBucket;

    /// <summary>Creates an empty state.</summary>
    /// <param name="expectedHosts">Room to reserve.</param>
    public ClusterState(int expectedHosts = 16)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedHosts);
        var n = Math.Max(expectedHosts, 4);
        _hosts = new NodeId[n];
        _capacity = new ResourceAmount[n];
        _allocated = new ResourceAmount[n];
        _replicas = new int[n];
        _region = new ushort[n];
        _eligible = new bool[n];
        _history = new HostHistory?[n];
        _slot = new int[n];
    }

    /// <summary>Number of hosts known (eligible or not).</summary>
    public int Count { get; private set; }

    /// <summary>Number of hosts that may take new work.</summary>
    public int EligibleCount { get; private set; }

    /// <summary>The virtual or real time "now" for availability-aware placement (set by the owner before placing).</summary>
    public TimeSpan Now { get; set; }

    /// <summary>
    /// Adds a host, eligible at once. Returns its index.
    /// </summary>
    /// <exception cref="ArgumentException">The host is already known, or its capacity is negative.</exception>
    public int Add(NodeId host, ResourceAmount capacity, ushort region = 0)
    {
        if (!(capacity.Cpus >= 0) || capacity.MemoryBytes < 0)
        {
            throw new ArgumentException($"Host {host}: capacity must not be negative (got {capacity}).", nameof(capacity));
        }

        if (!_index.TryAdd(host, Count))
        {
            throw new ArgumentException($"Host {host} is already in the cluster state.", nameof(host));
        }

        if (Count == _hosts.Length)
        {
            var n = _hosts.Length * 2;
            Array.Resize(ref _hosts, n);
            Array.Resize(ref _capacity, n);
            Array.Resize(ref _allocated, n);
            Array.Resize(ref _replicas, n);
            Array.Resize(ref _region, n);
            Array.Resize(ref _eligible, n);
            Array.Resize(ref _history, n);
            Array.Resize(ref _slot, n);
        }

        var index = Count++;
        _hosts[index] = host;
        _capacity[index] = capacity;
        _region[index] = region;
        _slot[index] = -1;
        SetEligible(index, true);
        return index;
    }

    /// <summary>The index of a host, or −1 when unknown.</summary>
    public int IndexOf(NodeId host) => _index.TryGetValue(host, out var index) ? index : -1;

    /// <summary>The host at an index.</summary>
    public NodeId HostAt(int index) => _hosts[Check(index)];

    /// <summary>The host's capacity (the owner's caps).</summary>
    public ResourceAmount CapacityOf(int index) => _capacity[Check(index)];

    /// <summary>What is allocated on the host.</summary>
    public ResourceAmount AllocatedOf(int index) => _allocated[Check(index)];

    /// <summary>Capacity minus allocation.</summary>
    public ResourceAmount FreeOf(int index) => _capacity[Check(index)] - _allocated[index];

    /// <summary>Replicas running on the host (its load for least-loaded and power-of-d choices).</summary>
    public int ReplicasOf(int index) => _replicas[Check(index)];

    /// <summary>The host's network region.</summary>
    public ushort RegionOf(int index) => _region[Check(index)];

    /// <summary>Whether the host may take new work (alive in the view, not leaving).</summary>
    public bool IsEligible(int index) => _eligible[Check(index)];

    /// <summary>
    /// Whether a replica with <paramref name="request"/>'s limits may go on the host: eligible, the limits fit what
    /// is free, and the host is not in the request's avoid list.
    /// </summary>
    public bool Fits(int index, in PlacementRequest request)
    {
        if (!_eligible[index] || !(_allocated[index] + request.Limits).FitsWithin(_capacity[index]))
        {
            return false;
        }

        var avoid = request.Avoid.Span;
        var host = _hosts[index];
        for (var i = 0; i < avoid.Length; i++)
        {
            if (avoid[i] == host)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Marks a host as taking new work or not (dead, suspect, leaving, outside its owner's hours).</summary>
    public void SetEligible(int index, bool eligible)
    {
        Check(index);
        if (_eligible[index] == eligible)
        {
            return;
        }

        _eligible[index] = eligible;
        EligibleCount += eligible ? 1 : -1;
        Relist(index);
    }

    /// <summary>Records a replica placed on the host.</summary>
    public void Place(int index, ResourceAmount limits)
    {
        Check(index);
        Unlist(index);
        _replicas[index]++;
        _allocated[index] += limits;
        Relist(index);
    }

    /// <summary>Records a replica gone from the host.</summary>
    /// <exception cref="InvalidOperationException">The host runs no replica.</exception>
    public void Release(int index, ResourceAmount limits)
    {
        Check(index);
        if (_replicas[index] == 0)
        {
            throw new InvalidOperationException($"Host {_hosts[index]} runs no replica to release.");
        }

        Unlist(index);
        _replicas[index]--;
        _allocated[index] -= limits;
        Relist(index);
    }

    /// <summary>The host's session history (created on first use).</summary>
    public HostHistory HistoryOf(int index) => _history[Check(index)] ??= new HostHistory();

    /// <summary>The host's history if it has one.</summary>
    internal HostHistory? HistoryOrNull(int index) => _history[index];

    /// <summary>The smallest replica count among eligible hosts with room (the bucket count when there is none).</summary>
    internal int MinimumLoad
    {
        get
        {
            while (_minBucket < _buckets.Count && _buckets[_minBucket].Count == 0)
            {
                _minBucket++;
            }

            return _minBucket;
        }
    }

    internal int BucketCount => _buckets.Count;

    internal List<int> Bucket(int load) => _buckets[load];

    /// <summary>Puts the host in the bucket of its load if it is eligible and has room, takes it out otherwise.</summary>
    private void Relist(int index)
    {
        var free = _capacity[index] - _allocated[index];
        var listed = _eligible[index] && free.Cpus > 1e-9 && free.MemoryBytes > 0;
        if (listed && _slot[index] < 0)
        {
            BucketAdd(index);
        }
        else if (!listed)
        {
            Unlist(index);
        }
    }

    private void Unlist(int index)
    {
        if (_slot[index] >= 0)
        {
            BucketRemove(index);
        }
    }

    private void BucketAdd(int index)
    {
        var load = _replicas[index];
        while (_buckets.Count <= load)
        {
            _buckets.Add([]);
        }

        var bucket = _buckets[load];
        _slot[index] = bucket.Count;
        bucket.Add(index);
        if (load < _minBucket)
        {
            _minBucket = load;
        }
    }

    private void BucketRemove(int index)
    {
        var bucket = _buckets[_replicas[index]];
        var slot = _slot[index];
        var last = bucket[^1];
        bucket[slot] = last;
        _slot[last] = slot;
        bucket.RemoveAt(bucket.Count - 1);
        _slot[index] = -1;
    }

    private int Check(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"No host has index {index} (the state holds {Count}).");
        }

        return index;
    }
}
