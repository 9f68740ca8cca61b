using System.Globalization;
using VolunteerCloud.Randomness;
using VolunteerCloud.Simulator.Churn;

namespace VolunteerCloud.Simulator.Traces;

/// <summary>One recorded interval of one host, in epoch seconds.</summary>
/// <param name="Up">Whether the host was available.</param>
/// <param name="StartSeconds">Start, seconds since the Unix epoch.</param>
/// <param name="EndSeconds">End, seconds since the Unix epoch.</param>
/// <param name="Line">The line of the file it came from (0 when it was not read from a file).</param>
public readonly record struct TraceInterval(bool Up, double StartSeconds, double EndSeconds, int Line = 0)
{
    /// <summary>Length in seconds.</summary>
    public double Seconds => EndSeconds - StartSeconds;
}

/// <summary>One host of a trace: its id in the file and its intervals in time order, never overlapping.</summary>
public sealed class TraceHost
{
    internal TraceHost(string id, List<TraceInterval> intervals)
    {
        Id = id;
        Intervals = intervals;
    }

    /// <summary>The host's id in the trace (the FTA <c>node_id</c>).</summary>
    public string Id { get; }

    /// <summary>Recorded intervals in time order. Time between recorded intervals counts as unavailable.</summary>
    public IReadOnlyList<TraceInterval> Intervals { get; }
}

/// <summary>
/// An availability trace: per host, when it was up and when it was down. Read from and written to the Failure
/// Trace Archive's event-trace format (Kondo, Javadi, Iosup and Epema, "The Failure Trace Archive", CCGrid 2010),
/// or synthesised from a churn model. Replay it with <see cref="ChurnDriver.AttachTimeline"/> through
/// <see cref="TimelineOf"/>.
/// </summary>
public sealed class AvailabilityTrace
{
    private AvailabilityTrace(IReadOnlyList<TraceHost> hosts)
    {
        Hosts = hosts;
        StartSeconds = hosts.Count == 0 ? 0 : hosts.Min(h => h.Intervals.Count == 0 ? double.PositiveInfinity : h.Intervals[0].StartSeconds);
        EndSeconds = hosts.Count == 0 ? 0 : hosts.Max(h => h.Intervals.Count == 0 ? double.NegativeInfinity : h.Intervals[^1].EndSeconds);
    }

    /// <summary>The hosts, in order of first appearance in the file.</summary>
    public IReadOnlyList<TraceHost> Hosts { get; }

    /// <summary>The earliest start of any interval (epoch seconds): the trace's time zero.</summary>
    public double StartSeconds { get; }

    /// <summary>The latest end of any interval (epoch seconds).</summary>
    public double EndSeconds { get; }

    /// <summary>Number of intervals over all hosts.</summary>
    public long IntervalCount => Hosts.Sum(h => (long)h.Intervals.Count);

    /// <summary>Reads a trace file (see <see cref="FtaTraceFormat"/> for the accepted formats).</summary>
    /// <exception cref="TraceFormatException">A row is malformed; the message names the file, the line and what is wrong.</exception>
    public static AvailabilityTrace Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var reader = new StreamReader(path);
        return FtaTraceFormat.Read(reader, path);
    }

    /// <summary>Writes the trace in the FTA event-trace format (nine tab-separated columns).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var writer = new StreamWriter(path);
        FtaTraceFormat.Write(this, writer);
    }

    /// <summary>Builds a trace from hosts' intervals, checking each host's intervals are ordered and do not overlap.</summary>
    /// <exception cref="TraceFormatException">Two intervals of one host overlap, or an interval ends before it starts.</exception>
    public static AvailabilityTrace FromHosts(IEnumerable<(string Id, IEnumerable<TraceInterval> Intervals)> hosts, string source = "trace")
    {
        ArgumentNullException.ThrowIfNull(hosts);
        var list = new List<TraceHost>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, intervals) in hosts)
        {
            if (!seen.Add(id))
            {
                throw new TraceFormatException(source, 0, $"host '{id}' appears twice");
            }

            var sorted = intervals.ToList();
            foreach (var interval in sorted)
            {
                CheckInterval(source, interval);
            }

            sorted.Sort((a, b) => a.StartSeconds != b.StartSeconds ? a.StartSeconds.CompareTo(b.StartSeconds) : a.Line.CompareTo(b.Line));
            for (var i = 1; i < sorted.Count; i++)
            {
                if (sorted[i].StartSeconds < sorted[i - 1].EndSeconds)
                {
                    var (earlier, later) = sorted[i - 1].Line <= sorted[i].Line ? (sorted[i - 1], sorted[i]) : (sorted[i], sorted[i - 1]);
                    throw new TraceFormatException(
                        source,
                        later.Line,
                        string.Create(CultureInfo.InvariantCulture, $"node {id}: interval [{later.StartSeconds}, {later.EndSeconds}] overlaps [{earlier.StartSeconds}, {earlier.EndSeconds}]") +
                        (earlier.Line > 0 ? string.Create(CultureInfo.InvariantCulture, $" from line {earlier.Line}") : string.Empty));
                }
            }

            list.Add(new TraceHost(id, sorted));
        }

        return new AvailabilityTrace(list);
    }

    /// <summary>
    /// Synthesises a trace: <paramref name="hosts"/> hosts following <paramref name="model"/> for
    /// <paramref name="duration"/>, from <paramref name="start"/> (default 2026-01-01T00:00Z). Host i draws from
    /// stream i of the seed's "churn" stream, as <see cref="ChurnDriver"/> does, so the trace is what a simulation
    /// with the same model and seed would see. Rows are rounded to milliseconds.
    /// </summary>
    public static AvailabilityTrace Synthesize(IChurnModel model, int hosts, TimeSpan duration, ulong seed, DateTimeOffset? start = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegative(hosts);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        var origin = (start ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)).ToUnixTimeMilliseconds() / 1000.0;
        var churnSeed = SplitMix64.Mix64(seed ^ SplitMix64.StreamIndexFor("churn"));
        var list = new List<TraceHost>(hosts);
        for (var i = 0; i < hosts; i++)
        {
            var random = SplittableRandom.ForStream(churnSeed, (ulong)i);
            var host = model.CreateHost(random);
            var intervals = new List<TraceInterval>();
            foreach (var interval in ChurnTimeline.Within(host, random, duration.TotalHours))
            {
                var begin = Math.Round(origin + (interval.StartHours * 3600), 3);
                var end = Math.Round(origin + (interval.EndHours * 3600), 3);
                if (end > begin)
                {
                    intervals.Add(new TraceInterval(interval.Up, begin, end));
                }
            }

            list.Add(new TraceHost(i.ToString(CultureInfo.InvariantCulture), intervals));
        }

        return new AvailabilityTrace(list);
    }

    /// <summary>
    /// Host <paramref name="index"/>'s timeline in hours from the trace's start, gaps filled as down, ending down
    /// for good after its last interval (the host left the trace).
    /// </summary>
    public IEnumerable<AvailabilityInterval> TimelineOf(int index)
    {
        var host = Hosts[index];
        var time = 0.0;
        foreach (var interval in host.Intervals)
        {
            var start = (interval.StartSeconds - StartSeconds) / 3600;
            var end = (interval.EndSeconds - StartSeconds) / 3600;
            if (end <= start)
            {
                continue; // an empty row: nothing to replay
            }

            if (start > time)
            {
                yield return new AvailabilityInterval(false, time, start);
            }

            yield return new AvailabilityInterval(interval.Up, start, end);
            time = end;
        }

        yield return new AvailabilityInterval(false, time, double.PositiveInfinity);
    }

    /// <summary>
    /// Lengths in hours of the up (or down) intervals that were seen whole, for fitting. An interval is censored —
    /// the host may have been in that state before or after — and left out when it is its host's first or last
    /// interval, or borders a gap in its host's record.
    /// </summary>
    public List<double> CompleteIntervalHours(bool up)
    {
        var lengths = new List<double>();
        foreach (var host in Hosts)
        {
            var intervals = host.Intervals;
            for (var i = 1; i < intervals.Count - 1; i++)
            {
                var interval = intervals[i];
                if (interval.Up == up && interval.Seconds > 0 &&
                    intervals[i - 1].EndSeconds == interval.StartSeconds && intervals[i + 1].StartSeconds == interval.EndSeconds)
                {
                    lengths.Add(interval.Seconds / 3600);
                }
            }
        }

        return lengths;
    }

    /// <summary>
    /// Share of host-time up, each host counted from its first to its last recorded instant, with gaps between
    /// its rows counted as down (as <see cref="TimelineOf"/> replays them).
    /// </summary>
    public double Availability()
    {
        double up = 0, total = 0;
        foreach (var host in Hosts)
        {
            if (host.Intervals.Count == 0)
            {
                continue;
            }

            total += host.Intervals[^1].EndSeconds - host.Intervals[0].StartSeconds;
            foreach (var interval in host.Intervals)
            {
                up += interval.Up ? interval.Seconds : 0;
            }
        }

        return total > 0 ? up / total : double.NaN;
    }

    private static void CheckInterval(string source, TraceInterval interval)
    {
        if (!double.IsFinite(interval.StartSeconds) || !double.IsFinite(interval.EndSeconds))
        {
            throw new TraceFormatException(source, interval.Line, "start and end must be finite numbers");
        }

        if (interval.EndSeconds < interval.StartSeconds)
        {
            throw new TraceFormatException(
                source,
                interval.Line,
                string.Create(CultureInfo.InvariantCulture, $"end {interval.EndSeconds} is before start {interval.StartSeconds}"));
        }
    }
}

/// <summary>A trace file has a malformed row. The message names the file, the line and the problem.</summary>
public sealed class TraceFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public TraceFormatException(string source, int line, string problem)
        : base(line > 0 ? $"{source}:{line}: {problem}" : $"{source}: {problem}")
    {
        Source = source;
        Line = line;
        Problem = problem;
    }

    /// <summary>Creates the exception.</summary>
    public TraceFormatException()
        : this("trace", 0, "malformed trace")
    {
    }

    /// <summary>Creates the exception.</summary>
    public TraceFormatException(string message)
        : this("trace", 0, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TraceFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Source = "trace";
        Problem = message;
    }

    /// <summary>The file (or other source) that was read.</summary>
    public new string Source { get; }

    /// <summary>The 1-based line, or 0 when the problem is not on one line.</summary>
    public int Line { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; }
}
