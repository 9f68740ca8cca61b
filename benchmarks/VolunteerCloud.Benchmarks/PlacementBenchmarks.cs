using BenchmarkDotNet.Attributes;
using VolunteerCloud.Containers;
using VolunteerCloud.Placement;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Experiments;
using VolunteerCloud.Strategies;

namespace VolunteerCloud.Benchmarks;

/// <summary>
/// Placement throughput with <see cref="Hosts"/> hosts: each operation chooses a host for a replica (never two
/// replicas of an app on one host: three replicas per app, the previous two avoided) and records it; the
/// replicas are released after each batch so every batch sees the same cluster. Goal: ≥ 100 000 placements/s
/// with 100 000 hosts. Strategies that score every host (rendezvous, bin-pack, availability-aware) are O(n) by
/// definition.
/// </summary>
[MemoryDiagnoser]
public class PlacementBenchmarks
{
    /// <summary>Placements per batch for the sampling strategies.</summary>
    protected const int Batch = 3_000;

    /// <summary>Placements per batch for the strategies that score every host.</summary>
    protected const int ScoringBatch = 30;
    private static readonly ResourceAmount Limits = new(0.5, 256L << 20);
    private readonly int[] _placed = new int[Batch];
    private readonly string[] _apps = [.. Enumerable.Range(0, Batch / 3).Select(i => "app" + i)];
    private ClusterState _cluster = null!;
    private IPlacementStrategy _strategy = null!;
    private SplittableRandom _random = null!;

    [Params(100_000)]
    public int Hosts { get; set; }

    [Params("random", "round-robin", "least-loaded", "power-of-2", "power-of-3", "spread-regions")]
    public virtual string Strategy { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _cluster = PlacementLab.ThroughputCluster(Hosts, new SplittableRandom(1));
        _strategy = StrategyCatalog.Placements[Strategy]();
        _random = new SplittableRandom(2);
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public virtual int Place() => PlaceBatch(Batch);

    /// <summary>Places <paramref name="batch"/> replicas, then releases them.</summary>
    protected int PlaceBatch(int batch)
    {
        var avoid = new NodeId[2];
        var regions = new ushort[2];
        for (var b = 0; b < batch; b++)
        {
            var replica = b % 3;
            var request = new PlacementRequest(_apps[b / 3], replica, Limits)
            {
                Avoid = avoid.AsMemory(0, replica),
                UsedRegions = regions.AsMemory(0, replica),
            };
            var chosen = _strategy.Choose(_cluster, request, _random);
            _cluster.Place(chosen, Limits);
            _placed[b] = chosen;
            if (replica < 2)
            {
                avoid[replica] = _cluster.HostAt(chosen);
                regions[replica] = _cluster.RegionOf(chosen);
            }
        }

        for (var b = 0; b < batch; b++)
        {
            _cluster.Release(_placed[b], Limits);
        }

        return batch;
    }
}

/// <summary>The strategies that score every host (O(n) per placement), in smaller batches.</summary>
public class ScoringPlacementBenchmarks : PlacementBenchmarks
{
    [Params("rendezvous", "bin-pack", "availability-aware")]
    public override string Strategy { get; set; } = "";

    [Benchmark(OperationsPerInvoke = ScoringBatch)]
    public override int Place() => PlaceBatch(ScoringBatch);
}
