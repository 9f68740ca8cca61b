namespace VolunteerCloud.Compose;

/// <summary>A Compose file could not be used: the message names the file, line, column and key.</summary>
public sealed class ComposeException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public ComposeException(string source, int line, int column, string path, string problem)
        : base(line > 0 ? $"{source}:{line}:{column}: {path}: {problem}" : $"{source}: {path}: {problem}")
    {
        Line = line;
        Column = column;
        Path = path;
        Problem = problem;
    }

    /// <summary>Creates the exception.</summary>
    public ComposeException()
        : this("compose", 0, 0, "", "invalid Compose file")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ComposeException(string message)
        : this("compose", 0, 0, "", message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ComposeException(string message, Exception innerException)
        : base(message, innerException)
    {
        Path = "";
        Problem = message;
    }

    /// <summary>1-based line of the offending key or value (0 when unknown).</summary>
    public int Line { get; }

    /// <summary>1-based column.</summary>
    public int Column { get; }

    /// <summary>The key's path, e.g. <c>services.web.deploy.replicas</c>.</summary>
    public string Path { get; }

    /// <summary>What is wrong.</summary>
    public string Problem { get; }
}
