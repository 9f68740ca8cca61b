using System.Globalization;
using VolunteerCloud.Apps;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VolunteerCloud.Compose.Yaml;

/// <summary>
/// The one YAML reading layer of VolunteerCloud's formats (Compose files, experiment definitions): loads exactly one
/// document within limits on size, depth and alias expansion, and reads typed values from it, every error naming the
/// source, line, column and key. A format derives from it and says how its errors look (<see cref="Error(int, int, string, string)"/>).
/// </summary>
/// <param name="source">A name for error messages (the file name).</param>
internal abstract class YamlFormatReader(string source)
{
    /// <summary>The longest text read, in characters (1 MiB: a deploy's body is at most that).</summary>
    public const int MaxChars = 1 << 20;

    /// <summary>The deepest nesting of mappings and lists.</summary>
    public const int MaxDepth = 64;

    /// <summary>The most nodes visited, aliases counted each time they are used (a few anchors can otherwise expand to billions).</summary>
    public const int MaxNodes = 200_000;

    /// <summary>The source's name in error messages.</summary>
    protected string Source { get; } = source;

    /// <summary>
    /// Loads the one YAML document of <paramref name="reader"/>, refused when it is too long, not YAML, not exactly one
    /// document, nested deeper than <see cref="MaxDepth"/> or larger than <see cref="MaxNodes"/> once aliases are expanded.
    /// </summary>
    /// <param name="reader">The text.</param>
    /// <param name="error">Makes the format's exception from (line, column, problem); line 0 when there is no position.</param>
    public static YamlNode LoadDocument(TextReader reader, Func<int, int, string, Exception> error)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(error);
        var buffer = new char[MaxChars + 1];
        var length = reader.ReadBlock(buffer, 0, buffer.Length);
        if (length > MaxChars)
        {
            throw error(0, 0, $"longer than {MaxChars / 1024} KiB");
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(new string(buffer, 0, length)));
        }
        catch (YamlException e)
        {
            throw error((int)e.Start.Line, (int)e.Start.Column, $"not valid YAML: {e.InnerException?.Message ?? e.Message}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet throws these, without a position, on some malformed input (found by fuzzing:
            // tests/fuzz/regressions/compose); it is still the file's fault, not ours.
            throw error(0, 0, $"not valid YAML: {e.Message}");
        }

        if (stream.Documents.Count != 1)
        {
            throw error(0, 0, $"expected one YAML document, found {stream.Documents.Count}");
        }

        var root = stream.Documents[0].RootNode;
        CheckSize(root, error);
        return root;
    }

    /// <summary>The format's exception for a problem at a position (line 0: none).</summary>
    protected abstract Exception Error(int line, int column, string path, string problem);

    /// <summary>The format's exception for a problem at <paramref name="node"/>.</summary>
    protected Exception Error(YamlNode node, string path, string problem) => Error((int)node.Start.Line, (int)node.Start.Column, path, problem);

    /// <summary>A single value.</summary>
    protected string Scalar(YamlNode node, string path) =>
        node is YamlScalarNode scalar ? scalar.Value ?? string.Empty : throw Error(node, path, $"expected a single value, found a {Kind(node)}");

    /// <summary>A mapping.</summary>
    protected YamlMappingNode Mapping(YamlNode node, string path) =>
        node as YamlMappingNode ?? throw Error(node, path, $"expected a mapping (key: value lines), found a {Kind(node)}");

    /// <summary>A mapping's entries: each key's name, its path (<paramref name="path"/>.name), and its value; keys must be plain names.</summary>
    protected IEnumerable<(string Name, string Path, YamlNode Value)> Entries(YamlNode node, string path)
    {
        foreach (var (key, value) in Mapping(node, path.Length == 0 ? "(file)" : path).Children)
        {
            // A key may be any YAML node (`? [a, b]: c`); ours are names (found by fuzzing: tests/fuzz/regressions/experiment).
            var name = key is YamlScalarNode scalar ? scalar.Value ?? string.Empty : throw Error(key, path.Length == 0 ? "(file)" : path, "keys must be plain names, not lists or mappings");
            yield return (name, path.Length == 0 ? name : $"{path}.{name}", value);
        }
    }

    /// <summary>A finite number, from <paramref name="min"/> to <paramref name="max"/> (or strictly between them).</summary>
    protected double Number(YamlNode node, string path, double min = double.MinValue, double max = double.MaxValue, bool exclusive = false)
    {
        var text = Scalar(node, path);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw Error(node, path, $"'{text}' is not a number");
        }

        return (exclusive ? value > min && value < max : value >= min && value <= max)
            ? value
            : throw Error(node, path, exclusive ? $"must be a number strictly between {Show(min)} and {Show(max)}" : $"must be a number from {Show(min)} to {Show(max)}");
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    protected int Integer(YamlNode node, string path, int min = int.MinValue, int max = int.MaxValue)
    {
        var text = Scalar(node, path);
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw Error(node, path, $"'{text}' is not a whole number from {min} to {max}");
    }

    /// <summary>A size in bytes (<see cref="Units.TryParseBytes"/>: 512m, 1g, …) of at least <paramref name="minimum"/>.</summary>
    protected long Bytes(YamlNode node, string path, long minimum)
    {
        var text = Scalar(node, path);
        return Units.TryParseBytes(text.ToLowerInvariant(), out var bytes) && bytes >= minimum
            ? bytes
            : throw Error(node, path, $"'{text}' is not a size of at least {ShowBytes(minimum)}, e.g. 256m or 1g");
    }

    /// <summary>A duration (<see cref="Units.TryParseDuration"/>: 90s, 1m30s, 500ms; with <paramref name="allowDays"/>, 7d too), positive when <paramref name="positive"/>.</summary>
    protected TimeSpan Duration(YamlNode node, string path, bool allowDays, bool positive = false)
    {
        var text = Scalar(node, path);
        if (!Units.TryParseDuration(text, allowDays, out var duration))
        {
            throw Error(node, path, allowDays
                ? $"'{text}' is not a duration, e.g. 90s, 15m, 6h, 7d or 1h30m (units d, h, m, s, ms)"
                : $"'{text}' is not a duration, e.g. 30s, 1m30s, 500ms (units h, m, s, ms, us)");
        }

        return duration > TimeSpan.Zero || !positive ? duration : throw Error(node, path, "must be a positive duration");
    }

    /// <summary>What a node is, for messages.</summary>
    protected static string Kind(YamlNode node) => node switch
    {
        YamlMappingNode => "mapping",
        YamlSequenceNode => "list",
        _ => "value",
    };

    private static string Show(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string ShowBytes(long bytes) => bytes switch
    {
        _ when bytes % (1L << 30) == 0 && bytes > 0 => $"{bytes >> 30}g",
        _ when bytes % (1L << 20) == 0 && bytes > 0 => $"{bytes >> 20}m",
        _ when bytes % (1L << 10) == 0 && bytes > 0 => $"{bytes >> 10}k",
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };

    private static void CheckSize(YamlNode root, Func<int, int, string, Exception> error)
    {
        var visited = 0;
        var stack = new Stack<(YamlNode Node, int Depth)>();
        stack.Push((root, 1));
        while (stack.TryPop(out var item))
        {
            if (++visited > MaxNodes)
            {
                throw error((int)item.Node.Start.Line, (int)item.Node.Start.Column, $"more than {MaxNodes} values once aliases are expanded");
            }

            if (item.Depth > MaxDepth)
            {
                throw error((int)item.Node.Start.Line, (int)item.Node.Start.Column, $"nested deeper than {MaxDepth} levels");
            }

            switch (item.Node)
            {
                case YamlMappingNode mapping:
                    foreach (var (key, value) in mapping.Children)
                    {
                        stack.Push((key, item.Depth + 1));
                        stack.Push((value, item.Depth + 1));
                    }

                    break;
                case YamlSequenceNode sequence:
                    foreach (var child in sequence.Children)
                    {
                        stack.Push((child, item.Depth + 1));
                    }

                    break;
            }
        }
    }
}
