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
}
