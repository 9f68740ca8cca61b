using System.Globalization;

namespace VolunteerCloud.Simulator.Traces;

/// <summary>
/// The Failure Trace Archive's event-trace table as text, one row per availability or unavailability interval of a
/// node. Two layouts are read:
/// <list type="bullet">
/// <item><description>FTA <c>event_trace.tab</c>, nine tab-separated columns: <c>event_id component_id node_id
/// platform_id node_name event_type event_start_time event_stop_time event_end_reason</c>;</description></item>
/// <item><description>a short form with four columns: <c>node_id event_type start end</c>.</description></item>
/// </list>
/// Times are epoch seconds (fractions allowed). <c>event_type</c> is 1 for an availability interval and 0 for an
/// unavailability interval — our reading of the FTA schema; a trace that uses the opposite convention has an
/// availability below one half where the study reports more, which <c>vcsim trace fit</c> prints. Columns may be
/// separated by tabs, or by spaces when no tab occurs on the line. Blank lines, lines starting with <c>#</c> and one
/// header row (first field <c>event_id</c> or <c>node_id</c>) are skipped. Any other malformed row stops the load
/// with a <see cref="TraceFormatException"/> naming the line. Time between a node's rows counts as unavailable.
/// </summary>
public static class FtaTraceFormat
{
    /// <summary>The FTA columns, in order.</summary>
    public static readonly IReadOnlyList<string> Columns =
        ["event_id", "component_id", "node_id", "platform_id", "node_name", "event_type", "event_start_time", "event_stop_time", "event_end_reason"];

    private const string ShortForm = "node_id event_type start end";

    /// <summary>Reads a trace.</summary>
    /// <param name="reader">The text.</param>
    /// <param name="source">The file name, for error messages.</param>
    /// <exception cref="TraceFormatException">A row is malformed.</exception>
    public static AvailabilityTrace Read(TextReader reader, string source = "trace")
    {
        ArgumentNullException.ThrowIfNull(reader);
        var hosts = new Dictionary<string, List<TraceInterval>>(StringComparer.Ordinal);
        var order = new List<string>();
        var lineNumber = 0;
        var columns = 0;
        var sawData = false;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed[0] == '#')
            {
                continue;
            }

            var fields = line.Contains('\t', StringComparison.Ordinal)
                ? line.Split('\t', StringSplitOptions.TrimEntries)
                : trimmed.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

            if (!sawData && (fields[0].Equals("event_id", StringComparison.OrdinalIgnoreCase) || fields[0].Equals("node_id", StringComparison.OrdinalIgnoreCase)))
            {
                continue; // header row
            }

            sawData = true;
            if (fields.Length is not (9 or 4))
            {
                throw new TraceFormatException(
                    source,
                    lineNumber,
                    $"expected 9 columns ({string.Join(' ', Columns)}) or 4 columns ({ShortForm}), found {fields.Length}");
            }

            if (columns == 0)
            {
                columns = fields.Length;
            }
            else if (fields.Length != columns)
            {
                throw new TraceFormatException(source, lineNumber, $"found {fields.Length} columns, but the file's first row had {columns}");
            }

            var (node, type, start, end) = columns == 9 ? (fields[2], fields[5], fields[6], fields[7]) : (fields[0], fields[1], fields[2], fields[3]);
            if (node.Length == 0)
            {
                throw new TraceFormatException(source, lineNumber, "node_id is empty");
            }

            var up = type switch
            {
                "1" => true,
                "0" => false,
                _ => throw new TraceFormatException(source, lineNumber, $"event_type '{type}' is not 1 (available) or 0 (unavailable)"),
            };
            var startSeconds = Number(source, lineNumber, "start", start);
            var endSeconds = Number(source, lineNumber, "end", end);
            if (endSeconds < startSeconds)
            {
                throw new TraceFormatException(source, lineNumber, $"end {end} is before start {start}");
            }

            if (!hosts.TryGetValue(node, out var intervals))
            {
                hosts[node] = intervals = [];
                order.Add(node);
            }

            intervals.Add(new TraceInterval(up, startSeconds, endSeconds, lineNumber));
        }

        return AvailabilityTrace.FromHosts(order.Select(id => (id, (IEnumerable<TraceInterval>)hosts[id])), source);
    }

    /// <summary>Writes a trace as an FTA event-trace table (nine tab-separated columns, a <c>#</c> header line).</summary>
    public static void Write(AvailabilityTrace trace, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write("# ");
        writer.WriteLine(string.Join('\t', Columns));
        long eventId = 0;
        for (var h = 0; h < trace.Hosts.Count; h++)
        {
            var host = trace.Hosts[h];
            foreach (var interval in host.Intervals)
            {
                writer.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{eventId++}\t{h}\t{host.Id}\t0\t{host.Id}\t{(interval.Up ? 1 : 0)}\t{interval.StartSeconds:0.###}\t{interval.EndSeconds:0.###}\tNULL"));
            }
        }
    }

    private static double Number(string source, int line, string what, string text)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw new TraceFormatException(source, line, $"{what} '{text}' is not a number of epoch seconds");
        }

        if (value < 0)
        {
            throw new TraceFormatException(source, line, $"{what} {text} is negative");
        }

        return value;
    }
}
