using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using VolunteerCloud.Simulator.ControlPlane;

namespace VolunteerCloud.Simulator.Experiments.Runner;

/// <summary>
/// <c>checkpoint.jsonl</c> in an experiment's results directory: one JSON line per finished run, appended as each run
/// finishes, holding everything the results are written from (the measures, the availability series, every restore).
/// A full <c>vcsim run</c> always writes it, so an interrupted grid loses only the runs in flight;
/// <c>vcsim run --resume</c> reads it back and runs only the rest. A grid of a day's CPU time can so be run in
/// pieces, and the pieces committed as they come.
/// </summary>
/// <remarks>
/// Each line names the definition's hash: lines from another version of the definition are refused, not mixed in.
/// A line cut short (the process killed while writing it) is the last one and is skipped; its run is made again.
/// </remarks>
public sealed class RunCheckpoint : IDisposable
{
    /// <summary>The checkpoint's file name in the results directory.</summary>
    public const string FileName = "checkpoint.jsonl";

    // NaN stands for "not measured" (no mass failure, no messages in the modelled tier): written as "NaN". A result's
    // scenario is the definition's to rebuild (Load), never written.
    private static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // "power-of-2+reactive", not "power-of-2\u002Breactive"
        TypeInfoResolver = new DefaultJsonTypeInfoResolver
        {
            Modifiers =
            {
                type =>
                {
                    foreach (var property in type.Properties.Where(p => p.PropertyType == typeof(ControlPlaneScenario)))
                    {
                        property.ShouldSerialize = (_, _) => false;
                    }
                },
            },
        },
    };

    private readonly StreamWriter _writer;
    private readonly Lock _gate = new();

    private RunCheckpoint(StreamWriter writer) => _writer = writer;

    /// <summary>The runs recorded in <paramref name="directory"/>'s checkpoint (none when there is none), in file order, each with its commit.</summary>
    /// <exception cref="ExperimentDefinitionException">A line is from another definition, names an unknown combination, or is malformed before the last line.</exception>
    public static IReadOnlyList<RunRecord> Load(ExperimentDefinition definition, string directory)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return [];
        }

        var runs = new List<RunRecord>();
        foreach (var (number, _, line) in Lines(path, definition.Hash, $"this one ({definition.Hash}); move the checkpoint away to start afresh, or, if only the file's comments or layout changed, carry it over with --restamp <the earlier file>", lastMayBeCut: true))
        {
            var combination = definition.Combinations.FirstOrDefault(c => c.Name == line.Combination)
                ?? throw new ExperimentDefinitionException($"{path}:{number}: no combination '{line.Combination}' in {definition.Path}.");
            runs.Add(new RunRecord(combination, line.Seed, line.Result with { Scenario = definition.Scenario(combination, line.Seed) }) { Commit = line.Commit });
        }

        return runs;
    }

    /// <summary>
    /// Carries <paramref name="directory"/>'s checkpoint over to <paramref name="definition"/> from the
    /// <paramref name="earlier"/> version of its file, when the two differ only in comments and layout (the same
    /// <see cref="ExperimentDefinition.Content"/>): every line is stamped with the new hash and nothing else in it
    /// changes. The whole file is refused, and left as it is, when the contents differ, when a line is from yet
    /// another definition, or when a line would not be written back byte for byte.
    /// </summary>
    /// <returns>How many lines were stamped.</returns>
    /// <exception cref="ExperimentDefinitionException">The checkpoint cannot be carried over; the message says why.</exception>
    public static int Restamp(ExperimentDefinition earlier, ExperimentDefinition definition, string directory)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        ArgumentNullException.ThrowIfNull(definition);
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new ExperimentDefinitionException($"{path}: no checkpoint to carry over.");
        }

        if (earlier.Content != definition.Content)
        {
            throw new ExperimentDefinitionException($"{earlier.Path} and {definition.Path} define different experiments (they differ in more than comments and layout): the runs cannot be carried over; run them again.");
        }

        var stamped = new List<string>();
        foreach (var (number, text, line) in Lines(path, earlier.Hash, $"{earlier.Path} ({earlier.Hash})", lastMayBeCut: false))
        {
            if (line.ToJson() != text)
            {
                throw new ExperimentDefinitionException($"{path}:{number}: the line would not be written back unchanged; not carried over.");
            }

            stamped.Add((line with { Hash = definition.Hash }).ToJson());
        }

        var fresh = path + ".new";
        File.WriteAllLines(fresh, stamped);
        File.Move(fresh, path, overwrite: true);
        return stamped.Count;
    }

    /// <summary>
    /// The checkpoint's lines (1-based numbers), each checked to be of the definition with <paramref name="hash"/>
    /// (<paramref name="expected"/> names it in the error). A malformed last line is skipped when
    /// <paramref name="lastMayBeCut"/> (a kill while writing it), else refused like any other.
    /// </summary>
    private static IEnumerable<(int Number, string Text, Line Line)> Lines(string path, string hash, string expected, bool lastMayBeCut)
    {
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }

            Line? line;
            try
            {
                line = Line.Parse(lines[i]);
            }
            catch (JsonException) when (lastMayBeCut && i == lines.Length - 1)
            {
                yield break; // cut short by a kill: the run is made again
            }
            catch (JsonException e)
            {
                throw new ExperimentDefinitionException($"{path}:{i + 1}: not a checkpoint line ({e.Message}).");
            }

            if (line is null || line.Hash != hash)
            {
                throw new ExperimentDefinitionException($"{path}:{i + 1}: the run is from definition {line?.Hash ?? "?"}, not {expected}.");
            }

            yield return (i + 1, lines[i], line);
        }
    }

    /// <summary>
    /// Starts <paramref name="directory"/>'s checkpoint afresh with the <paramref name="kept"/> runs (those read back with
    /// <see cref="Load"/>, or none), then takes new ones. The kept lines go to a new file that replaces the old one in
    /// one rename, so a kill at any moment leaves a checkpoint holding at least the kept runs; a line the old file
    /// held cut short is dropped.
    /// </summary>
    public static RunCheckpoint Open(ExperimentDefinition definition, string directory, IReadOnlyList<RunRecord> kept, string commit)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(kept);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        var fresh = path + ".new";
        using (var writer = new StreamWriter(fresh, append: false))
        {
            foreach (var run in kept)
            {
                writer.WriteLine(Line.From(definition, run, run.Commit ?? commit).ToJson());
            }
        }

        File.Move(fresh, path, overwrite: true);
        return new RunCheckpoint(new StreamWriter(path, append: true));
    }

    /// <summary>Records one finished run (safe to call from parallel runs); the line is on disk when this returns.</summary>
    public void Append(ExperimentDefinition definition, RunRecord run, string commit)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(run);
        var text = Line.From(definition, run, run.Commit ?? commit).ToJson();
        lock (_gate)
        {
            _writer.WriteLine(text);
            _writer.Flush();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();

    /// <summary>
    /// One line: which run it is (experiment, definition hash, commit, combination, seed), then every measure of its
    /// <see cref="ControlPlaneResult"/> but the scenario, in the result's own order and names, on one level. A measure
    /// added to the result is written and read back with no change here; one missing from an older line reads as its
    /// default, so checkpoints of grids already part-way stay readable (measures are only ever added).
    /// </summary>
    private sealed record Line(string Experiment, string Hash, string Commit, string Combination, ulong Seed, ControlPlaneResult Result)
    {
        public static Line From(ExperimentDefinition d, RunRecord run, string commit) => new(d.Name, d.Hash, commit, run.Combination.Name, run.Seed, run.Result);

        /// <exception cref="JsonException">Not a line.</exception>
        public static Line Parse(string text)
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            string Text(string name) => root.GetProperty(name).GetString() ?? throw new JsonException($"'{name}' is null.");
            try
            {
                return new Line(Text(nameof(Experiment)), Text(nameof(Hash)), Text(nameof(Commit)), Text(nameof(Combination)), root.GetProperty(nameof(Seed)).GetUInt64(),
                    root.Deserialize<ControlPlaneResult>(Json) ?? throw new JsonException("no result"));
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new JsonException(e.Message, e);
            }
        }

        public string ToJson()
        {
            var line = new JsonObject
            {
                [nameof(Experiment)] = Experiment,
                [nameof(Hash)] = Hash,
                [nameof(Commit)] = Commit,
                [nameof(Combination)] = Combination,
                [nameof(Seed)] = Seed,
            };
            foreach (var (name, value) in JsonSerializer.SerializeToNode(Result, Json)!.AsObject().ToList())
            {
                line[name] = value?.DeepClone();
            }

            return line.ToJsonString(Json);
        }
    }
}
