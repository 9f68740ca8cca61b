using System.CommandLine;
using System.Globalization;
using VolunteerCloud.Simulator.Churn;
using VolunteerCloud.Simulator.Experiments;
using VolunteerCloud.Simulator.Population;
using VolunteerCloud.Simulator.Traces;

namespace VolunteerCloud.Simulator.Cli;

/// <summary><c>vcsim churn</c>, <c>vcsim trace synth|fit</c> and <c>vcsim population</c>.</summary>
internal static class ChurnCommands
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static IEnumerable<Command> Create() => [Churn(), Trace(), PopulationCommand()];

    private static int Fail(string command, string message)
    {
        Console.Error.WriteLine($"vcsim {command}: {message}");
        return 2;
    }

    private static Option<ulong> SeedOption() => new("--seed") { Description = "The seed.", DefaultValueFactory = _ => 1 };

    private static Option<string> PresetOption(string defaultValue) => new("--preset")
    {
        Description = $"Churn preset: {string.Join(", ", ChurnPresets.All.Keys)}.",
        DefaultValueFactory = _ => defaultValue,
    };

    private static Command Churn()
    {
        var hosts = new Option<int>("--hosts") { Description = "Hosts per preset.", DefaultValueFactory = _ => 10_000 };
        var days = new Option<double>("--days") { Description = "Simulated days.", DefaultValueFactory = _ => 30 };
        var preset = new Option<string?>("--preset") { Description = $"Only this preset ({string.Join(", ", ChurnPresets.All.Keys)}); all by default." };
        var sigma = new Option<double>("--heterogeneity") { Description = "Per-host log-normal sigma of interval scales (0: every host like the fit).", DefaultValueFactory = _ => 0 };
        var csv = new Option<string?>("--csv") { Description = "Write hosts up per hour, one column per preset, to this file." };
        var seed = SeedOption();
        var command = new Command("churn", "Each churn preset over a population: mean availability, mean session, hosts up over time, generation speed.")
        {
            hosts, days, preset, sigma, csv, seed,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(preset) is { } unknown && !ChurnPresets.All.ContainsKey(unknown))
            {
                return Fail("churn", $"no churn preset is called '{unknown}'; presets: {string.Join(", ", ChurnPresets.All.Keys)}");
            }

            if (parse.GetValue(hosts) < 1 || !(parse.GetValue(days) > 0) || !(parse.GetValue(sigma) >= 0))
            {
                return Fail("churn", "--hosts must be at least 1, --days positive and --heterogeneity 0 or more");
            }

            var models = parse.GetValue(preset) is { } name ? [ChurnPresets.Named(name)] : ChurnPresets.All.Values.ToArray();
            var heterogeneity = parse.GetValue(sigma);
            if (heterogeneity > 0)
            {
                models = models.Select(m => new AvailabilityModel(m.Name, m.Up, m.Down) { HeterogeneitySigma = heterogeneity }).ToArray();
            }

            PrintChurn(Console.Out, models, parse.GetValue(hosts), parse.GetValue(days), parse.GetValue(seed), parse.GetValue(csv));
            return 0;
        });
        return command;
    }

    internal static void PrintChurn(TextWriter output, IReadOnlyList<AvailabilityModel> models, int hosts, double days, ulong seed, string? csvPath)
    {
        output.WriteLine(string.Create(C, $"## Churn presets ({hosts} hosts, {days} days, seed {seed})"));
        output.WriteLine();
        output.WriteLine("| preset | up | down | model availability | measured availability (95% CI) | model mean up (h) | mean session (h) | sessions | hosts up min–max | intervals | generated/s | in simulation: transitions/s |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        var summaries = new List<ChurnSummary>();
        foreach (var model in models)
        {
            var clock = WallClock.Start();
            var s = ChurnStudy.Run(model, hosts, days, seed);
            var seconds = clock.Elapsed.TotalSeconds;
            clock = WallClock.Start();
            var (transitions, _) = ChurnStudy.RunInSimulation(model, hosts, days, seed);
            var simulated = clock.Elapsed.TotalSeconds;
            summaries.Add(s);
            output.WriteLine(string.Create(C,
                $"| {model.Name} | {model.Up} | {model.Down} | {model.Availability:P1} | {s.MeanAvailability:P1} ± {s.AvailabilityHalfWidth95:P1} | {model.Up.Mean:0.00} | {s.MeanSessionHours:0.00} | {s.Sessions} | {s.HostsUpByHour.Min()}–{s.HostsUpByHour.Max()} | {s.Intervals} | {s.Intervals / seconds:0.00e0} | {transitions / simulated:0.00e0} |"));
        }

        output.WriteLine();
        output.WriteLine("Availability: share of host-time up. Mean session: up intervals that start and end inside the window");
        output.WriteLine("(censored ones left out, so long sessions are under-represented when they approach the window length).");
        output.WriteLine("Hosts start in their stationary state (length-biased first interval). Speed on one core: \"generated\" makes");
        output.WriteLine("the timelines alone; \"in simulation\" drives idle nodes through crash and restart with ChurnDriver.");
        if (csvPath is not null)
        {
            using var writer = new StreamWriter(csvPath);
            writer.WriteLine("hour," + string.Join(',', summaries.Select(s => s.Model.Name)));
            for (var h = 0; h < summaries[0].HostsUpByHour.Length; h++)
            {
                writer.WriteLine(string.Create(C, $"{h},") + string.Join(',', summaries.Select(s => s.HostsUpByHour[h].ToString(C))));
            }

            output.WriteLine();
            output.WriteLine($"Hosts up per hour written to {csvPath}.");
        }
    }

    private static Command Trace()
    {
        var trace = new Command("trace", "Availability traces in the Failure Trace Archive format: synthesise, fit.");

        var preset = PresetOption("seti");
        var hosts = new Option<int>("--hosts") { Description = "Hosts.", DefaultValueFactory = _ => 1000 };
        var days = new Option<double>("--days") { Description = "Days.", DefaultValueFactory = _ => 7 };
        var output = new Option<string>("--output", "-o") { Description = "The trace file to write.", Required = true };
        var seed = SeedOption();
        var synth = new Command("synth", "Write a synthetic trace (FTA event_trace.tab, 9 tab-separated columns) from a churn preset.")
        {
            preset, hosts, days, output, seed,
        };
        synth.SetAction(parse =>
        {
            if (!ChurnPresets.All.TryGetValue(parse.GetValue(preset)!, out var model))
            {
                return Fail("trace synth", $"no churn preset is called '{parse.GetValue(preset)}'; presets: {string.Join(", ", ChurnPresets.All.Keys)}");
            }

            if (parse.GetValue(hosts) < 0 || !(parse.GetValue(days) > 0))
            {
                return Fail("trace synth", "--hosts must not be negative and --days must be positive");
            }

            var t = AvailabilityTrace.Synthesize(model, parse.GetValue(hosts), TimeSpan.FromDays(parse.GetValue(days)), parse.GetValue(seed));
            var path = parse.GetValue(output)!;
            t.Save(path);
            Console.WriteLine(string.Create(C, $"Wrote {t.IntervalCount} intervals of {t.Hosts.Count} hosts ({model}) to {path}."));
            return 0;
        });
        trace.Subcommands.Add(synth);

        var file = new Argument<string>("trace") { Description = "An FTA event-trace file (9 columns) or the 4-column short form." };
        var fit = new Command("fit", "Fit exponential, Weibull, log-normal and gamma to the trace's up and down intervals by maximum likelihood.") { file };
        fit.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            AvailabilityTrace t;
            try
            {
                t = AvailabilityTrace.Load(path);
            }
            catch (Exception e) when (e is TraceFormatException or IOException or UnauthorizedAccessException)
            {
                return Fail("trace fit", e.Message);
            }

            PrintFit(Console.Out, t, path);
            return 0;
        });
        trace.Subcommands.Add(fit);
        return trace;
    }

    internal static void PrintFit(TextWriter output, AvailabilityTrace trace, string name)
    {
        output.WriteLine(string.Create(C,
            $"## Fits for {name}: {trace.Hosts.Count} hosts, {trace.IntervalCount} intervals, {(trace.EndSeconds - trace.StartSeconds) / 86400:0.##} days, availability {trace.Availability():P1}"));
        foreach (var up in new[] { true, false })
        {
            var samples = trace.CompleteIntervalHours(up);
            output.WriteLine();
            output.WriteLine(string.Create(C, $"### {(up ? "Up" : "Down")} intervals: {samples.Count} complete (each host's first and last, and those next to gaps, are censored and left out), mean {(samples.Count > 0 ? samples.Average() : double.NaN):0.###} h"));
            output.WriteLine();
            if (samples.Count < 2)
            {
                output.WriteLine("Too few complete intervals to fit.");
                continue;
            }

            output.WriteLine("| candidate | parameters | mean (h) | log-likelihood | AIC | KS D | KS 5% critical | best |");
            output.WriteLine("|---|---|---|---|---|---|---|---|");
            IReadOnlyList<DistributionFit> fits;
            try
            {
                fits = DistributionFitting.FitAll(samples);
            }
            catch (ArgumentException e)
            {
                output.WriteLine($"No fit: {e.Message}");
                continue;
            }

            var critical = DistributionFitting.KolmogorovSmirnovCritical(samples.Count, 0.05);
            for (var i = 0; i < fits.Count; i++)
            {
                var f = fits[i];
                output.WriteLine(string.Create(C,
                    $"| {f.Distribution.Family} | {f.Distribution} | {f.Distribution.Mean:0.###} | {f.LogLikelihood:0.0} | {f.Aic:0.0} | {f.KolmogorovSmirnov:0.0000} | {critical:0.0000} | {(i == 0 ? "best" : string.Empty)} |"));
            }
        }

        output.WriteLine();
        output.WriteLine("Best = lowest AIC (2k − 2 ln L: the exponential has one parameter, the others two). The KS critical value");
        output.WriteLine("assumes parameters not fitted to the same data; with fitted parameters the test is conservative.");
    }

    private static Command PopulationCommand()
    {
        var count = new Option<int>("--volunteers") { Description = "Volunteers.", DefaultValueFactory = _ => 10_000 };
        var csv = new Option<string?>("--csv") { Description = "Write every profile to this CSV file." };
        var seed = SeedOption();
        var command = new Command("population", "Generate a reproducible volunteer population (Bogus) and summarise it.") { count, csv, seed };
        command.SetAction(parse =>
        {
            var n = parse.GetValue(count);
            if (n < 1)
            {
                return Fail("population", "--volunteers must be at least 1");
            }

            var clock = WallClock.Start();
            var profiles = VolunteerPopulation.GenerateMany(parse.GetValue(seed), n);
            var seconds = clock.Elapsed.TotalSeconds;
            PrintPopulation(Console.Out, profiles, seconds);
            if (parse.GetValue(csv) is { } path)
            {
                using var writer = new StreamWriter(path);
                writer.WriteLine("index,region,cores,memory_gib,disk_gb,gflops,download_mbps,upload_mbps,cpu_share,memory_share,disk_share,allowed_from_utc,allowed_to_utc");
                for (var i = 0; i < profiles.Length; i++)
                {
                    var p = profiles[i];
                    writer.WriteLine(string.Create(C,
                        $"{i},{p.Region},{p.Cores},{p.MemoryBytes / (double)(1L << 30):0.##},{p.DiskBytes / 1e9:0.#},{p.Gflops:0.###},{p.DownloadBitsPerSecond / 1e6:0.#},{p.UploadBitsPerSecond / 1e6:0.#},{p.CpuShare},{p.MemoryShare},{p.DiskShare},{p.AllowedFromHour},{p.AllowedToHour}"));
                }

                Console.WriteLine($"Profiles written to {path}.");
            }

            return 0;
        });
        return command;
    }

    internal static void PrintPopulation(TextWriter output, VolunteerProfile[] profiles, double seconds)
    {
        output.WriteLine(string.Create(C, $"## Volunteer population: {profiles.Length} volunteers, generated in {seconds:0.00} s ({profiles.Length / seconds:0} /s)"));
        output.WriteLine();
        output.WriteLine("| region | share | mean cores | mean memory (GiB) | mean GFLOPS/core | median download (Mbit/s) | all-day owners |");
        output.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var group in profiles.GroupBy(p => p.Region).OrderBy(g => g.Key))
        {
            var list = group.ToList();
            var downloads = list.Select(p => (double)p.DownloadBitsPerSecond).Order().ToList();
            output.WriteLine(string.Create(C,
                $"| {group.Key} | {list.Count / (double)profiles.Length:P1} | {list.Average(p => p.Cores):0.0} | {list.Average(p => p.MemoryBytes / (double)(1L << 30)):0.0} | {list.Average(p => p.Gflops):0.00} | {downloads[downloads.Count / 2] / 1e6:0} | {list.Count(p => p.AllDay) / (double)list.Count:P0} |"));
        }

        output.WriteLine();
        output.WriteLine(string.Create(C,
            $"GFLOPS per core: mean {profiles.Average(p => p.Gflops):0.00} (ComBoS: exponential, mean {VolunteerPopulation.MeanGflops}, clipped to [{VolunteerPopulation.MinGflops}, {VolunteerPopulation.MaxGflops}] — the clips move the mean by under 0.1%)."));
        output.WriteLine(string.Create(C,
            $"Owner caps: mean CPU share {profiles.Average(p => p.CpuShare):P0}, mean memory share {profiles.Average(p => p.MemoryShare):P0}; capped capacity in all {profiles.Sum(p => p.Caps.Cpus):0} cores."));
    }
}
