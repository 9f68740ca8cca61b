using System.Diagnostics;
using System.Reflection;

namespace VolunteerCloud.Sdk.Tests.Docs;

/// <summary>
/// vcsim, vc and vchost are .NET tools: each project packs as a tool package, `dotnet tool install` installs it from
/// that package alone (no other feed), and the installed command answers under the name the README uses. The
/// packages are made from this build (dotnet pack --no-build), so the check costs seconds, not a second build.
/// </summary>
public sealed class ToolPackageTests
{
    public static TheoryData<string, string, string, string> Tools() => new()
    {
        { "VolunteerCloud.Simulator.Tool", "VolunteerCloud.Simulator.Tool", "vcsim", "experiment runner" },
        { "VolunteerCloud.Cli", "VolunteerCloud.Cli", "vc", "VC_NODE" },
        { "VolunteerCloud.Host", "VolunteerCloud.Host", "vchost", "volunteer daemon" },
    };

    [Theory]
    [MemberData(nameof(Tools))]
    public void The_tool_installs_from_its_package_and_answers_help_under_its_command_name(string project, string package, string command, string helpSays)
    {
        var root = Build.BannedApiTests.RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("vc-tool-");
        try
        {
            var configuration = typeof(ToolPackageTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var feed = Path.Combine(work.FullName, "feed");
            Run("dotnet", "pack", Path.Combine(root, "src", project, project + ".csproj"), "--no-build", "-c", configuration, "-o", feed, "-nologo", "-v", "q");
            Assert.Single(Directory.GetFiles(feed, $"{package}.*.nupkg"));

            // Only the local feed: the package must carry everything the tool needs.
            var config = Path.Combine(work.FullName, "nuget.config");
            File.WriteAllText(config, $"""<?xml version="1.0" encoding="utf-8"?><configuration><packageSources><clear /><add key="local" value="{feed}" /></packageSources></configuration>""");
            var tools = Path.Combine(work.FullName, "tools");
            Run("dotnet", "tool", "install", package, "--tool-path", tools, "--configfile", config, "--prerelease");

            var help = Run(Path.Combine(tools, command), "--help");
            Assert.Contains(helpSays, help, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("VolunteerCloud.Sdk")]
    [InlineData("VolunteerCloud.Compose")]
    [InlineData("VolunteerCloud.Simulator")]
    [InlineData("VolunteerCloud.Testing")]
    public void The_library_packs_with_its_readme_and_its_dependencies_named(string project)
    {
        var root = Build.BannedApiTests.RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("vc-pack-");
        try
        {
            var configuration = typeof(ToolPackageTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            Run("dotnet", "pack", Path.Combine(root, "src", project, project + ".csproj"), "--no-build", "-c", configuration, "-o", work.FullName, "-nologo", "-v", "q");
            var package = Assert.Single(Directory.GetFiles(work.FullName, $"{project}.*.nupkg"), f => !f.EndsWith(".symbols.nupkg", StringComparison.Ordinal));
            using var zip = System.IO.Compression.ZipFile.OpenRead(package);
            Assert.Contains(zip.Entries, e => e.FullName == $"lib/net10.0/{project}.dll");
            var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()).ReadToEnd();
            Assert.Contains("<readme>README.md</readme>", nuspec, StringComparison.Ordinal);
            Assert.Contains(zip.Entries, e => e.FullName == "README.md");
            if (project != "VolunteerCloud.Sdk" && project != "VolunteerCloud.Compose")
            {
                Assert.Contains("id=\"VolunteerCloud.Sdk\"", nuspec, StringComparison.Ordinal); // a package, not a copied dll
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static string Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), $"{file} {string.Join(' ', args)} did not finish in 3 min");
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited with {process.ExitCode}:\n{stdout}\n{stderr.Result}");
        return stdout;
    }
}
