using System.Text;

namespace VolunteerCloud.Compose.Tests;

/// <summary>
/// Every format read through the YAML layer (Compose files here, experiment definitions too) has limits on size, depth
/// and alias expansion: a hostile file gets a clear error, never a crash, a stack overflow or minutes of work.
/// </summary>
public sealed class YamlLimitsTests
{
    private static ComposeException Refused(string yaml) => Assert.Throws<ComposeException>(() => ComposeFile.Parse(new StringReader(yaml), "evil.yaml"));

    [Fact]
    public void A_file_longer_than_a_mebibyte_is_refused()
    {
        var yaml = "services:\n  web:\n    image: a\n# " + new string('x', 1 << 20) + "\n";

        Assert.Contains("evil.yaml: (file): longer than 1024 KiB", Refused(yaml).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_deeper_than_64_levels_is_refused()
    {
        var yaml = "services:\n  web:\n    image: a\n    x-deep: " + new string('[', 200) + new string(']', 200) + "\n";

        Assert.Contains("nested deeper than 64 levels", Refused(yaml).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Aliases_that_expand_to_billions_of_values_are_refused_before_they_are_walked()
    {
        // The "billion laughs": nine levels of ten aliases each are 10^9 values once expanded.
        var yaml = new StringBuilder("x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var level = 1; level <= 9; level++)
        {
            yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"x-a{level}: &a{level} [{string.Join(", ", Enumerable.Repeat($"*a{level - 1}", 10))}]\n");
        }

        yaml.Append("services:\n  web:\n    image: a\n");
        Assert.Contains("more than 200000 values once aliases are expanded", Refused(yaml.ToString()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_within_the_limits_is_read()
    {
        var yaml = "x-base: &base { image: a }\nservices:\n  web: *base\n";

        Assert.Equal("a", Assert.Single(ComposeFile.Parse(new StringReader(yaml))).Image);
    }
}
