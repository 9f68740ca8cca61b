using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using VolunteerCloud.Compose.Yaml;
using VolunteerCloud.Simulator.Churn;
using VolunteerCloud.Simulator.ControlPlane;
using VolunteerCloud.Strategies;
using YamlDotNet.RepresentationModel;

namespace VolunteerCloud.Simulator.Experiments.Runner;

/// <summary>A definition file that cannot be used: where (file:line:column), which key, and why.</summary>
public sealed class ExperimentDefinitionException(string message) : Exception(message)
{
    /// <summary>Creates the exception with a general message.</summary>
    public ExperimentDefinitionException()
        : this("The experiment definition is invalid.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ExperimentDefinitionException(string message, Exception innerException)
        : this(message) => _ = innerException;
}

/// <summary>One combination of strategies an experiment compares.</summary>
/// <param name="Placement">Placement strategy (a <see cref="StrategyCatalog.Placements"/> name).</param>
/// <param name="Handler">Churn handler (a <see cref="StrategyCatalog.ChurnHandlers"/> name).</param>
/// <param name="Control">"leaderless" (stewards) or "controller" (the Deis-like single controller).</param>
public sealed record Combination(string Placement, string Handler, string Control)
{
    /// <summary>The name used in results and with <c>--only</c>: <c>placement+handler</c>, with <c>+controller</c> for the baseline.</summary>
    public string Name => Control == "leaderless" ? $"{Placement}+{Handler}" : $"{Placement}+{Handler}+{Control}";
}

/// <summary>
/// An experiment: <c>experiments/&lt;name&gt;/experiment.yaml</c>. Population (size, churn preset), network model,
/// the strategies to compare (every combination of the lists), workload, faults, duration and seeds. Every key is
/// checked; an unknown key or a bad value is an error naming the file, line, column and key.
/// </summary>
public sealed record ExperimentDefinition
{
    private static readonly string[] Controls = ["leaderless", "controller"];
    private static readonly string[] FileNames = ["experiment.yaml", "experiment.yml", "experiment.json"];

    /// <summary>kind: "apps" (the default: apps under churn on the control plane) or "membership" (membership protocols compared).</summary>
    public string Kind { get; init; } = "apps";

    /// <summary>population.volunteers given as a list: the cluster sizes of a membership experiment.</summary>
    public IReadOnlyList<int> Sizes { get; init; } = [];

    /// <summary>network.loss: datagram loss rates (membership experiments).</summary>
    public IReadOnlyList<double> Losses { get; init; } = [0];

    /// <summary>strategies.membership: the protocols a membership experiment compares.</summary>
    public IReadOnlyList<string> MembershipProtocols { get; init; } = [StrategyNames.Swim];

    /// <summary>crashes: members crashed per membership run (default 10).</summary>
    public int Crashes { get; init; } = 10;

    /// <summary>The runs of a membership experiment: every protocol × size × loss × seed.</summary>
    public IReadOnlyList<MembershipCase> MembershipCases =>
        [.. from p in MembershipProtocols from n in (Sizes.Count > 0 ? Sizes : [Volunteers]) from l in Losses from s in Seeds select new MembershipCase(p, n, l, s)];

    /// <summary>The experiment's name (letters, digits, '-', '_', '.').</summary>
    public required string Name { get; init; }

    /// <summary>The question it answers, repeated in summary.md.</summary>
    public string Question { get; init; } = "";

    /// <summary>The definition file.</summary>
    public required string Path { get; init; }

    /// <summary>SHA-256 of the definition file's bytes (first 16 hex digits), recorded with every result.</summary>
    public required string Hash { get; init; }

    /// <summary>
    /// The definition's content without its comments and layout: every key and value in document order. Two files
    /// with the same content define the same experiment even where their <see cref="Hash"/> differs (a comment
    /// edited), which is what lets <see cref="RunCheckpoint.Restamp"/> carry a checkpoint over.
    /// </summary>
    public string Content { get; init; } = "";

    /// <summary>population.volunteers: hosts (default 2 000).</summary>
    public int Volunteers { get; init; } = 2_000;

    /// <summary>population.churn: a churn preset (default seti).</summary>
    public string Churn { get; init; } = "seti";

    /// <summary>Share of departures announced ahead (owner-reclaim notices, 30 s–2 min).</summary>
    public double ReclaimNotices { get; init; } = 0.5;

    /// <summary>network.detection_delay: how long after a departure every view shows it (modelled membership; default 15 s).</summary>
    public TimeSpan DetectionDelay { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>strategies.placement (default power-of-2).</summary>
    public IReadOnlyList<string> Placements { get; init; } = [StrategyNames.PowerOfTwo];

    /// <summary>strategies.churn_handler (default reactive).</summary>
    public IReadOnlyList<string> Handlers { get; init; } = [StrategyNames.Reactive];

    /// <summary>strategies.control: leaderless and/or controller (default leaderless).</summary>
    public IReadOnlyList<string> Control { get; init; } = ["leaderless"];

    /// <summary>workload.apps (default 200).</summary>
    public int Apps { get; init; } = 200;

    /// <summary>workload.replicas per app (default 3).</summary>
    public int Replicas { get; init; } = 3;

    /// <summary>workload.cpus per replica (default 0.5).</summary>
    public double Cpus { get; init; } = 0.5;

    /// <summary>workload.memory per replica (default 256m).</summary>
    public long MemoryBytes { get; init; } = 256L << 20;

    /// <summary>workload.availability_target per app, or none.</summary>
    public double? AvailabilityTarget { get; init; }

    /// <summary>faults.crash_controller_at: the entry node (the baseline's controller) crashes for good then.</summary>
    public TimeSpan? CrashControllerAt { get; init; }

    /// <summary>faults.mass_failure.share of the live hosts crash at <see cref="MassFailureAt"/> (back 5 min later).</summary>
    public double MassFailureShare { get; init; }

    /// <summary>faults.mass_failure.at (default 12 h).</summary>
    public TimeSpan MassFailureAt { get; init; } = TimeSpan.FromHours(12);

    /// <summary>duration: simulated time per run (default 1 day).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromDays(1);

    /// <summary>sample_interval: how often availability and the invariants are sampled (default 1 min).</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>fidelity: protocol (default; every node runs the real control plane) or modelled (<see cref="ControlPlaneFidelity.Modelled"/>).</summary>
    public ControlPlaneFidelity Fidelity { get; init; } = ControlPlaneFidelity.Protocol;

    /// <summary>seeds: a count n (seeds 1..n) or a list (default 1).</summary>
    public IReadOnlyList<ulong> Seeds { get; init; } = [1];

    /// <summary>Every combination of the strategy lists, in definition order.</summary>
    public IReadOnlyList<Combination> Combinations =>
        [.. from p in Placements from h in Handlers from c in Control select new Combination(p, h, c)];

    /// <summary>The scenario of one run.</summary>
    public ControlPlaneScenario Scenario(Combination combination, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(combination);
        var preset = ChurnPresets.All[Churn];
        return new ControlPlaneScenario
        {
            Hosts = Volunteers,
            Churn = new AvailabilityModel(preset.Name, preset.Up, preset.Down) { Reclaim = ReclaimNotices > 0 ? new ReclaimNotices(ReclaimNotices, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)) : Simulator.Churn.ReclaimNotices.None },
            Apps = Apps,
            Replicas = Replicas,
            AvailabilityTarget = AvailabilityTarget,
            Limits = new VolunteerCloud.Containers.ResourceAmount(Cpus, MemoryBytes),
            Placement = StrategyCatalog.Placements[combination.Placement],
            ChurnHandler = StrategyCatalog.ChurnHandlers[combination.Handler],
            PinnedController = combination.Control == "controller",
            CrashControllerAt = CrashControllerAt,
            MassFailureShare = MassFailureShare,
            MassFailureAt = MassFailureAt,
            Duration = Duration,
            SampleInterval = SampleInterval,
            DetectionDelay = DetectionDelay,
            Fidelity = Fidelity,
            Seed = seed,
        };
    }

    /// <summary>Loads <c>experiment.yaml</c> (or <c>.yml</c>, <c>.json</c>) from a folder, or a definition file itself.</summary>
    /// <exception cref="ExperimentDefinitionException">It is missing or invalid.</exception>
    public static ExperimentDefinition Load(string path)
    {
        var file = Directory.Exists(path)
            ? FileNames.Select(f => System.IO.Path.Combine(path, f)).FirstOrDefault(File.Exists)
              ?? throw new ExperimentDefinitionException($"{path}: no experiment.yaml here (an experiment is a folder with experiment.yaml; see experiments/quickstart).")
            : File.Exists(path) ? path : throw new ExperimentDefinitionException($"{path}: no such experiment folder or file.");
        var bytes = File.ReadAllBytes(file);
        return Parse(Encoding.UTF8.GetString(bytes), file, Convert.ToHexString(SHA256.HashData(bytes))[..16].ToLowerInvariant());
    }

    /// <summary>Parses a definition's text.</summary>
    public static ExperimentDefinition Parse(string text, string source, string hash)
    {
        var document = YamlFormatReader.LoadDocument(new StringReader(text), (line, column, problem) => new ExperimentDefinitionException(line > 0 ? $"{source}:{line}:{column}: {problem}" : $"{source}: {problem}"));
        if (document is not YamlMappingNode root)
        {
            throw new ExperimentDefinitionException($"{source}: the definition must be one YAML mapping (name:, population:, strategies:, …).");
        }

        return new Reader(source).Definition(root, source, hash) with { Content = ContentOf(root) };
    }

    /// <summary>A node's keys and values, length-prefixed so no two different trees give the same text; styles, tags and comments left out.</summary>
    private static string ContentOf(YamlNode node) => node switch
    {
        YamlScalarNode scalar => $"{scalar.Value?.Length ?? -1}:{scalar.Value}",
        YamlSequenceNode sequence => $"[{string.Join(",", sequence.Children.Select(ContentOf))}]",
        YamlMappingNode mapping => $"{{{string.Join(",", mapping.Children.Select(e => ContentOf(e.Key) + "=" + ContentOf(e.Value)))}}}",
        _ => "?",
    };

    private sealed class Reader(string source) : YamlFormatReader(source)
    {
        private readonly List<(string Key, YamlNode Value)> _given = [];

        public ExperimentDefinition Definition(YamlMappingNode root, string path, string hash)
        {
            var d = new ExperimentDefinition { Name = "", Path = path, Hash = hash };
            foreach (var (_, key, value) in Entries(root, ""))
            {
                _given.Add((key, value));
                d = key switch
                {
                    "name" => d with { Name = Name(value, key) },
                    "kind" => d with { Kind = Scalar(value, key) is "apps" or "membership" ? Scalar(value, key) : throw Error(value, key, "must be apps or membership") },
                    "crashes" => d with { Crashes = Integer(value, key, 1, 100_000) },
                    "question" => d with { Question = Scalar(value, key) },
                    "population" => Population(d, value),
                    "network" => Network(d, value),
                    "strategies" => Strategies(d, value),
                    "workload" => Workload(d, value),
                    "faults" => Faults(d, value),
                    "duration" => d with { Duration = Duration(value, key, positive: true) },
                    "sample_interval" => d with { SampleInterval = Duration(value, key, positive: true) },
                    "seeds" => d with { Seeds = Seeds(value, key) },
                    "fidelity" => d with { Fidelity = Scalar(value, key) switch { "protocol" => ControlPlaneFidelity.Protocol, "modelled" => ControlPlaneFidelity.Modelled, _ => throw Error(value, key, "must be protocol (every node runs the real control plane; messages counted) or modelled (the replicated state is a delayed copy of the truth; for 100 000 volunteers)") } },
                    _ => throw Error(value, key, "unknown key; the keys are name, kind, question, population, network, strategies, workload, faults, crashes, duration, sample_interval, seeds, fidelity"),
                };
            }

            if (d.Name.Length == 0)
            {
                throw new ExperimentDefinitionException($"{Source}: 'name' is missing.");
            }

            // Keys of the other kind would be silently ignored: refuse them.
            string[] appsOnly = ["workload", "faults", "sample_interval", "fidelity"];
            string[] membershipOnly = ["crashes"];
            foreach (var (key, value) in _given)
            {
                if (d.Kind == "membership" && appsOnly.Contains(key) || d.Kind == "apps" && membershipOnly.Contains(key))
                {
                    throw Error(value, key, $"does not apply to a {d.Kind} experiment");
                }
            }

            if (d.Kind == "apps" && (d.Sizes.Count > 0 || d.Losses is not [0] || d.MembershipProtocols is not [StrategyNames.Swim]))
            {
                throw new ExperimentDefinitionException($"{Source}: population.volunteers as a list, network.loss and strategies.membership are for kind: membership.");
            }

            if (d.Kind == "membership" && (d.Placements is not [StrategyNames.PowerOfTwo] || d.Handlers is not [StrategyNames.Reactive] || d.Control is not ["leaderless"]))
            {
                throw new ExperimentDefinitionException($"{Source}: strategies.placement, churn_handler and control are for kind: apps.");
            }

            if (d.SampleInterval >= d.Duration)
            {
                throw new ExperimentDefinitionException($"{Source}: sample_interval ({d.SampleInterval}) must be shorter than duration ({d.Duration}).");
            }

            return d;
        }

        private ExperimentDefinition Population(ExperimentDefinition d, YamlNode node)
        {
            foreach (var (_, key, value) in Entries(node, "population"))
            {
                d = key switch
                {
                    "population.volunteers" when value is YamlSequenceNode sizes => d with { Sizes = [.. sizes.Children.Select(c => Integer(c, key, 2, 1_000_000))] },
                    "population.volunteers" => d with { Volunteers = Integer(value, key, 2, 1_000_000) },
                    "population.churn" => d with { Churn = ChurnPresets.All.ContainsKey(Scalar(value, key)) ? Scalar(value, key).ToLowerInvariant() : throw Error(value, key, $"no churn preset '{Scalar(value, key)}'; presets: {string.Join(", ", ChurnPresets.All.Keys)}") },
                    "population.reclaim_notices" => d with { ReclaimNotices = Number(value, key, 0, 1) },
                    _ => throw Error(value, key, "unknown key; population takes volunteers, churn, reclaim_notices"),
                };
            }

            return d;
        }

        private ExperimentDefinition Network(ExperimentDefinition d, YamlNode node)
        {
            foreach (var (_, key, value) in Entries(node, "network"))
            {
                d = key switch
                {
                    "network.detection_delay" => d with { DetectionDelay = Duration(value, key, positive: false) },
                    "network.loss" => d with { Losses = value is YamlSequenceNode losses ? [.. losses.Children.Select(c => Number(c, key, 0, 0.99))] : [Number(value, key, 0, 0.99)] },
                    _ => throw Error(value, key, "unknown key; network takes detection_delay (apps: membership is modelled, departures are seen this long after they happen) and loss (membership: datagram loss rates)"),
                };
            }

            return d;
        }

        private ExperimentDefinition Strategies(ExperimentDefinition d, YamlNode node)
        {
            foreach (var (_, key, value) in Entries(node, "strategies"))
            {
                d = key switch
                {
                    "strategies.placement" => d with { Placements = Names(value, key, StrategyCatalog.Placements.Keys) },
                    "strategies.churn_handler" => d with { Handlers = Names(value, key, StrategyCatalog.ChurnHandlers.Keys) },
                    "strategies.control" => d with { Control = Names(value, key, Controls) },
                    "strategies.membership" => d with { MembershipProtocols = Names(value, key, MembershipStudy.Protocols) },
                    _ => throw Error(value, key, "unknown key; strategies takes placement, churn_handler, control (apps) or membership (membership); each a name or a list: every combination is run"),
                };
            }

            return d;
        }

        private ExperimentDefinition Workload(ExperimentDefinition d, YamlNode node)
        {
            foreach (var (_, key, value) in Entries(node, "workload"))
            {
                d = key switch
                {
                    "workload.apps" => d with { Apps = Integer(value, key, 1, 1_000_000) },
                    "workload.replicas" => d with { Replicas = Integer(value, key, 1, 1_000) },
                    "workload.cpus" => d with { Cpus = Number(value, key, 0.001, 1_024) },
                    "workload.memory" => d with { MemoryBytes = Bytes(value, key) },
                    "workload.availability_target" => d with { AvailabilityTarget = Number(value, key, 0, 1, exclusive: true) },
                    _ => throw Error(value, key, "unknown key; workload takes apps, replicas, cpus, memory, availability_target"),
                };
            }

            return d;
        }

        private ExperimentDefinition Faults(ExperimentDefinition d, YamlNode node)
        {
            foreach (var (_, key, value) in Entries(node, "faults"))
            {
                switch (key)
                {
                    case "faults.crash_controller_at":
                        d = d with { CrashControllerAt = Duration(value, key, positive: true) };
                        break;
                    case "faults.mass_failure":
                        foreach (var (_, inner, v) in Entries(value, key))
                        {
                            d = inner switch
                            {
                                "faults.mass_failure.share" => d with { MassFailureShare = Number(v, inner, 0, 1) },
                                "faults.mass_failure.at" => d with { MassFailureAt = Duration(v, inner, positive: true) },
                                _ => throw Error(v, inner, "unknown key; mass_failure takes share, at"),
                            };
                        }

                        break;
                    default:
                        throw Error(value, key, "unknown key; faults takes crash_controller_at, mass_failure");
                }
            }

            return d;
        }

        private string Name(YamlNode node, string key)
        {
            var value = Scalar(node, key);
            return value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
                ? value
                : throw Error(node, key, "must be letters, digits, '-', '_' or '.'");
        }

        private long Bytes(YamlNode node, string key) => Bytes(node, key, minimum: 1 << 20);

        private TimeSpan Duration(YamlNode node, string key, bool positive) => Duration(node, key, allowDays: true, positive);

        private IReadOnlyList<string> Names(YamlNode node, string key, IEnumerable<string> allowed)
        {
            var known = allowed.ToList();
            var names = node is YamlSequenceNode list ? list.Children.Select(c => (Scalar(c, key), c)).ToList() : [(Scalar(node, key), node)];
            foreach (var (name, at) in names)
            {
                if (!known.Contains(name))
                {
                    throw Error(at, key, $"'{name}' is not one of {string.Join(", ", known)}");
                }
            }

            return names.Count > 0 && names.Select(n => n.Item1).Distinct().Count() == names.Count
                ? [.. names.Select(n => n.Item1)]
                : throw Error(node, key, "must name at least one, each once");
        }

        private List<ulong> Seeds(YamlNode node, string key)
        {
            if (node is YamlScalarNode)
            {
                var count = Integer(node, key, 1, 10_000);
                return [.. Enumerable.Range(1, count).Select(s => (ulong)s)];
            }

            if (node is YamlSequenceNode list && list.Children.Count > 0)
            {
                var seeds = list.Children.Select(c => ulong.TryParse(Scalar(c, key), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : throw Error(c, key, "seeds are whole numbers")).ToList();
                return seeds.Distinct().Count() == seeds.Count ? seeds : throw Error(node, key, "a seed is listed twice");
            }

            throw Error(node, key, "must be a count (5: seeds 1..5) or a list of seeds");
        }

        protected override Exception Error(int line, int column, string path, string problem) =>
            new ExperimentDefinitionException(line > 0 ? $"{Source}:{line}:{column}: {path}: {problem}." : $"{Source}: {path}: {problem}.");
    }
}
