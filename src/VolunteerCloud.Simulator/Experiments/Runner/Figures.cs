using ScottPlot;

namespace VolunteerCloud.Simulator.Experiments.Runner;

/// <summary>The experiment runner's figures (ScottPlot, PNG): availability over time, CDF of time to restore, messages per node per second.</summary>
public static class Figures
{
    private const int Width = 1000;
    private const int Height = 560;

    /// <summary>Draws availability-over-time.png, restore-cdf.png and messages.png into <paramref name="directory"/>.</summary>
    public static void Draw(ExperimentDefinition definition, IReadOnlyList<RunRecord> runs, string directory)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(runs);
        var groups = runs.GroupBy(r => r.Combination.Name).ToList();
        var start = TimeSpan.FromMinutes(10);

        var availability = new Plot();
        foreach (var group in groups)
        {
            var series = group.Select(r => r.Result.AvailabilityOverTime).ToList();
            var length = series.Min(s => s.Length);
            // Hourly means over seeds: a line per combination that stays readable over days.
            var perHour = Math.Max(1, (int)Math.Round(TimeSpan.FromHours(1) / definition.SampleInterval));
            var xs = new List<double>();
            var ys = new List<double>();
            for (var i = 0; i < length; i += perHour)
            {
                var end = Math.Min(length, i + perHour);
                xs.Add((start + (definition.SampleInterval * ((i + end - 1) / 2.0))).TotalHours);
                ys.Add(100 * series.Average(s => s.Skip(i).Take(end - i).Average()));
            }

            var line = availability.Add.Scatter(xs.ToArray(), ys.ToArray());
            line.LegendText = group.Key;
            line.MarkerSize = 0;
            line.LineWidth = 1.5f;
        }

        availability.Title($"{definition.Name}: apps with all replicas running (hourly mean over seeds)");
        availability.XLabel("simulated hours");
        availability.YLabel("apps whole (%)");
        availability.ShowLegend(Edge.Bottom);
        availability.SavePng(Path.Combine(directory, "availability-over-time.png"), Width, Height);

        var restores = new Plot();
        foreach (var group in groups)
        {
            var values = group.SelectMany(r => r.Result.RestoreSeconds).Order().ToArray();
            if (values.Length == 0)
            {
                continue;
            }

            var ys = Enumerable.Range(1, values.Length).Select(i => 100.0 * i / values.Length).ToArray();
            var line = restores.Add.Scatter(values.Select(v => v / 60).ToArray(), ys);
            line.LegendText = group.Key;
            line.MarkerSize = 0;
            line.ConnectStyle = ConnectStyle.StepHorizontal;
        }

        restores.Title($"{definition.Name}: time to restore (all seeds)");
        restores.XLabel("minutes from an app falling short to whole again");
        restores.YLabel("restores (cumulative %)");
        restores.ShowLegend(Edge.Bottom);
        restores.SavePng(Path.Combine(directory, "restore-cdf.png"), Width, Height);

        if (definition.Fidelity == ControlPlane.ControlPlaneFidelity.Modelled)
        {
            return; // the modelled control plane sends no messages: nothing to draw
        }

        var messages = new Plot();
        var means = groups.Select(g => g.Average(r => r.Result.ControlMessagesPerNodeSecond)).ToArray();
        var bars = messages.Add.Bars(means);
        bars.Horizontal = true;
        messages.Axes.Left.SetTicks([.. Enumerable.Range(0, groups.Count).Select(i => (double)i)], [.. groups.Select(g => g.Key)]);
        messages.Axes.Margins(left: 0);
        messages.Title($"{definition.Name}: control messages per node per second (mean over seeds)");
        messages.XLabel("messages / node / s");
        messages.SavePng(Path.Combine(directory, "messages.png"), Width, Height);
    }

    /// <summary>Draws detection-vs-members.png, bytes-vs-members.png and false-positives-vs-loss.png for a membership experiment.</summary>
    public static void DrawMembership(ExperimentDefinition definition, IReadOnlyList<MembershipRunResult> results, string directory)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(results);
        static double Mean(IEnumerable<double> values)
        {
            var finite = values.Where(double.IsFinite).ToList();
            return finite.Count > 0 ? finite.Average() : double.NaN;
        }

        void Lines(string file, string title, string xLabel, string yLabel, Func<MembershipRunResult, double> x, Func<MembershipRunResult, double> y, Func<MembershipRunResult, string> line, bool logX)
        {
            var plot = new Plot();
            foreach (var group in results.GroupBy(line))
            {
                var points = group.GroupBy(x).OrderBy(g => g.Key).Select(g => (X: g.Key, Y: Mean(g.Select(y)))).Where(p => double.IsFinite(p.Y)).ToArray();
                if (points.Length == 0)
                {
                    continue;
                }

                var scatter = plot.Add.Scatter(points.Select(p => logX ? Math.Log10(p.X) : p.X).ToArray(), points.Select(p => p.Y).ToArray());
                scatter.LegendText = group.Key;
                scatter.MarkerSize = 6;
            }

            if (logX)
            {
                var sizes = results.Select(x).Distinct().Order().ToArray();
                plot.Axes.Bottom.SetTicks([.. sizes.Select(Math.Log10)], [.. sizes.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
            }

            plot.Title($"{definition.Name}: {title}");
            plot.XLabel(xLabel);
            plot.YLabel(yLabel);
            plot.ShowLegend(Edge.Bottom);
            plot.SavePng(Path.Combine(directory, file), Width, Height);
        }

        Lines("detection-vs-members.png", "time to detect a crash (mean over crashes and seeds)", "members", "seconds", r => r.Case.Nodes, r => r.DetectionSeconds.Length > 0 ? r.DetectionSeconds.Average() : double.NaN,
            r => $"{r.Case.Protocol}, loss {r.Case.Loss:0.##%}", logX: true);
        Lines("bytes-vs-members.png", "bytes sent per member per second", "members", "bytes / member / s", r => r.Case.Nodes, r => r.BytesPerNodeSecond,
            r => $"{r.Case.Protocol}, loss {r.Case.Loss:0.##%}", logX: true);
        Lines("false-positives-vs-loss.png", "live members declared dead, per member-hour", "datagram loss (%)", "false positives / member / hour", r => 100 * r.Case.Loss, r => r.FalsePositivesPerNodeHour(definition.Duration),
            r => $"{r.Case.Protocol}, {r.Case.Nodes} members", logX: false);
    }
}
