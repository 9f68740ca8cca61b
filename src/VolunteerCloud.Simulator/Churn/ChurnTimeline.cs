using VolunteerCloud.Randomness;

namespace VolunteerCloud.Simulator.Churn;

/// <summary>One stretch of a host's life: up or down from <see cref="StartHours"/> to <see cref="EndHours"/>.</summary>
/// <param name="Up">Whether the host is up.</param>
/// <param name="StartHours">Start, hours from the study's start.</param>
/// <param name="EndHours">End, hours from the study's start (<see cref="double.PositiveInfinity"/> for a host gone for good).</param>
public readonly record struct AvailabilityInterval(bool Up, double StartHours, double EndHours)
{
    /// <summary>Length in hours.</summary>
    public double Hours => EndHours - StartHours;
}

/// <summary>
/// Turns a host's churn process into its timeline. By default the process is in its stationary state at time zero
/// (an alternating renewal process observed at a random instant): the host is up with probability
/// E[up] / (E[up] + E[down]), the interval it is in is drawn length-biased
/// (<see cref="DurationDistribution.SampleLengthBiased"/>) and the host is a uniform share of the way through it.
/// That is exact, where a warm-up of any practical length is not for heavy-tailed fits such as SETI@home's.
/// A warm-up can be asked for instead: zero makes every host start a fresh up interval at time zero (a project's
/// launch day).
/// </summary>
public static class ChurnTimeline
{
    /// <summary>The host's intervals from time zero, the first clipped to start at zero, endless unless the host leaves for good.</summary>
    /// <param name="host">The host's process.</param>
    /// <param name="random">The host's stream.</param>
    /// <param name="warmUp">Null (the default) for the stationary start; otherwise how long the process runs, starting up, before time zero.</param>
    public static IEnumerable<AvailabilityInterval> Generate(HostChurn host, RandomSource random, TimeSpan? warmUp = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        double time;
        bool up;
        double? covering = null; // the stationary start's first interval, drawn length-biased
        if (warmUp is { } w)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(w, TimeSpan.Zero);
            time = -w.TotalHours;
            up = true;
        }
        else
        {
            var meanUp = host.MeanUpHours;
            var meanDown = host.MeanDownHours;
            up = random.NextDouble() * (meanUp + meanDown) < meanUp;
            covering = up ? host.LengthBiasedUpHours(random) : host.LengthBiasedDownHours(random);
            time = -(covering.Value * random.NextDouble());
        }

        while (true)
        {
            var length = covering ?? (up ? host.NextUpHours(random) : host.NextDownHours(random));
            var end = covering is null ? time + length : Math.Max(time + length, double.Epsilon);
            covering = null;
            if (end > 0)
            {
                foreach (var interval in Emit(host, up, Math.Max(time, 0), end))
                {
                    yield return interval;
                    if (double.IsPositiveInfinity(interval.EndHours))
                    {
                        yield break;
                    }
                }
            }

            time = end;
            up = !up;
        }
    }

    /// <summary>The host's intervals within [0, <paramref name="hours"/>], the last clipped at the end.</summary>
    public static IEnumerable<AvailabilityInterval> Within(HostChurn host, RandomSource random, double hours, TimeSpan? warmUp = null)
    {
        foreach (var interval in Generate(host, random, warmUp))
        {
            if (interval.StartHours >= hours)
            {
                yield break;
            }

            yield return interval with { EndHours = Math.Min(interval.EndHours, hours) };
        }
    }

    /// <summary>One interval [start, end), cut short by the host's permanent departure (which ends the timeline with an endless down interval).</summary>
    private static IEnumerable<AvailabilityInterval> Emit(HostChurn host, bool up, double start, double end)
    {
        if (host.LifetimeHours <= start)
        {
            yield return new AvailabilityInterval(false, start, double.PositiveInfinity);
        }
        else if (host.LifetimeHours < end)
        {
            if (up)
            {
                yield return new AvailabilityInterval(true, start, host.LifetimeHours);
                yield return new AvailabilityInterval(false, host.LifetimeHours, double.PositiveInfinity);
            }
            else
            {
                yield return new AvailabilityInterval(false, start, double.PositiveInfinity);
            }
        }
        else
        {
            yield return new AvailabilityInterval(up, start, end);
        }
    }
}
