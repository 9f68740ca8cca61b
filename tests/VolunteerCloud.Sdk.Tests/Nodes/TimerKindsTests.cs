using System.Reflection;
using System.Text.RegularExpressions;
using VolunteerCloud.Sdk.Tests.Build;

namespace VolunteerCloud.Sdk.Tests.Nodes;

/// <summary>Protocols sharing a node tell their timers apart by kind: every kind is named once in <see cref="TimerKinds"/> and no two are equal.</summary>
public sealed partial class TimerKindsTests
{
    private static IReadOnlyList<(string Name, int Value)> Kinds() =>
        [.. typeof(TimerKinds).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (f.Name, (int)f.GetRawConstantValue()!))];

    [Fact]
    public void No_two_timer_kinds_are_equal_and_all_lie_below_the_first_free_one()
    {
        var kinds = Kinds().Where(k => k.Name != nameof(TimerKinds.FirstFree)).ToList();

        Assert.True(kinds.Count >= 15, $"only {kinds.Count} kinds found");
        var clashes = kinds.GroupBy(k => k.Value).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(k => k.Name))}");
        Assert.Empty(clashes);
        Assert.All(kinds, k => Assert.InRange(k.Value, 100, TimerKinds.FirstFree - 1));
    }

    [Fact]
    public void The_sdk_sets_timers_only_with_named_kinds()
    {
        // A literal or a private constant would be a kind no test checks for collisions.
        var source = Path.Combine(BannedApiTests.RepositoryRoot(), "src", "VolunteerCloud.Sdk");
        var unnamed = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetFileName(f), Line: i + 1, Text: line)))
            .Where(l => TimerTagConstruction().Match(l.Text) is { Success: true } m && !m.Groups["kind"].Value.StartsWith("TimerKinds.", StringComparison.Ordinal))
            .Select(l => $"{l.File}:{l.Line}: {l.Text.Trim()}")
            .ToList();

        Assert.Empty(unnamed);
    }

    [GeneratedRegex(@"new TimerTag\((?<kind>[^,)]+)")]
    private static partial Regex TimerTagConstruction();
}
