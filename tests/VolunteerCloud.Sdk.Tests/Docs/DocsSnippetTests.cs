using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace VolunteerCloud.Sdk.Tests.Docs;

/// <summary>
/// Every C# block in the docs compiles as pasted into a new console or xunit project that has the packages the
/// document names (`dotnet new console` gives the implicit usings; nothing else is added). A block with top-level
/// statements is a Program.cs of its own; blocks that only declare types (a strategy, a test class) are compiled
/// with every other block of the same document, as a reader puts them in files next to each other. A block marked
/// <c>```csharp excerpt</c> shows a declaration of the Sdk itself and is compiled alone.
/// </summary>
public sealed partial class DocsSnippetTests
{
    private static readonly string Root = Build.BannedApiTests.RepositoryRoot();

    /// <summary>What `dotnet new console` (ImplicitUsings) brings into every file.</summary>
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        // The framework, and the assemblies of the packages the docs name (the test's own output holds them all).
        var framework = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var packages = Directory.GetFiles(AppContext.BaseDirectory, "*.dll")
            .Where(f => Path.GetFileName(f) is var n && (n.StartsWith("VolunteerCloud.", StringComparison.Ordinal) && !n.Contains(".Tests", StringComparison.Ordinal)
                || n.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) || n.StartsWith("xunit.", StringComparison.Ordinal) || n.StartsWith("FsCheck", StringComparison.Ordinal)
                || n is "MathNet.Numerics.dll" or "System.IO.Hashing.dll" or "FSharp.Core.dll"));
        return [.. framework.Concat(packages).DistinctBy(Path.GetFileName).Select(f => (MetadataReference)MetadataReference.CreateFromFile(f))];
    });

    /// <summary>The documents that hold C# blocks: README.md, docs/, every package's and experiment's README.</summary>
    public static TheoryData<string> Documents()
    {
        var data = new TheoryData<string>();
        foreach (var document in DocumentPaths())
        {
            data.Add(document);
        }

        return data;
    }

    private static List<string> DocumentPaths()
    {
        var files = new[] { Path.Combine(Root, "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories))
            .Concat(Directory.GetFiles(Path.Combine(Root, "src"), "README.md", SearchOption.AllDirectories))
            .Concat(Directory.GetFiles(Path.Combine(Root, "experiments"), "README.md", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        return [.. files.Where(f => Blocks(File.ReadAllText(f)).Count > 0).Order(StringComparer.Ordinal).Select(f => Path.GetRelativePath(Root, f))];
    }

    [Fact]
    public void The_docs_hold_csharp_blocks_to_check()
    {
        // Guards the finder: if the fence syntax changed, the theory below would silently check nothing.
        Assert.Contains(Path.Combine("docs", "placement.md"), DocumentPaths());
        Assert.True(DocumentPaths().Count >= 4);
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_csharp_block_compiles_as_pasted_with_the_packages_the_document_names(string document)
    {
        var text = File.ReadAllText(Path.Combine(Root, document));
        var blocks = Blocks(text);
        var trees = blocks.Select(b => CSharpSyntaxTree.ParseText(b.Code, new CSharpParseOptions(LanguageVersion.Latest), path: $"{document}:{b.Line}")).ToList();
        bool IsProgram(SyntaxTree t) => t.GetCompilationUnitRoot().Members.OfType<GlobalStatementSyntax>().Any();
        var declarations = trees.Where((t, i) => !blocks[i].Excerpt && !IsProgram(t)).ToList();
        var problems = new List<string>();
        for (var i = 0; i < blocks.Count; i++)
        {
            var own = trees[i];
            var together = blocks[i].Excerpt ? [own] : IsProgram(own) ? [own, .. declarations] : declarations;
            var compilation = CSharpCompilation.Create(
                "Snippet",
                [CSharpSyntaxTree.ParseText(ImplicitUsings, new CSharpParseOptions(LanguageVersion.Latest)), .. together],
                References.Value,
                new CSharpCompilationOptions(IsProgram(own) ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
            problems.AddRange(compilation.GetDiagnostics()
                .Where(d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree == own)
                .Select(d => $"{document}, the block at line {blocks[i].Line}: {d}"));

            foreach (var package in PackagesUsed(blocks[i].Code).Where(p => !text.Contains(p, StringComparison.Ordinal)))
            {
                problems.Add($"{document}, the block at line {blocks[i].Line}: needs the package {package}, which the document does not name");
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void A_block_that_does_not_compile_is_reported_with_its_line()
    {
        // The check itself can fail: an unknown type in a block is an error at the block's line.
        var blocks = Blocks("intro\n\n```csharp\nvar x = new NoSuchType();\n```\n");
        Assert.Equal(4, blocks.Single().Line);
        var tree = CSharpSyntaxTree.ParseText(blocks[0].Code);
        var compilation = CSharpCompilation.Create("Snippet", [tree], References.Value, new CSharpCompilationOptions(OutputKind.ConsoleApplication));
        Assert.Contains(compilation.GetDiagnostics(), d => d.Id == "CS0246");
    }

    /// <summary>The packages a block needs beyond the framework, from its usings and calls.</summary>
    private static IEnumerable<string> PackagesUsed(string code)
    {
        var testing = code.Contains("using VolunteerCloud.Testing", StringComparison.Ordinal);
        var simulator = code.Contains("using VolunteerCloud.Simulator", StringComparison.Ordinal);
        if (testing)
        {
            yield return "VolunteerCloud.Testing"; // brings the Sdk and the simulator
        }
        else if (simulator)
        {
            yield return "VolunteerCloud.Simulator"; // brings the Sdk
        }
        else if (code.Contains("using VolunteerCloud", StringComparison.Ordinal) || code.Contains("AddVolunteerCloud", StringComparison.Ordinal))
        {
            yield return "VolunteerCloud.Sdk";
        }

        if (code.Contains("BuildServiceProvider", StringComparison.Ordinal))
        {
            yield return "Microsoft.Extensions.DependencyInjection";
        }
    }

    private static List<(int Line, string Code, bool Excerpt)> Blocks(string markdown)
    {
        var blocks = new List<(int, string, bool)>();
        foreach (Match m in Fence().Matches(markdown))
        {
            var line = markdown[..m.Index].Count(c => c == '\n') + 2; // the block's first code line
            blocks.Add((line, m.Groups["code"].Value, m.Groups["info"].Value.Contains("excerpt", StringComparison.Ordinal)));
        }

        return blocks;
    }

    [GeneratedRegex(@"^```(?:csharp|cs|c#)(?<info>[^\n]*)\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline, 1000)]
    private static partial Regex Fence();

}
