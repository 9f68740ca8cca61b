using VolunteerCloud.Fuzz;

namespace VolunteerCloud.Simulator.Tests.Fuzz;

/// <summary>
/// The fuzz targets' corpus and every finding kept as a regression (tests/fuzz) run through the same targets the
/// fuzzer drives: only each parser's documented error may come out.
/// </summary>
public sealed class FuzzCorpusTests
{
    private static readonly string FuzzRoot = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "fuzz"));

    public static TheoryData<string, string> Inputs() => Files("corpus", "regressions");

    public static TheoryData<string, string> Seeds() => Files("corpus");

    private static TheoryData<string, string> Files(params string[] folders)
    {
        var data = new TheoryData<string, string>();
        foreach (var target in FuzzTargets.All.Keys)
        {
            foreach (var folder in folders)
            {
                var directory = Path.Combine(FuzzRoot, folder, target);
                if (Directory.Exists(directory))
                {
                    foreach (var file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
                    {
                        data.Add(target, Path.GetRelativePath(FuzzRoot, file));
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Every_corpus_and_regression_input_fails_only_with_its_parsers_error(string target, string file) =>
        FuzzTargets.All[target](File.ReadAllBytes(Path.Combine(FuzzRoot, file)));

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Every_corpus_seed_is_a_valid_input(string target, string file)
    {
        // The targets swallow their parser's error, so a seed the parser wrongly refused would pass above: the seeds
        // are valid inputs (the fuzzer mutates from them) and must parse.
        var bytes = File.ReadAllBytes(Path.Combine(FuzzRoot, file));
        var text = System.Text.Encoding.UTF8.GetString(bytes);
        switch (target)
        {
            case "compose":
                Assert.NotEmpty(VolunteerCloud.Compose.ComposeFile.Parse(new StringReader(text), file));
                break;
            case "experiment":
                Assert.False(string.IsNullOrEmpty(VolunteerCloud.Simulator.Experiments.Runner.ExperimentDefinition.Parse(text, file, "hash").Name));
                break;
            case "fta":
                Assert.NotEmpty(VolunteerCloud.Simulator.Traces.FtaTraceFormat.Read(new StringReader(text), file).Hosts);
                break;
            case "wire":
                FuzzTargets.ReadValidDatagram(bytes); // the envelope and the body as its type
                break;
            case "kept":
                var kept = VolunteerCloud.ControlPlane.DesiredStateSnapshot.Decode(bytes);
                foreach (var entry in kept.Where(e => e.Key != "cluster/id"))
                {
                    Assert.True(entry.Deleted || VolunteerCloud.ControlPlane.AppSpecCodec.Decode(entry.Value.Span).Name.Length > 0, $"{file}: {entry.Key}");
                }

                Assert.True(VolunteerCloud.ControlPlane.ControlPlaneNode.ClusterIdOf(kept) is null or { Length: 32 }, $"{file}: a cluster id is 16 bytes");

                break;
            default:
                Assert.Fail($"no validity check for target {target}");
                break;
        }
    }

    [Fact]
    public void Every_wire_message_type_has_a_corpus_seed()
    {
        var seeded = Directory.EnumerateFiles(Path.Combine(FuzzRoot, "corpus", "wire")).Select(f => ushort.Parse(Path.GetFileName(f)[4..7], System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        Assert.Equal(FuzzTargets.MessageTypes, FuzzTargets.MessageTypes.Where(seeded.Contains));
    }

    [Fact]
    public void Every_target_has_a_corpus()
    {
        Assert.All(FuzzTargets.All.Keys, target => Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(FuzzRoot, "corpus", target))));
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(FuzzRoot, "regressions", "compose")));
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(FuzzRoot, "regressions", "experiment")));
    }

    [Fact]
    public void Mapping_keys_that_are_lists_or_mappings_are_definition_errors_not_crashes()
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(FuzzRoot, "regressions", "experiment")))
        {
            var error = Assert.Throws<VolunteerCloud.Simulator.Experiments.Runner.ExperimentDefinitionException>(() =>
                VolunteerCloud.Simulator.Experiments.Runner.ExperimentDefinition.Parse(File.ReadAllText(file), "fuzzed.yaml", "hash"));
            Assert.StartsWith("fuzzed.yaml", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_YamlDotNet_failures_the_fuzzer_found_are_Compose_errors_naming_the_file()
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(FuzzRoot, "regressions", "compose")))
        {
            var error = Assert.Throws<VolunteerCloud.Compose.ComposeException>(() => VolunteerCloud.Compose.ComposeFile.Parse(new StringReader(File.ReadAllText(file)), "fuzzed.yaml"));
            Assert.StartsWith("fuzzed.yaml", error.Message, StringComparison.Ordinal);
        }
    }
}
