using SharpFuzz;
using VolunteerCloud.Fuzz;

// vcfuzz <target>                  under afl-fuzz (tests/fuzz/run.sh instruments the assemblies and starts it)
// vcfuzz <target> <file|dir>...     runs inputs once, without AFL: a finding's reproduction, or a corpus replay
// vcfuzz seeds <dir>                writes the wire target's seeds (datagrams recorded from a simulated cluster)
// vcfuzz kept-seeds <compose> <dir> writes the kept target's seeds (desired states holding the Compose seeds' apps)
if (args is ["seeds", var seedDirectory])
{
    Console.WriteLine($"{WireSeeds.Write(seedDirectory)} datagrams written to {seedDirectory}");
    return 0;
}

if (args is ["kept-seeds", var composeCorpus, var keptDirectory])
{
    Console.WriteLine($"{FuzzTargets.WriteKeptSeeds(composeCorpus, keptDirectory)} kept desired states written to {keptDirectory}");
    return 0;
}

if (args.Length == 0 || !FuzzTargets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: vcfuzz <target> [input file or folder …]; targets: {string.Join(", ", FuzzTargets.All.Keys)}");
    return 2;
}

if (args.Length == 1)
{
    Fuzzer.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        target(buffer.ToArray());
    });
    return 0;
}

var files = args.Skip(1).SelectMany(path => Directory.Exists(path) ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal) : (IEnumerable<string>)[path]).ToList();
foreach (var file in files)
{
    try
    {
        target(File.ReadAllBytes(file));
    }
    catch (Exception)
    {
        Console.Error.WriteLine($"finding: {file}");
        throw; // ends the run with the exception's stack trace
    }
}

Console.WriteLine($"{args[0]}: {files.Count} inputs, no unexpected exception");
return 0;
