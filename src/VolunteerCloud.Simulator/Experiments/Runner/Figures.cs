using System.Text.RegularExpressions;
using ScottPlot;

namespace VolunteerCloud.Simulator.Experiments.Runner;

/// <summary>
/// The experiment runner's figures (ScottPlot), each as PNG and as SVG (vector, for papers): availability over time
/// with the 95% confidence band over seeds, the CDF of time to restore with a 95% Dvoretzky–Kiefer–Wolfowitz band,
/// control messages per node per second with 95% confidence intervals; for membership studies, detection time, load
/// and false positives with 95% confidence intervals over seeds.
/// </summary>
public static partial class Figures
{
    private const int Width = 1000;
    private const int Height = 560;

    /// <summary>Restore-CDF ticks fall on whole numbers of samples: the fewest of these many per tick giving at most 12 ticks.</summary>
    private static readonly int[] TickMultiples = [1, 2, 3, 5, 6, 10, 12, 15, 20, 30, 60, 120, 360, 720, 1440];

    /// <summary>Draws availability-over-time, restore-cdf and messages (.png and .svg) into <paramref name="files"/>.</summary>
    public static void Draw(ExperimentDefinition definition, IReadOnlyList<RunRecord> runs, ResultFiles files)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(files);
        var groups = runs.GroupBy(r => r.Combination.Name).ToList();
        var start = TimeSpan.FromMinutes(10);
        var palette = new ScottPlot.Palettes.Category10();

        var availability = new Plot();
        var withBands = false;
        for (var g = 0; g < groups.Count; g++)
        {
            var series = groups[g].Select(r => r.Result.AvailabilityOverTime).ToList();
            var length = series.Min(s => s.Length);
            // Hourly means over seeds: a line per combination that stays readable over days; the band is the 95%
            // confidence interval of that mean over the seeds (Student's t), none with one seed.
            var perHour = Math.Max(1, (int)Math.Round(TimeSpan.FromHours(1) / definition.SampleInterval));
            var xs = new List<double>();
            var ys = new List<double>();
            var lows = new List<double>();
            var highs = new List<double>();
            for (var i = 0; i < length; i += perHour)
            {
                var end = Math.Min(length, i + perHour);
                xs.Add((start + (definition.SampleInterval * ((i + end - 1) / 2.0))).TotalHours);
                var (mean, half) = ExperimentRunner.MeanCi([.. series.Select(s => 100 * s.AsSpan(i, end - i).ToArray().Average())]);
                ys.Add(mean);
                lows.Add(double.IsNaN(half) ? mean : Math.Max(0, mean - half));
                highs.Add(double.IsNaN(half) ? mean : Math.Min(100, mean + half));
            }

            var color = palette.GetColor(g);
            if (series.Count > 1 && xs.Count > 0)
            {
                var band = availability.Add.FillY([.. xs], [.. lows], [.. highs]);
                band.FillStyle.Color = color.WithAlpha(0.2);
                band.LineStyle.Width = 0;
                withBands = true;
            }

            var line = availability.Add.Scatter(xs.ToArray(), ys.ToArray());
            line.LegendText = groups[g].Key;
            line.Color = color;
            line.MarkerSize = 0;
            line.LineWidth = 1.5f;
        }

        availability.Title($"{definition.Name}: apps with all replicas running (hourly mean over seeds{(withBands ? ", 95% CI band" : "")})");
        availability.XLabel("simulated hours");
        availability.YLabel("apps whole (%)");
        availability.ShowLegend(Edge.Bottom);
        Save(availability, files, "availability-over-time");

        var restores = new Plot();
        var all = groups.SelectMany(g => g.SelectMany(r => r.Result.RestoreSeconds)).ToList();
        // Restores are measured in whole samples: seconds when they are short, minutes when long, ticks on whole samples.
        var inMinutes = all.Count > 0 && all.Max() > 15 * 60;
        var unit = inMinutes ? 60.0 : 1.0;
        for (var g = 0; g < groups.Count; g++)
        {
            var values = groups[g].SelectMany(r => r.Result.RestoreSeconds).Order().ToArray();
            if (values.Length == 0)
            {
                continue;
            }

            var color = palette.GetColor(g);
            var xs = values.Select(v => v / unit).ToArray();
            var ys = Enumerable.Range(1, values.Length).Select(i => 100.0 * i / values.Length).ToArray();
            // 95% band of the empirical CDF (Dvoretzky–Kiefer–Wolfowitz: ±sqrt(ln(2/0.05) / 2n)).
            var epsilon = 100 * Math.Sqrt(Math.Log(2 / 0.05) / (2.0 * values.Length));
            var band = restores.Add.FillY(xs, [.. ys.Select(y => Math.Max(0, y - epsilon))], [.. ys.Select(y => Math.Min(100, y + epsilon))]);
            band.FillStyle.Color = color.WithAlpha(0.15);
            band.LineStyle.Width = 0;
            var line = restores.Add.Scatter(xs, ys);
            line.LegendText = $"{groups[g].Key} (n = {values.Length})";
            line.Color = color;
            line.MarkerSize = 0;
            line.ConnectStyle = ConnectStyle.StepHorizontal;
        }

        if (all.Count > 0)
        {
            var sample = definition.SampleInterval.TotalSeconds / unit;
            var step = sample * TickMultiples.FirstOrDefault(k => all.Max() / unit / (sample * k) <= 12, 2880);
            restores.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(step);
        }

        restores.Title($"{definition.Name}: time to restore (all seeds; 95% DKW band)");
        restores.XLabel($"{(inMinutes ? "minutes" : "seconds")} from an app falling short to whole again (sampled every {definition.SampleInterval.TotalSeconds:0.##} s)");
        restores.YLabel("restores (cumulative %)");
        restores.ShowLegend(Edge.Bottom);
        Save(restores, files, "restore-cdf");

        if (definition.Fidelity == ControlPlane.ControlPlaneFidelity.Modelled)
        {
            return; // the modelled control plane sends no messages: nothing to draw
        }

        var messages = new Plot();
        var bars = groups.Select((g, i) =>
        {
            var (mean, half) = ExperimentRunner.MeanCi([.. g.Select(r => r.Result.ControlMessagesPerNodeSecond)]);
            return new Bar { Position = i, Value = mean, Error = double.IsNaN(half) ? 0 : half };
        }).ToList();
        var plotted = messages.Add.Bars(bars);
        plotted.Horizontal = true;
        messages.Axes.Left.SetTicks([.. Enumerable.Range(0, groups.Count).Select(i => (double)i)], [.. groups.Select(g => g.Key)]);
        messages.Axes.Margins(left: 0);
        messages.Title($"{definition.Name}: control messages per node per second (mean over seeds, 95% CI)");
        messages.XLabel("messages / node / s");
        Save(messages, files, "messages");
    }

    /// <summary>Draws detection-vs-members, bytes-vs-members and false-positives-vs-loss (.png and .svg) for a membership experiment.</summary>
    public static void DrawMembership(ExperimentDefinition definition, IReadOnlyList<MembershipRunResult> results, ResultFiles files)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(files);

        void Lines(string file, string title, string xLabel, string yLabel, Func<MembershipRunResult, double> x, Func<MembershipRunResult, double> y, Func<MembershipRunResult, string> line, bool logX)
        {
            var plot = new Plot();
            var palette = new ScottPlot.Palettes.Category10();
            var index = 0;
            foreach (var group in results.GroupBy(line))
            {
                // A point per x: the mean over seeds, with the 95% confidence interval over seeds as an error bar.
                var points = group.GroupBy(x).OrderBy(g => g.Key)
                    .Select(g => (X: g.Key, Values: g.Select(y).Where(double.IsFinite).ToList()))
                    .Where(p => p.Values.Count > 0)
                    .Select(p => (p.X, Ci: ExperimentRunner.MeanCi(p.Values)))
                    .ToArray();
                if (points.Length == 0)
                {
                    continue;
                }

                var color = palette.GetColor(index++);
                var xs = points.Select(p => logX ? Math.Log10(p.X) : p.X).ToArray();
                var ys = points.Select(p => p.Ci.Mean).ToArray();
                var errors = points.Select(p => double.IsNaN(p.Ci.HalfWidth) ? 0 : p.Ci.HalfWidth).ToArray();
                var bars = plot.Add.ErrorBar(xs, ys, errors);
                bars.Color = color;
                var scatter = plot.Add.Scatter(xs, ys);
                scatter.LegendText = group.Key;
                scatter.Color = color;
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
            Save(plot, files, file);
        }

        Lines("detection-vs-members", "time to detect a crash (mean over seeds, 95% CI)", "members", "seconds", r => r.Case.Nodes, r => r.DetectionSeconds.Length > 0 ? r.DetectionSeconds.Average() : double.NaN,
            r => $"{r.Case.Protocol}, loss {r.Case.Loss:0.##%}", logX: true);
        Lines("bytes-vs-members", "bytes sent per member per second (mean over seeds, 95% CI)", "members", "bytes / member / s", r => r.Case.Nodes, r => r.BytesPerNodeSecond,
            r => $"{r.Case.Protocol}, loss {r.Case.Loss:0.##%}", logX: true);
        Lines("false-positives-vs-loss", "live members declared dead, per member-hour (mean over seeds, 95% CI)", "datagram loss (%)", "false positives / member / hour", r => 100 * r.Case.Loss, r => r.FalsePositivesPerNodeHour(definition.Duration),
            r => $"{r.Case.Protocol}, {r.Case.Nodes} members", logX: false);
    }

    /// <summary>Writes the plot as name.png and name.svg (each only when it changes).</summary>
    private static void Save(Plot plot, ResultFiles files, string name)
    {
        files.WriteBytes(name + ".png", plot.GetImageBytes(Width, Height, ImageFormat.Png));
        files.WriteText(name + ".svg", NumberIdsInOrder(plot.GetSvgXml(Width, Height)));
    }

    /// <summary>
    /// Renumbers the SVG's element ids ("cl_1f": the SVG canvas numbers clip paths in hex with a counter that lives as
    /// long as the process) in order of first appearance, so the same figure gives the same bytes however many were drawn
    /// before it.
    /// </summary>
    internal static string NumberIdsInOrder(string svg)
    {
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
        return SvgId().Replace(svg, m =>
        {
            if (!renamed.TryGetValue(m.Value, out var id))
            {
                renamed[m.Value] = id = $"{m.Groups["prefix"].Value}_{renamed.Count + 1}";
            }

            return id;
        });
    }

    [GeneratedRegex(@"(?<=id=""|url\(#)(?<prefix>[A-Za-z]+)_[0-9A-Fa-f]+(?=[""\)])", RegexOptions.None, 1000)]
    private static partial Regex SvgId();
}
