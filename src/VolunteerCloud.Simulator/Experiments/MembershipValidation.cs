using System.Globalization;
using MathNet.Numerics;
using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Swim;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Network;

namespace VolunteerCloud.Simulator.Experiments;

/// <summary>
/// Reproduces the published properties of SWIM and memberlist (docs/references.md) in the simulator: detection
/// time, false positives, load, dissemination time. Every study is a pure function of its parameters and seed.
/// </summary>
public static class MembershipValidation
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    // SWIM's ping, ping-req, ack and nack.
    private static readonly int[] ProbeMessageTypes = [1, 2, 3, 4];

    /// <summary>The LAN the studies run on: one-way delays uniform in 1–10 ms.</summary>
    public static NetworkOptions Lan(double lossRate = 0) =>
        new() { Latency = LatencyModel.Uniform(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(10)), LossRate = lossRate };

    // ---- Time to first detection ----------------------------------------------------------------------

    /// <summary>One configuration of the detection study.</summary>
    /// <param name="HealthyFraction">q_f: the fraction of members that are not faulty.</param>
    /// <param name="Lockstep">Probe periods aligned on every node, crash at a period's start: the paper's model.</param>
    /// <param name="Lifeguard">Lifeguard extensions on.</param>
    public readonly record struct DetectionCase(double HealthyFraction, bool Lockstep, bool Lifeguard);

    /// <summary>The measured detection times of one configuration, in protocol periods.</summary>
    public sealed record DetectionResult(DetectionCase Case, int Nodes, double[] Periods)
    {
        /// <summary>SWIM's expected time to first detection: 1 / (1 − e^(−q_f)) protocol periods.</summary>
        public double Expected => 1 / (1 - Math.Exp(-Case.HealthyFraction));

        /// <summary>Mean detection time in periods.</summary>
        public double Mean => Periods.Average();

        /// <summary>Longest detection time in periods.</summary>
        public double Max => Periods.Max();

        /// <summary>Half-width of the 95% confidence interval of the mean.</summary>
        public double HalfWidth95 => 1.96 * MathNet.Numerics.Statistics.Statistics.StandardDeviation(Periods) / Math.Sqrt(Periods.Length);
    }

    /// <summary>
    /// Crashes one member (plus a fraction 1 − q_f of others at the same instant) in a converged cluster and
    /// measures the time until some live member first suspects it, over <paramref name="trials"/> runs.
    /// </summary>
    public static DetectionResult Detection(int nodes, int trials, DetectionCase config, ulong seed)
    {
        var periods = new double[trials];
        Parallel.For(0, trials, trial => periods[trial] = DetectionTrial(nodes, config, seed + (ulong)trial));
        return new DetectionResult(config, nodes, periods);
    }

    private static double DetectionTrial(int nodes, DetectionCase config, ulong seed)
    {
        var options = new SwimOptions { Lifeguard = config.Lifeguard, RandomProbeStart = !config.Lockstep };
        using var lab = MembershipLab.Start(nodes, new SwimMembershipFactory(options), seed, Lan());
        var random = SplittableRandom.ForStream(seed, "detection.victims");
        var victim = new NodeId(random.NextInt32(nodes));
        var faulty = new HashSet<NodeId> { victim };
        while (faulty.Count < 1 + (int)Math.Round((1 - config.HealthyFraction) * nodes))
        {
            faulty.Add(new NodeId(random.NextInt32(nodes)));
        }

        var detectedAt = long.MinValue;
        foreach (var protocol in lab.Protocols)
        {
            protocol.Changed += (_, change) =>
            {
                if (change.Node == victim && change.Current is MemberState.Suspect or MemberState.Dead && detectedAt == long.MinValue)
                {
                    detectedAt = lab.Simulation.Now.Ticks;
                }
            };
        }

        // Lockstep: just after the period's probes went out, as the paper's analysis assumes. Otherwise: any time.
        var crashAt = config.Lockstep
            ? (Period * 5) + TimeSpan.FromTicks(1)
            : (Period * 5) + random.NextTimeSpan(Period);
        lab.Simulation.RunUntil(crashAt);
        foreach (var node in faulty)
        {
            lab.Simulation.Crash(node);
        }

        for (var i = 0; i < 4 * nodes && detectedAt == long.MinValue; i++)
        {
            lab.Simulation.RunFor(Period);
        }

        return detectedAt == long.MinValue ? double.PositiveInfinity : (detectedAt - crashAt.Ticks) / (double)Period.Ticks;
    }

    // ---- False positives per probe, without the suspicion stage -----------------------------------------

    /// <summary>One row of the false-positive study.</summary>
    public sealed record FalsePositiveResult(double LossRate, int IndirectChecks, long Probes, long Failures)
    {
        /// <summary>SWIM's false-positive probability per probe: (1 − q²)(1 − q⁴)^K, q the delivery probability.</summary>
        public double Expected
        {
            get
            {
                var q = 1 - LossRate;
                return (1 - (q * q)) * Math.Pow(1 - Math.Pow(q, 4), IndirectChecks);
            }
        }

        /// <summary>Failures per probe.</summary>
        public double Measured => Failures / (double)Probes;

        /// <summary>95% Wilson score interval of the measured rate.</summary>
        public (double Low, double High) Interval95
        {
            get
            {
                const double z = 1.96;
                double n = Probes, p = Measured;
                var centre = (p + (z * z / (2 * n))) / (1 + (z * z / n));
                var half = z * Math.Sqrt((p * (1 - p) / n) + (z * z / (4 * n * n))) / (1 + (z * z / n));
                return (Math.Max(0, centre - half), centre + half);
            }
        }
    }

    /// <summary>
    /// Basic SWIM (no suspicion stage, no Lifeguard): every failed probe of a live member is a false positive.
    /// Runs until about 30 failures are expected, between <paramref name="minProbes"/> and <paramref name="maxProbes"/> probes.
    /// </summary>
    public static FalsePositiveResult FalsePositives(int nodes, double lossRate, int indirectChecks, ulong seed, long minProbes = 200_000, long maxProbes = 20_000_000)
    {
        var options = new SwimOptions { Suspicion = false, Lifeguard = false, IndirectChecks = indirectChecks };
        using var lab = MembershipLab.Start(nodes, new SwimMembershipFactory(options), seed, Lan(lossRate));
        var expected = new FalsePositiveResult(lossRate, indirectChecks, 1, 0).Expected;
        var probes = Math.Clamp((long)(30 / expected), minProbes, maxProbes);
        lab.Simulation.RunFor(TimeSpan.FromSeconds(10));
        var sent = lab.Sum(c => c.ProbesSent);
        var failed = lab.Sum(c => c.ProbesFailed);
        lab.Simulation.RunFor(Period * Math.Ceiling(probes / (double)nodes));
        return new FalsePositiveResult(lossRate, indirectChecks, lab.Sum(c => c.ProbesSent) - sent, lab.Sum(c => c.ProbesFailed) - failed);
    }

    // ---- False suspicions and deaths per node-hour, with suspicion (and Lifeguard) ---------------------

    /// <summary>One row of the suspicion study: no member ever fails, so every suspicion and death is false.</summary>
    public sealed record SuspicionResult(string Scenario, bool Lifeguard, int Nodes, double Hours, long Suspicions, long Deaths, long Refutations)
    {
        /// <summary>Suspicions raised per member per hour.</summary>
        public double SuspicionsPerNodeHour => Suspicions / (Nodes * Hours);

        /// <summary>Members declared dead per member per hour.</summary>
        public double DeathsPerNodeHour => Deaths / (Nodes * Hours);
    }

    /// <summary>
    /// No member fails; the network loses messages, or a tenth of the members are slow (every message to them
    /// waits <paramref name="slowDelay"/> more, a backed-up inbound queue). Counts suspicions raised and members
    /// declared dead by suspicion timeout.
    /// </summary>
    public static SuspicionResult SuspicionFalsePositives(int nodes, double lossRate, TimeSpan slowDelay, bool lifeguard, TimeSpan duration, ulong seed)
    {
        var options = new SwimOptions { Lifeguard = lifeguard };
        using var lab = MembershipLab.Start(nodes, new SwimMembershipFactory(options), seed, Lan(lossRate));
        if (slowDelay > TimeSpan.Zero)
        {
            for (var i = 0; i < nodes; i += 10)
            {
                lab.Simulation.Network.SlowDown(new NodeId(i), slowDelay);
            }
        }

        lab.Simulation.RunFor(TimeSpan.FromSeconds(30));
        var suspicions = lab.Sum(c => c.SuspicionsRaised);
        var deaths = lab.Sum(c => c.DeathsDeclared);
        var refutations = lab.Sum(c => c.Refutations);
        lab.Simulation.RunFor(duration);
        var scenario = slowDelay > TimeSpan.Zero
            ? string.Create(CultureInfo.InvariantCulture, $"10% slow (+{slowDelay.TotalSeconds:0.#} s), loss {lossRate:P0}")
            : string.Create(CultureInfo.InvariantCulture, $"loss {lossRate:P0}");
        return new SuspicionResult(
            scenario,
            lifeguard,
            nodes,
            duration.TotalHours,
            lab.Sum(c => c.SuspicionsRaised) - suspicions,
            lab.Sum(c => c.DeathsDeclared) - deaths,
            lab.Sum(c => c.Refutations) - refutations);
    }

    // ---- Load per member ----------------------------------------------------------------------------------

    /// <summary>Messages and bytes per member per second, split by what they are for.</summary>
    public sealed record LoadResult(int Nodes, double Seconds, long ProbeMessages, long ProbeBytes, long GossipMessages, long GossipBytes, long PushPullMessages, long PushPullBytes)
    {
        /// <summary>All membership messages per member per second.</summary>
        public double MessagesPerMemberSecond => (ProbeMessages + GossipMessages + PushPullMessages) / (Nodes * Seconds);

        /// <summary>All membership bytes per member per second.</summary>
        public double BytesPerMemberSecond => (ProbeBytes + GossipBytes + PushPullBytes) / (Nodes * Seconds);

        /// <summary>Ping, ping-req, ack and nack messages per member per second.</summary>
        public double ProbeMessagesPerMemberSecond => ProbeMessages / (Nodes * Seconds);

        /// <summary>Probe bytes per member per second.</summary>
        public double ProbeBytesPerMemberSecond => ProbeBytes / (Nodes * Seconds);

        /// <summary>Push-pull bytes per member per second.</summary>
        public double PushPullBytesPerMemberSecond => PushPullBytes / (Nodes * Seconds);
    }

    /// <summary>A converged cluster with no failures, measured over <paramref name="window"/> after a 60 s warm-up.</summary>
    public static LoadResult Load(int nodes, TimeSpan window, ulong seed)
    {
        using var lab = MembershipLab.Start(nodes, new SwimMembershipFactory(new SwimOptions()), seed, Lan());
        lab.Simulation.RunFor(TimeSpan.FromSeconds(60));
        var before = Traffic(lab.Simulation);
        lab.Simulation.RunFor(window);
        var after = Traffic(lab.Simulation);
        (long, long) Delta(int type) => (after.GetValueOrDefault(type).Messages - before.GetValueOrDefault(type).Messages, after.GetValueOrDefault(type).Bytes - before.GetValueOrDefault(type).Bytes);
        var probe = ProbeMessageTypes.Select(Delta).Aggregate((a, b) => (a.Item1 + b.Item1, a.Item2 + b.Item2));
        var gossip = Delta(5);
        var pushPull = Delta(6);
        return new LoadResult(nodes, window.TotalSeconds, probe.Item1, probe.Item2, gossip.Item1, gossip.Item2, pushPull.Item1, pushPull.Item2);
    }

    private static Dictionary<int, (long Messages, long Bytes)> Traffic(Simulation simulation) =>
        simulation.Statistics.SentByType.ToDictionary(e => (int)e.Key.Value, e => e.Value);

    // ---- Dissemination time ---------------------------------------------------------------------------

    /// <summary>How long, after a crash, until the cluster knows (mean over trials, in seconds).</summary>
    public sealed record DisseminationResult(int Nodes, int Trials, double FirstSuspicion, double AllSuspect, double AllDead);

    /// <summary>
    /// Crashes one member of a converged cluster and measures: the first suspicion, the time until no live member
    /// believes it alive any more (the infection has reached everyone), and until every live member holds it dead.
    /// </summary>
    public static DisseminationResult Dissemination(int nodes, int trials, ulong seed)
    {
        var results = new (double First, double AllSuspect, double AllDead)[trials];
        Parallel.For(0, trials, trial => results[trial] = DisseminationTrial(nodes, seed + (ulong)trial));
        return new DisseminationResult(nodes, trials, results.Average(r => r.First), results.Average(r => r.AllSuspect), results.Average(r => r.AllDead));
    }

    private static (double, double, double) DisseminationTrial(int nodes, ulong seed)
    {
        using var lab = MembershipLab.Start(nodes, new SwimMembershipFactory(new SwimOptions()), seed, Lan());
        var victim = new NodeId(SplittableRandom.ForStream(seed, "dissemination.victim").NextInt32(nodes));
        var believesAlive = nodes - 1;
        var holdsDead = 0;
        long first = -1, allSuspect = -1, allDead = -1;
        foreach (var protocol in lab.Protocols)
        {
            if (protocol.Self == victim)
            {
                continue;
            }

            protocol.Changed += (_, change) =>
            {
                if (change.Node != victim || change.Removed)
                {
                    return;
                }

                var now = lab.Simulation.Now.Ticks;
                if (change.Previous == MemberState.Alive && change.Current != MemberState.Alive)
                {
                    first = first < 0 ? now : first;
                    if (--believesAlive == 0)
                    {
                        allSuspect = now;
                    }
                }

                if (change.Current == MemberState.Dead && ++holdsDead == nodes - 1)
                {
                    allDead = now;
                }
            };
        }

        lab.Simulation.RunFor(TimeSpan.FromSeconds(30));
        var crashAt = lab.Simulation.Now.Ticks;
        lab.Simulation.Crash(victim);
        for (var i = 0; i < 600 && allDead < 0; i++)
        {
            lab.Simulation.RunFor(Period);
        }

        double Seconds(long ticks) => ticks < 0 ? double.PositiveInfinity : TimeSpan.FromTicks(ticks - crashAt).TotalSeconds;
        return (Seconds(first), Seconds(allSuspect), Seconds(allDead));
    }

    /// <summary>Least-squares fit y = a + b·ln N, with R².</summary>
    public static (double Intercept, double Slope, double RSquared) FitLogN(IReadOnlyList<int> nodes, IReadOnlyList<double> values)
    {
        var x = nodes.Select(n => Math.Log(n)).ToArray();
        var y = values.ToArray();
        var (a, b) = Fit.Line(x, y);
        return (a, b, GoodnessOfFit.RSquared(x.Select(v => a + (b * v)), y));
    }
}
