using System.Text;

namespace VolunteerCloud.Simulator.Experiments.Runner;

/// <summary>
/// Writes an experiment's result files so that a rerun which reproduces the results already there changes nothing:
/// a file is written only when its bytes differ, and runs that reproduce the rows of an existing runs.csv (every
/// column equal but the commit) keep the commit those rows name. So `vcsim run` on a clean clone leaves `git status`
/// clean when the committed results reproduce, and shows every difference when they do not.
/// </summary>
public sealed class ResultFiles(string directory)
{
    private readonly List<string> _written = [];
    private readonly List<string> _unchanged = [];

    /// <summary>The directory the files go to.</summary>
    public string Directory { get; } = directory;

    /// <summary>The files written (new or changed), in order.</summary>
    public IReadOnlyList<string> Written => _written;

    /// <summary>The files that already held these bytes and were left alone.</summary>
    public IReadOnlyList<string> Unchanged => _unchanged;

    /// <summary>Every file of the results, written or not.</summary>
    public IEnumerable<string> All => _written.Concat(_unchanged).Order(StringComparer.Ordinal);

    /// <summary>Writes <paramref name="text"/> (UTF-8, no byte-order mark) unless the file already holds it.</summary>
    public void WriteText(string name, string text) => WriteBytes(name, Encoding.UTF8.GetBytes(text));

    /// <summary>Writes the lines, each ended by a newline, unless the file already holds them.</summary>
    public void WriteLines(string name, IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            text.Append(line).Append('\n');
        }

        WriteText(name, text.ToString());
    }

    /// <summary>Writes <paramref name="bytes"/> unless the file already holds them.</summary>
    public void WriteBytes(string name, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var path = Path.Combine(Directory, name);
        if (File.Exists(path) && new FileInfo(path).Length == bytes.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
        {
            _unchanged.Add(name);
            return;
        }

        System.IO.Directory.CreateDirectory(Directory);
        File.WriteAllBytes(path, bytes);
        _written.Add(name);
    }

    /// <summary>
    /// The commit each of <paramref name="rows"/> was first made at, when <paramref name="directory"/>'s runs.csv holds
    /// exactly these rows (the same header, the same rows in the same order, every column equal but the commit column
    /// <paramref name="commitColumn"/>); otherwise null. Rows are compared as written, so a changed number anywhere
    /// means the results did not reproduce and the new commit stands.
    /// </summary>
    public static IReadOnlyList<string>? ReproducedCommits(string directory, string header, IReadOnlyList<string> rows, int commitColumn = 2)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var path = Path.Combine(directory, "runs.csv");
        if (!File.Exists(path))
        {
            return null;
        }

        var existing = File.ReadAllLines(path);
        if (existing.Length != rows.Count + 1 || existing[0] != header)
        {
            return null;
        }

        var commits = new string[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var (masked, commit) = Mask(existing[i + 1], commitColumn);
            if (commit.Length == 0 || masked != Mask(rows[i], commitColumn).Masked)
            {
                return null;
            }

            commits[i] = commit;
        }

        return commits;
    }

    private static (string Masked, string Commit) Mask(string row, int column)
    {
        var fields = row.Split(',');
        if (fields.Length <= column)
        {
            return (row, "");
        }

        var commit = fields[column];
        fields[column] = "";
        return (string.Join(',', fields), commit);
    }
}

/// <summary>What writing an experiment's results did: its summary, the files written and left alone, and whether the runs reproduced the runs.csv already there.</summary>
/// <param name="Summary">summary.md's text.</param>
/// <param name="Files">The files, written or left alone.</param>
/// <param name="ReproducedCommits">The commits the reproduced rows were first made at, or null when the runs did not reproduce runs.csv (or there was none).</param>
public sealed record WrittenResults(string Summary, ResultFiles Files, IReadOnlyList<string>? ReproducedCommits)
{
    /// <summary>One line for the console: where the results are and what changed there.</summary>
    public string Describe()
    {
        ArgumentNullException.ThrowIfNull(Files);
        var where = $"results in {Files.Directory}/: {string.Join(", ", Files.All)}";
        if (ReproducedCommits is { } commits)
        {
            var made = $"every run reproduces runs.csv there (made at {string.Join(", ", commits)})";
            return Files.Written.Count == 0
                ? $"{where}\n{made}: nothing rewritten"
                : $"{where}\n{made}; rewritten: {string.Join(", ", Files.Written)}";
        }

        return Files.Unchanged.Count == 0 ? where : $"{where}\nrewritten: {string.Join(", ", Files.Written)}; unchanged: {string.Join(", ", Files.Unchanged)}";
    }
}
