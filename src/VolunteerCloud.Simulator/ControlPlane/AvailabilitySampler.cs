namespace VolunteerCloud.Simulator.ControlPlane;

/// <summary>
/// Turns samples of running slots per app into the availability metrics: share of samples an app was whole (all its
/// replicas running) or had any copy up, restore times (from the first sample an app was short to the first it was
/// whole again), the whole-app share over time, and how long after a mass failure every app was whole again.
/// </summary>
internal sealed class AvailabilitySampler(int apps)
{
    /// <summary>Sampling starts 10 minutes in (deploys settle first).</summary>
    public static readonly TimeSpan Start = TimeSpan.FromMinutes(10);

    private readonly long[] _whole = new long[apps];
    private readonly long[] _any = new long[apps];
    private readonly TimeSpan?[] _brokenSince = new TimeSpan?[apps];
    private readonly List<double> _restores = [];
    private readonly List<double> _overTime = [];
    private long _samples;
    private double _wholeAgain = double.NaN;

    /// <summary>Records one sample: <paramref name="slotsUp"/>[a] slots of app a run; it wants <paramref name="desired"/>(a).</summary>
    public void Record(TimeSpan t, int[] slotsUp, Func<int, int> desired, TimeSpan massFailureDone)
    {
        _samples++;
        var wholeNow = 0;
        for (var a = 0; a < slotsUp.Length; a++)
        {
            var up = slotsUp[a];
            var isWhole = up >= desired(a);
            _whole[a] += isWhole ? 1 : 0;
            _any[a] += up > 0 ? 1 : 0;
            wholeNow += isWhole ? 1 : 0;
            if (isWhole && _brokenSince[a] is { } since)
            {
                _restores.Add((t - since).TotalSeconds);
                _brokenSince[a] = null;
            }
            else if (!isWhole && _brokenSince[a] is null)
            {
                _brokenSince[a] = t;
            }
        }

        _overTime.Add(wholeNow / (double)slotsUp.Length);
        if (massFailureDone > TimeSpan.MinValue && double.IsNaN(_wholeAgain) && wholeNow == slotsUp.Length && t > massFailureDone)
        {
            _wholeAgain = (t - massFailureDone).TotalSeconds;
        }
    }

    /// <summary>The run's result.</summary>
    public ControlPlaneResult Result(ControlPlaneScenario scenario, long starts, double messagesPerNodeSecond, double bytesPerNodeSecond, long violations, IReadOnlyList<string> examples, int appsLost, long events)
    {
        var availability = _whole.Select(w => w / (double)_samples).Order().ToArray();
        _restores.Sort();
        return new ControlPlaneResult(
            scenario,
            availability.Average(),
            availability[(int)(availability.Length * 0.05)],
            _any.Average(s => s / (double)_samples),
            _restores.Count > 0 ? _restores.Average() : 0,
            _restores.Count > 0 ? _restores[(int)(_restores.Count * 0.95)] : 0,
            _restores.Count,
            starts,
            messagesPerNodeSecond,
            bytesPerNodeSecond,
            violations,
            examples,
            appsLost,
            _wholeAgain,
            events,
            [.. _overTime])
        {
            RestoreSeconds = [.. _restores],
        };
    }
}
