using VolunteerCloud.Apps;

namespace VolunteerCloud.Sdk.Tests.Apps;

public sealed class UnitsTests
{
    [Theory]
    [InlineData("1h30m", false, 5400)]
    [InlineData("10s", false, 10)]
    [InlineData("500ms", false, 0.5)]
    [InlineData("2us", false, 0.000002)]
    [InlineData("90", false, 90)]
    [InlineData("7d", true, 604800)]
    [InlineData("1d12h", true, 129600)]
    public void Durations_parse(string text, bool days, double seconds)
    {
        Assert.True(Units.TryParseDuration(text, days, out var duration));
        Assert.Equal(seconds, duration.TotalSeconds, 9);
    }

    [Theory]
    [InlineData("7d", false)]
    [InlineData("")]
    [InlineData("-5")]
    [InlineData("5x")]
    [InlineData("h")]
    [InlineData("99999999999999999999d", true)]
    public void Bad_durations_are_refused(string text, bool days = false) => Assert.False(Units.TryParseDuration(text, days, out _));

    [FsCheck.Xunit.Property(Replay = "(12345,67891)")]
    public bool A_duration_written_in_hours_minutes_and_seconds_parses_back(FsCheck.DoNotSize<ushort> hourBits, byte minutes, byte seconds)
    {
        var hours = hourBits.Item; // unsized: up to 65 535 h, not FsCheck's sized ≤ 100
        var text = $"{hours}h{minutes}m{seconds}s";
        return Units.TryParseDuration(text, false, out var duration) && duration == new TimeSpan(hours, minutes, seconds);
    }

    [Theory]
    [InlineData("512m", 512L << 20)]
    [InlineData("1G", 1L << 30)]
    [InlineData("64kb", 64L << 10)]
    [InlineData("1000", 1000L)]
    public void Sizes_parse(string text, long bytes)
    {
        Assert.True(Units.TryParseBytes(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("12q")]
    [InlineData("")]
    [InlineData("m")]
    public void Bad_sizes_are_refused(string text) => Assert.False(Units.TryParseBytes(text, out _));
}
