using System.Globalization;
using System.Text;
using VolunteerCloud.Membership;
using VolunteerCloud.Membership.Heartbeat;
using VolunteerCloud.Membership.Registry;
using VolunteerCloud.Membership.Swim;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Network;

namespace VolunteerCloud.Simulator.Experiments.Runner;

/// <summary>One membership run: a protocol, a cluster size, a loss rate, a seed.</summary>
public sealed record MembershipCase(string Protocol, int Nodes, double Loss, ulong Seed)
{
    /// <summary>The name used in results and with <c>--only</c>.</summary>
    public string Combination => string.Create(CultureInfo.InvariantCulture, $"{Protocol}/n{Nodes}/loss{Loss:0.##}");
}

/// <summary>What one membership run measured.</summary>
/// <param name="Case">The run.</param>
/// <param name="Crashes">Members crashed (never back) during the run.</param>
/// <param name="Detected">Crashes some live member declared dead before the run ended.</param>
/// <param name="DetectionSeconds">For each detected crash, from the crash to the first live member declaring it dead, sorted.</param>
/// <param name="FalsePositives">Times a live member declared another live (never crashed) member dead.</param>
/// <param name="MessagesPerNodeSecond">Messages sent per member per second over the measured window.</param>
/// <param name="BytesPerNodeSecond">Bytes sent per member per second over the measured window.</param>
/// <param name="Events">Events the kernel processed.</param>
public sealed record MembershipRunResult(MembershipCase Case, int Crashes, int Detected, double[] DetectionSeconds, long FalsePositives, double MessagesPerNodeSecond, double BytesPerNodeSecond, long Events)
{
    /// <summary>False positives per live member per hour of the measured window.</summary>
    public double FalsePositivesPerNodeHour(TimeSpan window) => FalsePositives / (Case.Nodes * window.TotalHours);
}

/// <summary>
/// Compares membership protocols on one footing: a converged cluster on a LAN (1–10 ms latency) with a given
/// datagram loss rate, 30 s of warm-up, then a measured window in which a number of members crash at random instants
/// of its first half (never the registry's node 0). Detection: from a crash to the first live member declaring the
/// member dead. False positive: a live member declaring a member dead that never crashed. Load: every message and
/// byte sent in the window.
/// </summary>
public static class MembershipStudy
{
    /// <summary>The protocols compared, by name, with their default options (memberlist's LAN settings for SWIM).</summary>
    public static IReadOnlyList<string> Protocols { get; } = [StrategyNames.Swim, StrategyNames.Heartbeat, StrategyNames.Registry];

    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(30);

    /// <summary>Runs one case.</summary>
    public static MembershipRunResult Run(MembershipCase run, TimeSpan window, int crashes)
    {
        ArgumentNullException.ThrowIfNull(run);
        IMembershipProtocolFactory factory = run.Protocol switch
        {
            StrategyNames.Swim => new SwimMembershipFactory(new SwimOptions()),
            StrategyNames.Heartbeat => new HeartbeatGossipMembershipFactory(new HeartbeatGossipOptions()),
            StrategyNames.Registry => new CentralRegistryMembershipFactory(new CentralRegistryOptions { Registry = new NodeId(0) }),
            _ => throw new ArgumentException($"No membership protocol '{run.Protocol}'; protocols: {string.Join(", ", Protocols)}.", nameof(run)),
        };
        using var lab = MembershipLab.Start(run.Nodes, factory, run.Seed, new NetworkOptions { Latency = LatencyModel.Uniform(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(10)), LossRate = run.Loss });
        var random = SplittableRandom.ForStream(run.Seed, "membership-study.crashes");
        var crashAt = new Dictionary<NodeId, TimeSpan>();
        var detected = new Dictionary<NodeId, TimeSpan>();
        long falsePositives = 0;
        for (var i = 0; i < run.Nodes; i++)
        {
            var observer = new NodeId(i);
            lab[observer].Changed += (_, change) =>
            {
                if (change.Current != MemberState.Dead || !lab.Simulation.IsUp(observer) || lab.Simulation.Now < WarmUp)
                {
                    return;
                }

                if (crashAt.TryGetValue(change.Node, out var at))
                {
                    detected.TryAdd(change.Node, lab.Simulation.Now - at);
                }
                else
                {
                    falsePositives++;
                }
            };
        }

        lab.Simulation.RunUntil(WarmUp);
        var victims = new List<NodeId>();
        while (victims.Count < Math.Min(crashes, run.Nodes - 2))
        {
            var victim = new NodeId(1 + random.NextInt32(run.Nodes - 1));
            if (!victims.Contains(victim))
            {
                victims.Add(victim);
            }
        }

        foreach (var victim in victims)
        {
            var at = WarmUp + random.NextTimeSpan(window / 2);
            lab.Simulation.Schedule(at - WarmUp, () =>
            {
                crashAt[victim] = lab.Simulation.Now;
                lab.Simulation.Crash(victim);
            });
        }

        var (messages, bytes) = (lab.Simulation.Statistics.MessagesSent, lab.Simulation.Statistics.BytesSent);
        lab.Simulation.RunUntil(WarmUp + window);
        var nodeSeconds = run.Nodes * window.TotalSeconds;
        return new MembershipRunResult(
            run,
            victims.Count,
            detected.Count,
            [.. detected.Values.Select(t => t.TotalSeconds).Order()],
            falsePositives,
            (lab.Simulation.Statistics.MessagesSent - messages) / nodeSeconds,
            (lab.Simulation.Statistics.BytesSent - bytes) / nodeSeconds,
            lab.Simulation.Statistics.EventsProcessed);
    }

    /// <summary>The header of a membership experiment's runs.csv.</summary>
    public const string RunsHeader = "experiment,definition_hash,commit,combination,protocol,nodes,loss,seed,crashes,detected,detection_mean_s,detection_p50_s,detection_max_s,false_positives,false_positives_per_node_hour,msgs_per_node_s,bytes_per_node_s,events";

    /// <summary>One runs.csv row.</summary>
    public static string RunsRow(ExperimentDefinition definition, string commit, MembershipRunResult result)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(result);
        var c = result.Case;
        var d = result.DetectionSeconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"{definition.Name},{definition.Hash},{commit},{c.Combination},{c.Protocol},{c.Nodes},{c.Loss:0.####},{c.Seed},{result.Crashes},{result.Detected},{(d.Length > 0 ? d.Average() : double.NaN):0.###},{(d.Length > 0 ? d[d.Length / 2] : double.NaN):0.###},{(d.Length > 0 ? d[^1] : double.NaN):0.###},{result.FalsePositives},{result.FalsePositivesPerNodeHour(definition.Duration):0.######},{result.MessagesPerNodeSecond:0.###},{result.BytesPerNodeSecond:0.#},{result.Events}");
    }

    /// <summary>
    /// Writes runs.csv, detections.csv, summary.md and the figures (PNG and SVG), each only when it changes; runs that
    /// reproduce the runs.csv already there keep the commit it names (see <see cref="ResultFiles"/>).
    /// </summary>
    public static WrittenResults Write(ExperimentDefinition definition, IReadOnlyList<MembershipRunResult> results, string directory, string commit)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(results);
        var reproduced = ResultFiles.ReproducedCommits(directory, RunsHeader, [.. results.Select(r => RunsRow(definition, commit, r))])?.Distinct().Order(StringComparer.Ordinal).ToList();
        if (reproduced is [var first])
        {
            commit = first; // one study, one commit (a study is never made in pieces)
        }

        var files = new ResultFiles(directory);
        files.WriteLines("runs.csv", [RunsHeader, .. results.Select(r => RunsRow(definition, commit, r))]);
        files.WriteLines("detections.csv", ["combination,seed,detection_s", .. results.SelectMany(r => r.DetectionSeconds.Select(s => string.Create(CultureInfo.InvariantCulture, $"{r.Case.Combination},{r.Case.Seed},{s:0.###}")))]);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# {definition.Name}: results");
        text.AppendLine();
        if (definition.Question.Length > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"**Question.** {definition.Question.Trim()}");
            text.AppendLine();
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"A measured window of {definition.Duration.TotalMinutes:0.#} simulated minutes after 30 s of warm-up, {definition.Crashes} crashes per run, {ExperimentRunner.Count(results.Select(r => r.Case.Seed).Distinct().Count(), "seed")}; definition `{definition.Hash}`, commit `{commit}`. Mean over seeds ± the 95% confidence interval's half-width (Student's t).");
        text.AppendLine();
        text.AppendLine("| protocol | members | loss | detection mean (s) | detection max (s) | undetected | false positives / member-hour | msgs / member / s | bytes / member / s |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var group in results.GroupBy(r => r.Case with { Seed = 0 }))
        {
            var rs = group.ToList();
            string Ci(Func<MembershipRunResult, double> metric, string format)
            {
                var values = rs.Select(metric).Where(double.IsFinite).ToList();
                if (values.Count == 0)
                {
                    return "—";
                }

                var (mean, half) = ExperimentRunner.MeanCi(values);
                return ExperimentRunner.FormatCi(mean, half, format);
            }

            var key = group.Key;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {key.Protocol} | {key.Nodes} | {key.Loss:0.##%} | {Ci(r => r.DetectionSeconds.Length > 0 ? r.DetectionSeconds.Average() : double.NaN, "0.00")} | {Ci(r => r.DetectionSeconds.Length > 0 ? r.DetectionSeconds[^1] : double.NaN, "0.0")} | {rs.Sum(r => r.Crashes - r.Detected)} | {Ci(r => r.FalsePositivesPerNodeHour(definition.Duration), "0.0000")} | {Ci(r => r.MessagesPerNodeSecond, "0.00")} | {Ci(r => r.BytesPerNodeSecond, "0")} |");
        }

        text.AppendLine();
        text.AppendLine("Detection: from a crash to the first live member declaring the crashed member dead (SWIM: after its suspicion");
        text.AppendLine("timeout). False positive: a live member declared dead by a live member. Load counts every datagram sent.");
        text.AppendLine("Figures (PNG and SVG): detection-vs-members, bytes-vs-members, false-positives-vs-loss.");
        var summary = text.ToString();
        files.WriteText("summary.md", summary);
        Figures.DrawMembership(definition, results, files);
        return new WrittenResults(summary, files, reproduced is [_] ? reproduced : null);
    }
}
