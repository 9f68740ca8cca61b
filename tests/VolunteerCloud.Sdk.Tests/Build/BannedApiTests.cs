using System.Diagnostics;
using System.Text.RegularExpressions;

namespace VolunteerCloud.Sdk.Tests.Build;

/// <summary>
/// The Sdk and the Simulator must stay deterministic: a build of code that reads the wall clock, sleeps, or
/// uses unseeded randomness fails. tests/BannedApiProbe uses every banned API under the same analyzer
/// configuration; its build must fail with exactly one RS0030 error per API.
/// </summary>
public sealed partial class BannedApiTests
{
    private static readonly string[] BannedSymbols =
    [
        "DateTime.Now", "DateTime.UtcNow", "DateTime.Today", "DateTimeOffset.Now", "DateTimeOffset.UtcNow",
        "TimeProvider.System", "Stopwatch", "Environment.TickCount", "Environment.TickCount64",
        "Thread.Sleep(int)", "Thread.Sleep(TimeSpan)",
        "Task.Delay(int)", "Task.Delay(TimeSpan)", "Task.Delay(int, CancellationToken)",
        "Task.Delay(TimeSpan, CancellationToken)", "Task.Delay(TimeSpan, TimeProvider)",
        "Task.Delay(TimeSpan, TimeProvider, CancellationToken)",
        "Random.Shared", "Random.Random()", "Guid.NewGuid()", "RandomNumberGenerator",
        "Timer", "PeriodicTimer", "CancellationTokenSource.CancellationTokenSource(int)",
        "CancellationTokenSource.CancellationTokenSource(TimeSpan)", "CancellationTokenSource.CancelAfter(int)",
        "CancellationTokenSource.CancelAfter(TimeSpan)", "HashCode", "string.GetHashCode()", "string.GetHashCode(StringComparison)",
    ];

    [Fact]
    public void A_build_that_uses_a_banned_api_fails_naming_each_one()
    {
        var root = RepositoryRoot();
        var probe = Path.Combine(root, "tests", "BannedApiProbe", "BannedApiProbe.csproj");
        var output = Path.Combine(Path.GetTempPath(), "vc-banned-api-probe-" + Environment.ProcessId);
        var start = new ProcessStartInfo("dotnet", ["build", probe, "--nologo", "-o", output, "-p:UseSharedCompilation=false"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root,
        };

        using var process = Process.Start(start)!;
        var log = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.NotEqual(0, process.ExitCode);
        var flagged = BannedSymbol().Matches(log).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Equal(BannedSymbols.Order(), flagged.Order());
        Assert.DoesNotMatch(@"error CS\d+", log);
    }

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "VolunteerCloud.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("VolunteerCloud.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"error RS0030: The symbol '([^']+)' is banned")]
    private static partial Regex BannedSymbol();
}
