using VolunteerCloud.Simulator.Churn;
using VolunteerCloud.Simulator.Tests.Support;
using VolunteerCloud.Simulator.Traces;

namespace VolunteerCloud.Simulator.Tests.Traces;

public sealed class TraceTests
{
    private const string Header = "# event_id\tcomponent_id\tnode_id\tplatform_id\tnode_name\tevent_type\tevent_start_time\tevent_stop_time\tevent_end_reason\n";

    public static TheoryData<string, string, int, string> Malformed() => new()
    {
        // name, file text, bad line, words the message must contain
        { "too few columns", Header + "0\t0\t7\t0\tn7\t1\t100\n", 2, "expected 9 columns" },
        { "too many columns (short form)", "a 1 0 10 99\n", 1, "found 5" },
        { "mixed layouts", "a 1 0 10\n0\t0\ta\t0\ta\t1\t10\t20\tNULL\n", 2, "first row had 4" },
        { "start not a number", Header + "0\t0\t7\t0\tn7\t1\tyesterday\t200\tNULL\n", 2, "start 'yesterday' is not a number" },
        { "end not a number", "a 1 0 NULL\n", 1, "end 'NULL' is not a number" },
        { "infinite time", "a 1 0 Infinity\n", 1, "end 'Infinity' is not a number" },
        { "negative time", "a 1 -5 10\n", 1, "start -5 is negative" },
        { "end before start", "a 1 0 10\na 0 30 20\n", 2, "end 20 is before start 30" },
        { "unknown event type", "a 2 0 10\n", 1, "event_type '2' is not 1 (available) or 0 (unavailable)" },
        { "empty node id", "\t1\t0\t10\n", 1, "node_id is empty" },
        { "overlap", "a 1 0 10\nb 1 0 10\na 0 5 20\n", 3, "node a: interval [5, 20] overlaps [0, 10] from line 1" },
        { "overlap out of order", "a 1 50 60\na 0 0 55\n", 2, "overlaps [50, 60] from line 1" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Every_kind_of_malformed_row_gives_an_error_naming_the_line(string name, string text, int line, string expected)
    {
        var error = Assert.Throws<TraceFormatException>(() => FtaTraceFormat.Read(new StringReader(text), "bad.tab"));
        Assert.Equal(line, error.Line);
        Assert.StartsWith($"bad.tab:{line}: ", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), $"{name}: '{error.Message}' lacks '{expected}'");
    }

    [Fact]
    public void Comments_blank_lines_headers_and_both_layouts_are_read()
    {
        var fta = FtaTraceFormat.Read(new StringReader(
            "event_id\tcomponent_id\tnode_id\tplatform_id\tnode_name\tevent_type\tevent_start_time\tevent_stop_time\tevent_end_reason\n" +
            "\n# a comment\n" +
            "1\t1\t42\t3\thost a\t1\t1000.5\t4600.5\t0\n" +
            "2\t1\t42\t3\thost a\t0\t4600.5\t8200.5\t1\n" +
            "3\t2\t43\t3\thost b\t1\t1000.5\t1100\tNULL\n"));
        Assert.Equal(["42", "43"], fta.Hosts.Select(h => h.Id));
        Assert.Equal(1000.5, fta.StartSeconds);
        Assert.Equal(8200.5, fta.EndSeconds);
        Assert.Equal([true, false], fta.Hosts[0].Intervals.Select(i => i.Up));

        var shortForm = FtaTraceFormat.Read(new StringReader("node_id event_type start end\nx 1 0 3600\nx 1 7200 10800\n"));
        var timeline = shortForm.TimelineOf(0).ToList();
        Assert.Equal(
            [new AvailabilityInterval(true, 0, 1), new AvailabilityInterval(false, 1, 2), new AvailabilityInterval(true, 2, 3), new AvailabilityInterval(false, 3, double.PositiveInfinity)],
            timeline);
    }

    [Fact]
    public void A_synthetic_trace_round_trips_through_the_file_format()
    {
        var trace = AvailabilityTrace.Synthesize(ChurnPresets.Seti, 200, TimeSpan.FromDays(7), seed: 4);
        var path = Path.Combine(Path.GetTempPath(), $"vc-trace-{Environment.ProcessId}.tab");
        try
        {
            trace.Save(path);
            var loaded = AvailabilityTrace.Load(path);
            Assert.Equal(trace.Hosts.Select(h => h.Id), loaded.Hosts.Where(h => h.Intervals.Count > 0).Select(h => h.Id));
            Assert.Equal(
                trace.Hosts.SelectMany(h => h.Intervals).Select(i => (i.Up, i.StartSeconds, i.EndSeconds)),
                loaded.Hosts.SelectMany(h => h.Intervals).Select(i => (i.Up, i.StartSeconds, i.EndSeconds)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_synthetic_trace_fits_back_to_its_model()
    {
        // A light-tailed model and a long window, so censoring at the edges hardly matters: MLE recovers the
        // parameters, and ranks the generating family first.
        var model = new AvailabilityModel("light", DurationDistribution.Weibull(1.5, 6), DurationDistribution.Gamma(2, 1.5));
        var trace = AvailabilityTrace.Synthesize(model, 400, TimeSpan.FromDays(30), seed: 12);
        var text = new StringWriter();
        FtaTraceFormat.Write(trace, text);
        var loaded = FtaTraceFormat.Read(new StringReader(text.ToString()));

        var up = DistributionFitting.FitAll(loaded.CompleteIntervalHours(up: true));
        var down = DistributionFitting.FitAll(loaded.CompleteIntervalHours(up: false));
        Assert.Equal("weibull", up[0].Distribution.Family);
        Assert.Equal("gamma", down[0].Distribution.Family);
        Assert.Equal(model.Up.Mean, up[0].Distribution.Mean, 0.1);
        Assert.Equal(model.Down.Mean, down[0].Distribution.Mean, 0.05);
        Assert.Equal(model.Availability, loaded.Availability(), 0.01);

        // SETI@home over a week: the heavy tails are censored, but the families are still told apart.
        var seti = AvailabilityTrace.Synthesize(ChurnPresets.Seti, 1000, TimeSpan.FromDays(7), seed: 1);
        Assert.Equal("weibull", DistributionFitting.FitAll(seti.CompleteIntervalHours(true))[0].Distribution.Family);
        Assert.Equal("lognormal", DistributionFitting.FitAll(seti.CompleteIntervalHours(false))[0].Distribution.Family);
    }

    [Fact]
    public void A_trace_replays_in_the_simulator()
    {
        var trace = FtaTraceFormat.Read(new StringReader("a 1 0 3600\na 0 3600 7200\na 1 7200 9000\nb 0 0 1800\nb 1 1800 9000\n"));
        using var simulation = new Simulation(new SimulationOptions());
        var driver = new ChurnDriver(simulation, null, _ => new ScriptedNode());
        var a = simulation.AddNode(new ScriptedNode());
        var b = simulation.AddNode(new ScriptedNode());
        driver.AttachTimeline(a, trace.TimelineOf(0));
        driver.AttachTimeline(b, trace.TimelineOf(1));
        var seen = new List<(double Hours, bool A, bool B)>();
        foreach (var minutes in new[] { 1, 31, 61, 121, 151 })
        {
            simulation.RunUntil(TimeSpan.FromMinutes(minutes));
            seen.Add((minutes / 60.0, simulation.IsUp(a), simulation.IsUp(b)));
        }

        Assert.Equal([true, true, false, true, false], seen.Select(s => s.A));
        Assert.Equal([false, true, true, true, false], seen.Select(s => s.B));
        Assert.Throws<InvalidOperationException>(() => driver.Attach(simulation.AddNode(new ScriptedNode())));
    }
}
