using System.CommandLine;
using System.Text.RegularExpressions;

namespace VolunteerCloud.CommandLine;

/// <summary>
/// Command-line mistakes said in a line each, in the user's words, with where to read on — instead of the parser's
/// "as expected type 'System.Int32'" followed by the whole help. Shared (as source) by vc and vcsim.
/// </summary>
internal static partial class CommandLineErrors
{
    /// <summary>
    /// When <paramref name="parsed"/> has errors (and help was not asked for), writes each to <paramref name="error"/>
    /// as "tool: message", then "See 'tool command --help'.", and returns 2; otherwise null (go on and invoke).
    /// </summary>
    public static int? Report(ParseResult parsed, TextWriter error, string tool)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        ArgumentNullException.ThrowIfNull(error);
        if (parsed.Errors.Count == 0 || parsed.Tokens.Any(t => t.Value is "--help" or "-h" or "-?"))
        {
            return null;
        }

        foreach (var e in parsed.Errors)
        {
            error.WriteLine($"{tool}: {Explain(e.Message)}");
        }

        var path = new List<string>();
        for (var c = parsed.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
        {
            path.Insert(0, c.Command.Name);
        }

        path[0] = tool;
        error.WriteLine($"See '{string.Join(' ', path)} --help'.");
        return 2;
    }

    /// <summary>The parser's message, with a type name turned into what the value must look like.</summary>
    internal static string Explain(string message)
    {
        var match = CannotParse().Match(message);
        if (!match.Success)
        {
            return message;
        }

        var type = match.Groups["type"].Value;
        if (NullableOf().Match(type) is { Success: true } inner)
        {
            type = inner.Groups["type"].Value;
        }

        var what = type switch
        {
            "System.Int32" or "System.Int64" or "System.Int16" => "a whole number (e.g. 5)",
            "System.UInt64" or "System.UInt32" or "System.UInt16" or "System.Byte" => "a whole number ≥ 0 (e.g. 5)",
            "System.Double" or "System.Single" or "System.Decimal" => "a number (e.g. 0.25)",
            "System.TimeSpan" => "a duration as hh:mm:ss (e.g. 00:05:00)",
            "System.Boolean" => "true or false",
            _ => $"a {type[(type.LastIndexOf('.') + 1)..]}",
        };
        return $"{match.Groups["name"].Value}: '{match.Groups["value"].Value}' is not {what}.";
    }

    [GeneratedRegex(@"^System\.Nullable`1\[\[?(?<type>[^,\]]+)", RegexOptions.None, 1000)]
    private static partial Regex NullableOf();

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for (option|argument) '(?<name>.*)' as expected type '(?<type>.*)'\.?$", RegexOptions.Singleline, 1000)]
    private static partial Regex CannotParse();
}
